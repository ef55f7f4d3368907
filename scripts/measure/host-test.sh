#!/bin/bash
# The fast tier: build the futex-pi suite for this machine and run it on the
# running kernel, then the benchmark for a short run. A program fails on a
# non-zero exit (4 = skip) or on any "not ok" line in its KTAP output.
# Last line: "N passed, N failed, N skipped".
set -eu
. "$(dirname "$0")/../lib.sh"

out=$(realpath -m "${OUT:-$TOP/out}")/host-test
lock_out "$(dirname "$out")"
stage "dependencies" "$TOP/scripts/deps.sh"
# The kselftest framework (lib.mk, kselftest_harness.h) comes from a tree.
tree=$(stage "kselftest framework" "$TOP/scripts/fetch-tree.sh" 6.1-rt)
stage "build futex-pi (host)" "$TOP/scripts/build-tests.sh" host "$tree" - "$out"

pass=0 fail=0 skip=0
echo "--- futex-pi on the host ($(uname -r))"
while read -r name limit path args; do
	bin=$out/futex-pi/$(basename "$path")
	case " $HOST_UNSAFE " in *" $name "*)
		echo "ok $name # SKIP it oopses a kernel that lacks 40a25d59e85b: check this one in a guest, make run KIMAGE=/boot/vmlinuz-\$(uname -r)"
		skip=$((skip + 1))
		continue ;;
	esac
	rc=0
	# 8>&-: a process a test leaves behind must not hold the run's lock.
	timeout --kill-after=5 "$limit" "$bin" $args >"$out/$(basename "$name").log" 2>&1 8>&- || rc=$?
	if grep -q '^not ok' "$out/$(basename "$name").log"; then
		why="not ok: $(grep -m1 '^not ok' "$out/$(basename "$name").log")"
		case $rc in 0 | 4) rc=1 ;; esac
	fi
	case $rc in
	0) echo "ok $name"; pass=$((pass + 1)) ;;
	4) echo "ok $name # SKIP"; skip=$((skip + 1)) ;;
	124) echo "not ok $name # TIMEOUT after $limit s"; fail=$((fail + 1)) ;;
	*) echo "not ok $name # exit $rc${why:+; $why}"; fail=$((fail + 1)) ;;
	esac
	why=
done <"$out/list.futex-pi"
# The benchmark (make bench) builds, and every mode runs, on this kernel.
rc=0
cc -static -O2 -Wall -pthread -o "$out/futex_pi_bench" "$TOP/bench/futex_pi_bench.c" &&
	timeout --kill-after=5 60 "$out/futex_pi_bench" -d 0.6 >"$out/futex_pi_bench.log" 2>&1 8>&- || rc=$?
if [ "$rc" = 0 ] && grep -q '^# futex_pi_bench: ok' "$out/futex_pi_bench.log"; then
	echo "ok bench/futex_pi_bench"; pass=$((pass + 1))
else
	echo "not ok bench/futex_pi_bench # exit $rc; see $out/futex_pi_bench.log"; fail=$((fail + 1))
fi
echo "logs: $out"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
