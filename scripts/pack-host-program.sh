#!/bin/bash
# Put a dynamically linked program of the host, with the shared libraries
# ldd resolves for it, into a directory laid out as the guest's root
# (usr/bin/..., lib/...): make-initramfs.sh packs it as it is. For a guest
# of the host's architecture only (make bench PERF=1 uses it for perf).
# Usage: scripts/pack-host-program.sh PROGRAM OUTDIR
set -eu
. "$(dirname "$0")/lib.sh"

prog=$(command -v "$1") || die "$1: no such program on the host (not found or not executable)"
out=$(realpath -m "$2")
command -v readelf >/dev/null || die "readelf not found (package binutils)"
readelf -l "$prog" 2>/dev/null | grep -q 'program interpreter' ||
	die "$prog is not a dynamically linked ELF program"
mkdir -p "$out$(dirname "$prog")"
cp -L "$prog" "$out$prog"
# ldd's lines: "libx.so.1 => /path (0x...)" and "/lib64/ld-linux... (0x...)"
libs=$(ldd "$prog" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || die "ldd found no libraries for $prog"
if ldd "$prog" | grep -q 'not found'; then
	die "$prog needs libraries the host does not have: $(ldd "$prog" | grep 'not found' | tr -s ' \t\n' ' ')"
fi
for l in $libs; do
	mkdir -p "$out$(dirname "$l")"
	cp -L "$l" "$out$l"
done
log "packed $prog and $(echo "$libs" | wc -l) libraries ($(du -sh "$out" | cut -f1))"
