#!/bin/bash
# make bench: what the series costs at runtime. Boots the unpatched and the
# patched kernel of one tree and arch alternately (A B A B ...), without the
# lock debugging (DEBUG=0), runs bench/futex_pi_bench in each,
# and reports per figure the median of each side and the ratio
# patched/unpatched with the spread of the per-pair ratios.
# CONTROL=1 boots the unpatched kernel on both sides (an A/A run): its
# ratios show the noise, and any bias of the boot order, of the method.
# Env: ARCH, KERNEL (6.1-rt), BOOTS (5), SMP, CONTROL, OUT
set -eu
. "$(dirname "$0")/lib.sh"

kernel=${KERNEL:-6.1-rt} arch=${ARCH:-x86_64} boots=${BOOTS:-5} control=${CONTROL:-0}
out=$(realpath -m "${OUT:-$TOP/out}")
arch_conf "$arch"
suffix= what="$kernel $arch"
if [ "$control" = 1 ]; then
	suffix=-control what="$what, CONTROL: unpatched on both sides"
fi
dir=$out/bench/$kernel-$arch-smp${SMP:-2}$suffix
# The build directory of LOCK_DEBUG=0 (make run, make check cells).
bld=$out/build/$kernel-$arch-nodebug
mkdir -p "$dir/extra" "$dir/tests/futex-pi" "$dir/tests/futex"
t0=$SECONDS

stage "dependencies" "$TOP/scripts/deps.sh"
for v in unpatched patched; do
	if [ "$v" = patched ] && [ "$control" = 1 ]; then
		log "control run: the unpatched kernel stands in for the patched one"
		cp "$dir/unpatched.img" "$dir/patched.img"
		continue
	fi
	upto=0
	[ "$v" = patched ] && upto=all
	src=$(stage "tree $kernel, $v" "$TOP/scripts/prepare-tree.sh" "$kernel" "$out/src/$kernel" "$upto" 0)
	LOCK_DEBUG=0 stage "build $v kernel ($arch, no lock debugging)" \
		"$TOP/scripts/build-kernel.sh" "$src" "$bld" "$arch" 1
	cp "$bld/$BOOT_IMAGE" "$dir/$v.img"
done

"$TEST_CC" -static -O2 -Wall -o "$dir/tests/init" "$TOP/guest/init.c"
"$TEST_CC" -static -O2 -Wall -pthread -o "$dir/extra/futex_pi_bench" "$TOP/bench/futex_pi_bench.c"
: >"$dir/tests/list.futex-pi"
: >"$dir/tests/list.futex"
EXTRA_TIMEOUT=300 "$TOP/scripts/make-initramfs.sh" "$bld" "$dir/tests" "$dir/initrd" "$dir/extra"

for i in $(seq 1 "$boots"); do
	for v in unpatched patched; do
		rc=0
		stage "boot $i/$boots: $v" env TIMEOUT=600 "$TOP/scripts/boot-qemu.sh" "$arch" \
			"$dir/$v.img" "$dir/initrd" "$dir/$v-$i.log" || rc=$?
		grep -q '^ok 2 extra/futex_pi_bench' "$dir/$v-$i.log" ||
			die "benchmark run $v $i failed (rc $rc); see $dir/$v-$i.log"
		sed -n 's/^ *bench: //p' "$dir/$v-$i.log" | tr -d '\r' >"$dir/$v-$i.txt"
	done
done

"$TOP/scripts/bench-report.sh" "$dir" "$boots" "$what" "$((SECONDS - t0))"
