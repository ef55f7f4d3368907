#!/bin/bash
# make selftest, second part: scripts/prebuilt-kernel.sh on bad input. Each
# case must fail with an error that names the problem and leave no output
# directory behind; the good cases must produce an image. Seconds, host only.
set -u
. "$(dirname "$0")/lib.sh"

P=$TOP/scripts/prebuilt-kernel.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 n=0

# fake_bzimage FILE: the bytes a 64-bit x86 bzImage header check looks at.
fake_bzimage() {
	head -c 4096 /dev/zero >"$1"
	printf 'HdrS' | dd of="$1" bs=1 seek=514 conv=notrunc status=none
	printf '\001' | dd of="$1" bs=1 seek=566 conv=notrunc status=none
}
# fake_arm64_image FILE: "ARM\x64" at 0x38.
fake_arm64_image() {
	head -c 4096 /dev/zero >"$1"
	printf 'ARM\144' | dd of="$1" bs=1 seek=56 conv=notrunc status=none
}
# fake_deb FILE ARCH [IMAGE]: a Debian package, with boot/vmlinuz-* if IMAGE.
fake_deb() {
	local d=$tmp/deb-$RANDOM
	mkdir -p "$d/DEBIAN" "$d/boot"
	printf 'Package: fake-image\nVersion: 1\nArchitecture: %s\nMaintainer: nobody <nobody@localhost>\nDescription: test\n' \
		"$2" >"$d/DEBIAN/control"
	[ -z "${3:-}" ] || cp "$3" "$d/boot/vmlinuz-6.1.0-fake"
	echo '# fake' >"$d/boot/config-6.1.0-fake"
	dpkg-deb --build --root-owner-group "$d" "$1" >/dev/null
}

# expect OUTCOME WHAT ARCH FILE: run it and check outcome and message.
expect() {
	local want=$1 what=$2 arch=$3 file=$4 out=$tmp/out-$n rc=0 msg
	n=$((n + 1))
	msg=$("$P" "$arch" "$file" "$out" 2>&1) || rc=$?
	if [ "$want" = ok ]; then
		if [ "$rc" = 0 ] && [ -s "$out/image" ]; then
			pass=$((pass + 1)); echo "ok $n $arch: $(basename "$file")"
		else
			fail=$((fail + 1)); echo "not ok $n $arch: $(basename "$file"): exit $rc: $msg"
		fi
	elif [ "$rc" != 0 ] && echo "$msg" | grep -q -- "$what" && [ ! -e "$out" ] && [ ! -e "$out.tmp" ]; then
		pass=$((pass + 1)); echo "ok $n $arch: $(basename "$file"): $(echo "$msg" | tail -n 1)"
	else
		fail=$((fail + 1)); echo "not ok $n $arch: $(basename "$file"): exit $rc, wanted '$what': $msg"
	fi
}

fake_bzimage "$tmp/bzImage"
fake_arm64_image "$tmp/Image"
gzip -c "$tmp/Image" >"$tmp/Image.gz"
echo 'not a kernel' >"$tmp/notes.txt"
fake_deb "$tmp/good_amd64.deb" amd64 "$tmp/bzImage"
fake_deb "$tmp/good_arm64.deb" arm64 "$tmp/Image"
fake_deb "$tmp/noimage_amd64.deb" amd64
fake_deb "$tmp/wrongimage_amd64.deb" amd64 "$tmp/Image"
echo '!<arch>' >"$tmp/broken.deb"

expect ok '' x86_64 "$tmp/bzImage"
expect ok '' arm64 "$tmp/Image"
expect ok '' arm64 "$tmp/Image.gz"
expect ok '' x86_64 "$tmp/good_amd64.deb"
expect ok '' arm64 "$tmp/good_arm64.deb"
expect fail 'no such file' x86_64 "$tmp/missing"
expect fail 'not a kernel image for x86_64' x86_64 "$tmp/notes.txt"
expect fail 'not a kernel image for arm64' arm64 "$tmp/bzImage"
expect fail 'not a kernel image for x86_64' x86_64 "$tmp/Image"
expect fail 'a .deb without a kernel image' x86_64 "$tmp/noimage_amd64.deb"
expect fail 'a package for amd64, not for ARCH=arm64' arm64 "$tmp/good_amd64.deb"
expect fail 'is not a kernel image for x86_64' x86_64 "$tmp/wrongimage_amd64.deb"
expect fail 'not a Debian package' x86_64 "$tmp/broken.deb"
expect fail "unknown ARCH 'riscv'" riscv "$tmp/bzImage"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
