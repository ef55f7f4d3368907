#!/bin/bash
# The test command (README, .ci/run): the verification matrix. Each cell
# boots one kernel in one series state and must match its expectation:
#   pass   every test passes and the kernel log is clean
#   bug    the assertion warns from futex_lock_pi and
#          futex_wait_requeue_pi (the bug is there and is seen): the series
#          up to the assertion, without the futex fix
#   plug   the assertion warns from a block plug flush in
#          sched_submit_work(), during rt-plug/plug_flush only (the other
#          recursion the series fixes): the series up to the scheduler
#          helpers, before the rtmutex code uses them, with the assertion
#          (patch 6) added by DEBUG=1; only rt-plug runs
#   einval the stale pi_state test fails with EINVAL (fix without follow-up)
#   stale  without lock debugging: stale_boost sees the owner keep a leaving
#          waiter's boost, and nothing else fails (the bug as user space
#          sees it on the kernels people run)
#   deadlock  6.12-rt with the upstream selftest but not the ww_ctx fix
#          (patches/upstream): futex_lock_pi_deadlock fails because
#          FUTEX_LOCK_PI timed out instead of returning EDEADLK, and
#          nothing else fails; only that program runs. mainline-x86 (both
#          patches) must pass it.
#   builds the kernel builds (bisect step); nothing is booted. A step whose
#          stack changes only .c files compiles the directories it
#          touches, without linking; from the first other file on
#          (patch 4's header) the whole kernel is built. The steps run
#          from the last patch down: each after the first is an
#          incremental build of the one before, and only the compile-only
#          steps at the bottom see the task_struct without patch 4
# The first cell, selftest, tests the verdict code itself and the checks
# of KIMAGE= on bad input (make selftest); the cell patches tests what
# other trees take: make mbox's output with git am and b4, make apply and
# make unapply in git, quilt and plain mode (scripts/patches_test.sh).
# A cell whose guest hangs or panics fails, whatever its expectation.
# LOCKDBG=0 builds without lock debugging, in a build directory of its own
# (the one make bench uses); tree "debian-rt" boots Debian's shipped RT
# kernel (make run KERNEL=debian-rt), nothing is built.
# Writes OUT/matrix.md and OUT/matrix.xml (JUnit); the last line printed is
# "N passed, N failed" counting cells. CELLS="a b" runs only those cells;
# the cells of $on_demand run only when CELLS names them.
set -u
. "$(dirname "$0")/lib.sh"

out=$(realpath -m "${OUT:-$TOP/out}")
nseries=$(series_patches "$TOP/patches" | wc -l)
# The futex fix's place in the series: the bug cells stop before it.
fix=$(series_patches "$TOP/patches" | grep -n -- '-futex-pi-Fix-recursive-rt_mutex-waiter-state' | cut -d: -f1)
[ -n "$fix" ] || die "patches/series has no futex fix"
# The block plug cell stops before the rtmutex code uses the scheduler
# helpers: patch 4 (sched.h) is in, so it shares the bug cells' build.
uses=$(series_patches "$TOP/patches" | grep -n -- '-locking-rtmutex-Use-rt_mutex-specific-scheduler' | cut -d: -f1)
[ -n "$uses" ] || die "patches/series has no 'Use rt_mutex specific scheduler helpers'"

