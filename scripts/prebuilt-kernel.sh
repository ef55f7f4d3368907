#!/bin/bash
# Get a kernel that is already built ready to boot: check that FILE is a
# kernel image for ARCH, or unpack the image (and its config) from a Debian
# linux-image-*.deb; "debian-rt" downloads Debian 12's shipped PREEMPT_RT
# kernel for ARCH with apt first, "debian13-rt" Debian 13's (trixie, read
# through an apt state of our own: use_suite in lib.sh), "debian11-rt"
# Debian 11's (bullseye, the same way). Writes
# OUTDIR/image, OUTDIR/config (when the package has one) and OUTDIR/what
# (one line naming the kernel).
# Usage: scripts/prebuilt-kernel.sh ARCH FILE|debian-rt|debian13-rt|debian11-rt OUTDIR
set -eu
. "$(dirname "$0")/lib.sh"

arch=$1 what=$2 out=$(realpath -m "$3")
arch_conf "$arch"
debarch=$DEB_ARCH

# is_image FILE: a kernel image QEMU boots for $arch.
is_image() {
	case $arch in
	x86_64)
		# bzImage: "HdrS" at 0x202; xloadflags (0x236) bit 0: 64-bit entry.
		[ "$(od -An -c -j 514 -N 4 "$1" | tr -d ' ')" = HdrS ] &&
			[ $(($(od -An -tu1 -j 566 -N 1 "$1") & 1)) = 1 ]
		;;
	arm64)
		# arm64 Image: "ARM\x64" at 0x38; Debian ships it gzipped, which
		# QEMU unpacks itself.
		if [ "$(od -An -tx1 -N 2 "$1" | tr -d ' ')" = 1f8b ]; then
			[ "$(gzip -dc "$1" 2>/dev/null | od -An -tx1 -j 56 -N 4 | tr -d ' ')" = 41524d64 ]
		else
			[ "$(od -An -tx1 -j 56 -N 4 "$1" | tr -d ' ')" = 41524d64 ]
		fi
		;;
	esac
}

# fetch_debian_rt: download the linux-image-*-rt-$debarch that
# linux-image-rt-$debarch depends on, in its newest version or in
# version KVER (e.g. KVER=6.1.176-1); print the .deb's path.
fetch_debian_rt() {
	local meta=linux-image-rt-$debarch pkg want
	apt_arch "$debarch"
	apt_update_once
	want=$meta:$debarch${KVER:+=$KVER}
	pkg=$(apt-cache depends "$want" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { sub(/:.*/, "", $2); print $2; exit }')
	[ -n "$pkg" ] || die "apt knows no $want (apt-cache depends $want; apt-cache madison $meta lists the versions)"
	apt_download "$pkg" "$debarch" "${KVER:-}"
}

case $what in
debian-rt) what=$(fetch_debian_rt) ;;
debian13-rt) what=$(use_suite trixie && fetch_debian_rt) ;;
debian11-rt) what=$(use_suite bullseye && fetch_debian_rt) ;;
esac
[ -e "$what" ] || die "KIMAGE=$what: no such file"
[ -f "$what" ] && [ -r "$what" ] || die "KIMAGE=$what: not a readable file"

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
trap 'rm -rf "$out.tmp"' EXIT
if [ "$(head -c 8 "$what")" = '!<arch>' ]; then
	command -v dpkg-deb >/dev/null || die "dpkg-deb not found (package dpkg)"
	dpkg-deb -I "$what" >/dev/null 2>&1 || die "KIMAGE=$what: not a Debian package (dpkg-deb cannot read it)"
	pkgarch=$(dpkg-deb -f "$what" Architecture)
	[ "$pkgarch" = "$debarch" ] || die "KIMAGE=$what: a package for $pkgarch, not for ARCH=$arch ($debarch)"
	# The image, its config, and the lock torture modules if the package
	# has them (rt-sanity/lock_torture loads them; uncompressed only).
	dpkg-deb --fsys-tarfile "$what" | tar -x -C "$out.tmp" --wildcards './boot/*' \
		'./lib/modules/*/kernel/kernel/torture.ko' \
		'./lib/modules/*/kernel/kernel/locking/locktorture.ko' 2>/dev/null || true
	mkdir -p "$out.tmp/modules"
	find "$out.tmp/lib" -name '*.ko' -exec mv {} "$out.tmp/modules/" \; 2>/dev/null || true
	rm -rf "$out.tmp/lib"
	img=$(ls "$out.tmp"/boot/vmlinu[xz]-* 2>/dev/null | head -n 1 || true)
	[ -n "$img" ] || die "KIMAGE=$what: a .deb without a kernel image (no boot/vmlinuz-*): $(dpkg-deb -f "$what" Package)"
	is_image "$img" || die "KIMAGE=$what: its $(basename "$img") is not a kernel image for $arch"
	mv "$img" "$out.tmp/image"
	cfg=$(ls "$out.tmp"/boot/config-* 2>/dev/null | head -n 1 || true)
	[ -z "$cfg" ] || mv "$cfg" "$out.tmp/config"
	echo "$(dpkg-deb -f "$what" Package) $(dpkg-deb -f "$what" Version) ($(basename "$what"))" >"$out.tmp/what"
	rm -rf "$out.tmp/boot"
else
	is_image "$what" || die "KIMAGE=$what: not a kernel image for $arch ($([ "$arch" = x86_64 ] && echo 'a 64-bit bzImage' || echo 'an arm64 Image, plain or gzipped'))"
	cp "$what" "$out.tmp/image"
	echo "$(realpath "$what")" >"$out.tmp/what"
fi
rm -rf "$out"
mv "$out.tmp" "$out"
trap - EXIT
log "kernel: $(cat "$out/what")"
