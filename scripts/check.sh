#!/bin/bash
# The test command (README, .ci/run): the verification matrix. Each cell
# boots one kernel in one series state and must match its expectation:
#   pass   every test passes and the kernel log is clean
#   bug    the debug assertion warns from futex_lock_pi and
#          futex_wait_requeue_pi (the bug is there and is seen)
#   einval the stale pi_state test fails with EINVAL (fix without follow-up)
#   builds the kernel builds (bisect step); nothing is booted
# The first cell, selftest, tests the verdict code itself (make selftest).
# A cell whose guest hangs or panics fails, whatever its expectation.
# Writes OUT/matrix.md and OUT/matrix.xml (JUnit); the last line printed is
# "N passed, N failed" counting cells. CELLS="a b" runs only those cells.
set -u
. "$(dirname "$0")/lib.sh"

out=$(realpath -m "${OUT:-$TOP/out}")
nseries=$(series_patches "$TOP/patches" | wc -l)

# name            tree     arch    upto  debug expect
matrix="
selftest          selftest host    -     -     pass
host              host     host    -     -     pass
rt-x86-bug        6.1-rt   x86_64  0     1     bug
rt-x86-partial    6.1-rt   x86_64  1     1     einval
rt-x86-fixed      6.1-rt   x86_64  all   1     pass
rt-arm64-bug      6.1-rt   arm64   0     1     bug
rt-arm64-fixed    6.1-rt   arm64   all   1     pass
mainline-x86      6.12-rt  x86_64  all   1     pass
nonrt-x86-fixed   6.1      x86_64  all   0     pass
$(for i in $(seq 1 "$nseries"); do
	echo "bisect-rt-x86-$i 6.1-rt x86_64 $i 0 builds"
	echo "bisect-rt-arm64-$i 6.1-rt arm64 $i 0 builds"
	echo "bisect-nonrt-x86-$i 6.1 x86_64 $i 0 builds"
done)
"

mkdir -p "$out/cells"
stage "dependencies" "$TOP/scripts/deps.sh" || exit 1
pass=0 fail=0 t0=$SECONDS
rows= junit=

# "file:line" of each lockdep_assert() the debug series adds, as they are
# in the working copy SRC (which is in the state the cell just ran).
assert_sites() {
	(cd "$1" && grep -n -F 'lockdep_assert(!current->pi_blocked_on);' \
		kernel/locking/rtmutex.c kernel/locking/rwbase_rt.c kernel/locking/spinlock_rt.c |
		cut -d: -f1,2 | paste -sd,)
}

# verdict RC EXPECT LOG RUNDIR SRC: print "observed" and return 0 if the
# cell met its expectation. Booted cells are judged by scripts/verdict.py
# from the serial log (an expected failure must fail for the expected
# reason only); builds by the exit status.
verdict() {
	local rc=$1 expect=$2 logf=$3 run=$4 src=$5 out qrc
	if [ "$expect" = builds ] || [ ! -f "$run/serial.log" ]; then
		if [ "$rc" = 0 ]; then tail -n 1 "$logf"; return 0; fi
		echo "FAILED: $(grep -m1 -E '^ *not ok|^error:' "$logf" | sed 's/^ *//')"
		return 1
	fi
	if [ "$expect" = pass ] && [ "$rc" = 0 ]; then
		# make run's own verdict (the same program) already passed.
		sed -n 's/^verdict: ok: //p' "$logf" | tail -n 1
		return 0
	fi
	qrc=$(cat "$run/qemu-rc" 2>/dev/null || echo 0)
	out=$("$TOP/scripts/verdict.py" --expect "$expect" --qemu-rc "${qrc:-0}" \
		--config "$run/config" --sites "$(assert_sites "$src")" "$run/serial.log")
	rc=$?
	echo "$out" | sed -n 's/^verdict: [a-zA-Z]*: //p' | tail -n 1
	return "$rc"
}

while read -r name tree arch upto debug expect; do
	[ -n "$name" ] || continue
	case " ${CELLS:-$name} " in *" $name "*) ;; *) continue ;; esac
	logf=$out/cells/$name.log t=$SECONDS rc=0
	log "matrix: $name ($tree $arch UPTO=$upto DEBUG=$debug, expect $expect)"
	if [ "$tree" = selftest ]; then
		"$TOP/scripts/verdict_test.py" >"$logf" 2>&1 || rc=$?
		run=$out/selftest
	elif [ "$tree" = host ]; then
		OUT=$out "$TOP/scripts/host-test.sh" >"$logf" 2>&1 || rc=$?
		run=$out/host-test
	elif [ "$expect" = builds ]; then
		( set -e
		  src=$("$TOP/scripts/prepare-tree.sh" "$tree" "$out/src/$tree" "$upto" "$debug")
		  rt=1; [ "$tree" = 6.1 ] && rt=0
		  "$TOP/scripts/build-kernel.sh" "$src" "$out/build/$tree-$arch" "$arch" $rt
		  echo "built $tree $arch with the first $upto patch(es)" ) >"$logf" 2>&1 || rc=$?
		run=$out/build/$tree-$arch
	else
		# No verdict on a log a previous run left behind.
		run=$out/runs/$tree-$arch-upto$upto-debug$debug
		rm -f "$run/serial.log" "$run/qemu-rc"
		OUT=$out KERNEL=$tree ARCH=$arch UPTO=$upto DEBUG=$debug KSRC= \
			"$TOP/scripts/run.sh" >"$logf" 2>&1 || rc=$?
	fi
	observed=$(verdict "$rc" "$expect" "$logf" "$run" "$out/src/$tree") && ok=1 || ok=0
	secs=$((SECONDS - t))
	if [ "$ok" = 1 ]; then
		pass=$((pass + 1)) v=ok
		junit="$junit<testcase name=\"$name\" time=\"$secs\"/>"
	else
		fail=$((fail + 1)) v=FAIL
		junit="$junit<testcase name=\"$name\" time=\"$secs\"><failure message=\"$(echo "$observed" | sed 's/[<>&"]/_/g')\"/></testcase>"
		tail -n 15 "$logf" | sed 's/^/    | /'
	fi
	log "matrix: $name: $v ($secs s): $observed"
	rows="$rows| $name | $tree | $arch | $upto | $debug | $expect | $(echo "$observed" | tr '|' '/') | $v | $secs s |
"
done <<<"$matrix"

{
	echo "| cell | tree | arch | UPTO | DEBUG | expected | observed | verdict | time |"
	echo "|---|---|---|---|---|---|---|---|---|"
	printf '%s' "$rows"
	echo
	echo "Total: $((SECONDS - t0)) s. Logs: $out/cells/, runs: $out/runs/."
} >"$out/matrix.md"
printf '<?xml version="1.0"?>\n<testsuite name="futex-pi-matrix" tests="%d" failures="%d">%s</testsuite>\n' \
	$((pass + fail)) "$fail" "$junit" >"$out/matrix.xml"
echo "--- matrix ($out/matrix.md)"
cat "$out/matrix.md"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ $((pass + fail)) -gt 0 ]