# name               tree      arch    upto  debug lockdbg expect
matrix="
selftest             selftest  host    -     -     -       pass
host                 host      host    -     -     -       pass
patches              patches   host    -     -     -       pass
rt-x86-bug           6.1-rt    x86_64  $((fix - 1))     0     1       bug
rt-x86-partial       6.1-rt    x86_64  $fix     0     1       einval
rt-x86-fixed         6.1-rt    x86_64  all   0     1       pass
rt-x86-plug          6.1-rt    x86_64  $((uses - 1))     1     1       plug
rt-x86-bug-nodebug   6.1-rt    x86_64  0     0     0       stale
rt-arm64-bug         6.1-rt    arm64   $((fix - 1))     0     1       bug
rt-arm64-fixed       6.1-rt    arm64   all   0     1       pass
rt-arm64-plug        6.1-rt    arm64   $((uses - 1))     1     1       plug
rt-arm64-bug-nodebug 6.1-rt    arm64   0     0     0       stale
debian-rt-x86        debian-rt x86_64  -     -     0       stale
mainline-x86         6.12-rt   x86_64  all   0     1       pass
mainline-x86-deadlock 6.12-rt  x86_64  1     0     1       deadlock
nonrt-x86-fixed      6.1       x86_64  all   0     1       pass
$(for i in $(seq "$nseries" -1 1); do
	echo "bisect-rt-x86-$i 6.1-rt x86_64 $i 0 1 builds"
	echo "bisect-rt-arm64-$i 6.1-rt arm64 $i 0 1 builds"
	echo "bisect-nonrt-x86-$i 6.1 x86_64 $i 0 1 builds"
done)
"

# Cells that run only when CELLS names them: each costs a cold compile
# that the cells above already cover. rt-x86-bug-nodebug (our x86_64
# build without lock debugging, 354 s of a cold make check) shows what
# debian-rt-x86 (x86_64, no lock debugging, the kernel Debian ships) and
# rt-arm64-bug-nodebug (our build, no lock debugging) show; dropped to
# keep a cold make check under an hour (BENCHMARKS.md).
on_demand="rt-x86-bug-nodebug"

mkdir -p "$out/cells"
stage "dependencies" "$TOP/scripts/deps.sh" || exit 1
pass=0 fail=0 t0=$SECONDS
rows= junit=

# "file:line" of each lockdep_assert(!current->pi_blocked_on) (patch 6 of
# the series), as they are in the working copy SRC (in
# the state the cell just ran); none for a cell without a tree (debian-rt).
assert_sites() {
	[ -d "$1" ] || return 0
	(cd "$1" && grep -n -F 'lockdep_assert(!current->pi_blocked_on);' \
		kernel/locking/rtmutex.c kernel/locking/rwbase_rt.c kernel/locking/spinlock_rt.c |
		cut -d: -f1,2 | paste -sd,)
}

# verdict RC EXPECT LOG RUNDIR SRC: print "observed" and return 0 if the
# cell met its expectation. Booted cells are judged by scripts/verdict.py
# from the serial log (an expected failure must fail for the expected
# reason only); builds by the exit status.
verdict() {
	local rc=$1 expect=$2 logf=$3 run=$4 src=$5 out qrc cfg
	if [ "$expect" = builds ] || [ ! -f "$run/serial.log" ]; then
		if [ "$rc" = 0 ]; then tail -n 1 "$logf"; return 0; fi
		echo "FAILED: $(grep -m1 -E '^ *not ok|^error:' "$logf" | sed 's/^ *//')"
		return 1
	fi
	if [ "$expect" = pass ] && [ "$rc" = 0 ]; then
		# make run's own verdict (the same program) already passed; on
		# 6.12-rt the upstream ww_ctx selftest must have been among them.
		if [ "$tree" = 6.12-rt ] && ! grep -qx 'ok [0-9]* futex/futex_lock_pi_deadlock' "$run/results.txt"; then
			echo "FAILED: futex/futex_lock_pi_deadlock did not pass ($run/results.txt)"
			return 1
		fi
		sed -n 's/^verdict: ok: //p' "$logf" | tail -n 1
		return 0
	fi
	qrc=$(cat "$run/qemu-rc" 2>/dev/null || echo 0)
	cfg=$run/config
	[ -f "$cfg" ] || cfg=$run/kernel/config
	out=$("$TOP/scripts/verdict.py" --expect "$expect" --qemu-rc "${qrc:-0}" \
		--config "$cfg" --sites "$(assert_sites "$src")" "$run/serial.log")
	rc=$?
	echo "$out" | sed -n 's/^verdict: [a-zA-Z]*: //p' | tail -n 1
	return "$rc"
}

