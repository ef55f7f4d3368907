#!/bin/bash
# Put rt-tests' pi_stress, pip_stress and ptsematest for one architecture,
# with the C library they load, into a directory laid out as the guest's
# root (usr/bin/..., lib/...): make-initramfs.sh packs it as it is.
# They are Debian's own binaries (package rt-tests, dynamically linked
# against glibc only) and the ld.so and libraries of Debian's libc6 for that
# architecture: Debian 12's rt-tests source does not download from the
# archive (its tarballs are gone), so there is nothing to build statically.
# Usage: scripts/fetch-rt-tests.sh ARCH OUTDIR
set -eu
. "$(dirname "$0")/lib.sh"

arch=$1 out=$(realpath -m "$2")
arch_conf "$arch"
progs="pi_stress pip_stress ptsematest"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (package dpkg)"
command -v readelf >/dev/null || die "readelf not found (package binutils)"

rt=$(apt_download rt-tests "$DEB_ARCH")
libc=$(apt_download libc6 "$DEB_ARCH")
stamp="$(basename "$rt") $(basename "$libc") $progs"
if [ "$(cat "$out/.debs" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi

x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
dpkg-deb -x "$rt" "$x" && dpkg-deb -x "$libc" "$x" ||
	die "cannot unpack $(basename "$rt") or $(basename "$libc")"
rm -rf "$out"
mkdir -p "$out/usr/bin"
# copy_lib NAME [DEST]: the library NAME from libc6, to its own path in
# the package, or to DEST (the interpreter's absolute path).
copy_lib() {
	local f dest
	f=$(find "$x/lib" "$x/usr/lib" -name "$1" -type f 2>/dev/null | head -n 1)
	[ -n "$f" ] || die "$(basename "$libc") has no $1"
	dest=$out/${2:-${f#"$x"/}}
	mkdir -p "$(dirname "$dest")"
	cp "$f" "$dest"
}
for p in $progs; do
	[ -f "$x/usr/bin/$p" ] || die "$(basename "$rt") has no usr/bin/$p"
	cp "$x/usr/bin/$p" "$out/usr/bin/"
	interp=$(readelf -l "$x/usr/bin/$p" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
	[ -n "$interp" ] || die "$p: no ELF interpreter"
	[ -f "$out$interp" ] || copy_lib "$(basename "$interp")" "$interp"
	for lib in $(readelf -d "$x/usr/bin/$p" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ "$lib" = "$(basename "$interp")" ] || copy_lib "$lib"
	done
done
echo "$stamp" >"$out/.debs"
log "rt-tests for $arch: $(basename "$rt"), $(basename "$libc")"
