#!/bin/bash
# make bench: what the series costs at runtime. Boots the unpatched and the
# patched kernel of one tree and arch alternately (A B A B ...), without the
# lock debugging (DEBUG=0), runs bench/futex_pi_bench in each,
# and reports per figure the median of each side and the ratio
# patched/unpatched with the spread of the per-pair ratios.
# CONTROL=1 boots the unpatched kernel on both sides (an A/A run): its
# ratios show the noise, and any bias of the boot order, of the method.
# MAINLINE=1 adds mainline-rt (7.2: the upstream fix, no series; until
# 2026-12-07 it was 6.12-rt, see BENCHMARKS.md) as a third side in
# the same rotation (A B M A B M ...); the report then gives each 6.1-rt
# figure as a fraction of mainline's.
# PERF=1 also runs Debian's `perf bench futex lock-pi` (the host's
# linux-perf and its libraries, packed into the initramfs: host arch only).
# BENCH_ARGS: options for futex_pi_bench (see its -h), e.g. "-S other".
# Env: ARCH, KERNEL (6.1-rt), BOOTS (5), SMP, CONTROL, MAINLINE, PERF,
# BENCH_ARGS, APPEND (boot-qemu.sh: kernel command line), OUT
set -eu
. "$(dirname "$0")/../lib.sh"

kernel=${KERNEL:-6.1-rt} arch=${ARCH:-x86_64} boots=${BOOTS:-5} control=${CONTROL:-0}
mainline=${MAINLINE:-0} perf=${PERF:-0}
out=$(realpath -m "${OUT:-$TOP/out}")
lock_out "$out"
arch_conf "$arch"
case $boots in '' | *[!0-9]* | 0) die "BOOTS=$boots: a positive number of boots per side" ;; esac
for v in control mainline perf; do
	case ${!v} in 0 | 1) ;; *) die "${v^^}=${!v}: 0 or 1" ;; esac
done
[ "$mainline" = 0 ] || [ "$kernel" = 6.1-rt ] ||
	die "MAINLINE=1 compares 6.1-rt with mainline-rt; KERNEL=$kernel"
host_arch=$(uname -m)
[ "$host_arch" = aarch64 ] && host_arch=arm64
[ "$perf" = 0 ] || [ "$arch" = "$host_arch" ] ||
	die "PERF=1 packs the host's perf: ARCH=$arch is not the host's ($host_arch)"
suffix= what="$kernel $arch"
sides="unpatched patched"
if [ "$control" = 1 ]; then
	suffix=-control what="$what, CONTROL: unpatched on both sides"
fi
if [ "$mainline" = 1 ]; then
	sides="$sides mainline" suffix=$suffix-mainline what="$what, and mainline-rt"
fi
# A run with its own options gets its own directory, named for them.
if [ -n "${BENCH_ARGS:-}${APPEND:-}" ]; then
	suffix=$suffix-$(printf '%s' "${BENCH_ARGS:-} ${APPEND:-}" | tr -cs 'A-Za-z0-9,.=' '_' | sed 's/^_//; s/_$//')
	what="$what, BENCH_ARGS='${BENCH_ARGS:-}' APPEND='${APPEND:-}'"
fi
# x86_64 under TCG: 6.1 finds the vCPUs' TSCs unsynchronised and falls back
# to the HPET (every clock_gettime() a syscall and an emulated MMIO read),
# 6.12 keeps the TSC. The benchmark reads the clock in its hot loops, so
# every side gets the TSC (BENCHMARKS.md, "6.12-rt as the anchor").
if [ "$arch" = x86_64 ]; then
	export APPEND="tsc=reliable ${APPEND:-}"
fi
dir=$out/bench/$kernel-$arch-smp${SMP:-2}$suffix
# The build directories of LOCK_DEBUG=0 (make run, make check cells).
bld=$out/build/$kernel-$arch-nodebug
rm -rf "$dir/tests" "$dir/extra"
mkdir -p "$dir/tests/futex-pi" "$dir/tests/futex"
t0=$SECONDS

