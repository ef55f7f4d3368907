#!/bin/bash
# Boot a kernel N times to an /init that only powers off, and count the boots
# that did not finish within the limit. Used to measure boot reliability.
# With PROGRAM, each boot also runs that (static) test program, and the boots
# in which it failed are counted too: a race's reproduction rate.
# Usage: scripts/measure/boot-loop.sh ARCH BUILDDIR IMAGE N [LIMIT_SECONDS [PROGRAM]]
set -eu
. "$(dirname "$0")/../lib.sh"

arch=$1 bld=$2 image=$3 n=$4 limit=${5:-60} prog=${6:-}
arch_conf "$arch"
dir=$(mktemp -d /tmp/boot-loop.XXXXXX)
mkdir -p "$dir/tests/futex-pi" "$dir/tests/futex"
: >"$dir/tests/list.futex-pi"
if [ -n "$prog" ]; then
	cp "$prog" "$dir/tests/futex-pi/"
	echo "futex-pi/$(basename "$prog") $limit /tests/futex-pi/$(basename "$prog")" >"$dir/tests/list.futex-pi"
fi
: >"$dir/tests/list.futex"
"$TEST_CC" -static -O2 -Wall -o "$dir/tests/init" "$TOP/guest/init.c"
"$TOP/scripts/make-initramfs.sh" "$bld" "$dir/tests" "$dir/initrd"

ok=0 hung=0 other=0 failed=0 t0=$SECONDS
for i in $(seq 1 "$n"); do
	rc=0
	TIMEOUT=$limit "$TOP/scripts/boot-qemu.sh" "$arch" "$image" "$dir/initrd" "$dir/serial.log" || rc=$?
	"$TOP/scripts/verdict.py" --qemu-rc "$rc" --json "$dir/verdict.json" "$dir/serial.log" >/dev/null 2>&1 || true
	if [ "$("$TOP/scripts/matrix/matrix.py" get "$dir/verdict.json" guest)" = finished ]; then
		ok=$((ok + 1))
		if [ -n "$prog" ] && [ "$("$TOP/scripts/matrix/matrix.py" get "$dir/verdict.json" results.1.ok)" != yes ]; then
			failed=$((failed + 1))
			cp "$dir/serial.log" "$dir/failed-$i.log"
		fi
	elif [ "$rc" = 124 ]; then
		hung=$((hung + 1))
		cp "$dir/serial.log" "$dir/hung-$i.log"
		log "boot $i hung: $("$TOP/scripts/matrix/matrix.py" get "$dir/verdict.json" guest)"
	else
		other=$((other + 1))
		cp "$dir/serial.log" "$dir/other-$i.log"
	fi
done
echo "$arch $(basename "$image"): $n boots, $ok finished, $hung hung, $other other${prog:+, $(basename "$prog") failed in $failed}, $((SECONDS - t0)) s (logs: $dir)"