while read -r name tree arch upto debug lockdbg expect; do
	[ -n "$name" ] || continue
	case " ${CELLS:-$name} " in *" $name "*) ;; *) continue ;; esac
	[ -z "${CELLS:-}" ] && case " $on_demand " in *" $name "*) continue ;; esac
	logf=$out/cells/$name.log t=$SECONDS rc=0
	log "matrix: $name ($tree $arch UPTO=$upto DEBUG=$debug LOCK_DEBUG=$lockdbg, expect $expect)"
	if [ "$tree" = selftest ]; then
		{ "$TOP/scripts/verdict_test.py" || rc=$?
		  "$TOP/scripts/prebuilt-kernel_test.sh" || rc=$?
		  echo "verdict: $(grep -E '^[0-9]+ passed' "$logf" | head -n 1 | sed 's/,//'); prebuilt kernels: $(grep -E '^[0-9]+ passed' "$logf" | sed -n 2p | sed 's/,//')"
		} >"$logf" 2>&1
		run=$out/selftest
	elif [ "$tree" = host ]; then
		OUT=$out "$TOP/scripts/host-test.sh" >"$logf" 2>&1 || rc=$?
		run=$out/host-test
	elif [ "$tree" = patches ]; then
		"$TOP/scripts/patches_test.sh" >"$logf" 2>&1 || rc=$?
		run=$out/patches
	elif [ "$expect" = builds ]; then
		# A stack that changes only .c files can break only the
		# directories it touches: compile those (no link). Anything
		# else (a header, Kconfig, a Makefile) gets a full build
		# (patch 4's task_struct field would otherwise cost every bisect
		# directory a second cold compile of all objects).
		files=$(series_patches "$TOP/patches" "$upto" | xargs sed -n 's|^+++ b/||p' | sort -u)
		targets=
		echo "$files" | grep -qv '\.c$' || targets=$(echo "$files" | xargs -n 1 dirname | sort -u | sed 's|$|/|' | paste -sd' ')
		( set -e
		  src=$("$TOP/scripts/prepare-tree.sh" "$tree" "$out/src/$tree" "$upto" "$debug")
		  rt=1; [ "$tree" = 6.1 ] && rt=0
		  TARGETS=$targets "$TOP/scripts/build-kernel.sh" "$src" "$out/build/$tree-$arch" "$arch" $rt
		  if [ -n "$targets" ]; then
			echo "compiled $targets of $tree $arch with the first $upto patch(es) (only .c files changed; not linked)"
		  else
			echo "built $tree $arch with the first $upto patch(es)"
		  fi ) >"$logf" 2>&1 || rc=$?
		run=$out/build/$tree-$arch
	else
		# No verdict on a log a previous run left behind.
		nd=
		[ "$lockdbg" = 0 ] && nd=-nodebug
		run=$out/runs/$tree-$arch-upto$upto-debug$debug$nd
		[ "$tree" = debian-rt ] && run=$out/runs/debian-rt-$arch
		rm -f "$run/serial.log" "$run/qemu-rc"
		only= skip_tests=
		[ "$expect" = plug ] && only=rt-plug/
		[ "$expect" = deadlock ] && only=futex/futex_lock_pi_deadlock
		# The RT sanity programs run where the whole series is (their
		# time goes to the cells that ship).
		[ "$expect" = pass ] || skip_tests=rt-sanity/
		OUT=$out KERNEL=$tree ARCH=$arch UPTO=$upto DEBUG=$debug LOCK_DEBUG=$lockdbg \
			ONLY=$only SKIP_TESTS=$skip_tests KSRC= KIMAGE= "$TOP/scripts/run.sh" >"$logf" 2>&1 || rc=$?
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
	rows="$rows| $name | $tree | $arch | $upto | $debug | $lockdbg | $expect | $(echo "$observed" | tr '|' '/') | $v | $secs s |
"
done <<<"$matrix"

{
	echo "| cell | tree | arch | UPTO | DEBUG | LOCK_DEBUG | expected | observed | verdict | time |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
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