stage "dependencies" "$TOP/scripts/deps.sh"
for v in $sides; do
	if [ "$v" = patched ] && [ "$control" = 1 ]; then
		log "control run: the unpatched kernel stands in for the patched one"
		cp "$dir/unpatched.img" "$dir/patched.img"
		continue
	fi
	tree=$kernel upto=0 b=$bld
	[ "$v" = patched ] && upto=all
	# mainline-rt with patches/upstream, as make run and make check build it.
	[ "$v" = mainline ] && tree=mainline-rt upto=all b=$out/build/mainline-rt-$arch-nodebug
	src=$(stage "tree $tree, $v" "$TOP/scripts/prepare-tree.sh" "$tree" "$out/src/$tree" "$upto" 0)
	LOCK_DEBUG=0 stage "build $v kernel ($tree $arch, no lock debugging)" \
		"$TOP/scripts/build-kernel.sh" "$src" "$b" "$arch" 1
	cp "$b/$BOOT_IMAGE" "$dir/$v.img"
done

"$TEST_CC" -static -O2 -Wall -o "$dir/tests/init" "$TOP/guest/init.c"
"$TEST_CC" -static -O2 -Wall -pthread -o "$dir/tests/futex-pi/futex_pi_bench" "$TOP/bench/futex_pi_bench.c"
# One list line per program: NAME TIMEOUT PATH [ARG...] (guest/init.c).
echo "futex-pi/futex_pi_bench 300 /tests/futex-pi/futex_pi_bench ${BENCH_ARGS:-}" >"$dir/tests/list.futex-pi"
if [ "$perf" = 1 ]; then
	# Debian's linux-perf diverts the linux-base wrapper: /usr/bin/perf is the program.
	dpkg-query -W -f='${Status}\n' linux-perf 2>/dev/null | grep -q '^install ok installed' ||
		apt_install linux-perf
	stage "perf for the guest" "$TOP/scripts/pack-host-program.sh" perf "$dir/tests/rootfs"
	echo "perf/bench-futex-lock-pi 120 /usr/bin/perf bench futex lock-pi -r 3" >"$dir/tests/list.futex"
else
	: >"$dir/tests/list.futex"
fi
"$TOP/scripts/make-initramfs.sh" "$bld" "$dir/tests" "$dir/initrd"

for i in $(seq 1 "$boots"); do
	for v in $sides; do
		rc=0
		stage "boot $i/$boots: $v" env TIMEOUT=600 "$TOP/scripts/boot-qemu.sh" "$arch" \
			"$dir/$v.img" "$dir/initrd" "$dir/$v-$i.log" || rc=$?
		"$TOP/scripts/verdict.py" --qemu-rc "$rc" --require futex-pi/futex_pi_bench \
			--json "$dir/$v-$i.json" "$dir/$v-$i.log" >"$dir/$v-$i.verdict" 2>&1 ||
			die "benchmark run $v $i failed: $("$TOP/scripts/matrix/matrix.py" get "$dir/$v-$i.json" observed); see $dir/$v-$i.log"
		{
			"$TOP/scripts/verdict.py" --output futex-pi/futex_pi_bench "$dir/$v-$i.log" | sed -n 's/^bench: //p'
			# perf bench: "Averaged N operations/sec (+- X%), total secs = S"
			[ "$perf" != 1 ] || "$TOP/scripts/verdict.py" --output perf/bench-futex-lock-pi "$dir/$v-$i.log" |
				sed -n 's/^ *Averaged \([0-9]*\) operations\/sec.*/perf_futex_lock_pi \1 ops\/s/p'
		} >"$dir/$v-$i.txt"
		if [ "$perf" = 1 ] && ! grep -q '^perf_futex_lock_pi ' "$dir/$v-$i.txt"; then
			die "perf bench futex lock-pi gave no figure in run $v $i; see $dir/$v-$i.log"
		fi
	done
done

SIDES="$sides" "$TOP/scripts/measure/bench-report.sh" "$dir" "$boots" "$what" "$((SECONDS - t0))"
