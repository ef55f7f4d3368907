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
# make unapply in git, quilt and plain mode (scripts/patches_test.sh); the
# last cell, lava, writes every booted cell of the run as a LAVA job from
# the kernel and initramfs it booted, has lava-run --validate each, and runs
# two of them through lava-run: their verdict must be the cell's
# (scripts/lava_test.sh, make lava). The cells are in scripts/cells.sh.
# A cell whose guest hangs or panics fails, whatever its expectation.
# LOCKDBG=0 builds without lock debugging, in a build directory of its own
# (the one make bench uses); tree "debian-rt" boots Debian's shipped RT
# kernel (make run KERNEL=debian-rt), nothing is built.
# Writes OUT/matrix.md and OUT/matrix.xml (JUnit); the last line printed is
# "N passed, N failed" counting cells. CELLS="a b" runs only those cells;
# the cells of $on_demand run only when CELLS names them.
set -u
. "$(dirname "$0")/lib.sh"

. "$TOP/scripts/cells.sh"

out=$(realpath -m "${OUT:-$TOP/out}")
matrix=$(matrix_rows) || exit 1


mkdir -p "$out/cells"
stage "dependencies" "$TOP/scripts/deps.sh" || exit 1
pass=0 fail=0 t0=$SECONDS
rows= junit= failed=

# verdict RC LOG RUNDIR SRC: print "observed" and return 0 if the cell
# met its expectation. Booted cells are judged by scripts/verdict.py from
# the serial log (an expected failure must fail for the expected reason
# only), with the options a LAVA run of the cell gets too (cell_verdict_args,
# saved in RUNDIR/verdict-args for make lava); the others by the exit status.
verdict() {
	local rc=$1 logf=$2 run=$3 src=$4 out cfg
	if ! cell_booted "$tree" "$expect" || [ ! -f "$run/serial.log" ]; then
		if [ "$rc" = 0 ]; then tail -n 1 "$logf"; return 0; fi
		echo "FAILED: $(grep -m1 -E '^ *not ok|^error:' "$logf" | sed 's/^ *//')"
		return 1
	fi
	cfg=$(cell_config "$run")
	cell_verdict_args "$src" >"$run/verdict-args"
	# shellcheck disable=SC2046 # the saved options, a word each
	out=$("$TOP/scripts/verdict.py" $(cat "$run/verdict-args") --qemu-rc "$(cat "$run/qemu-rc" 2>/dev/null || echo 0)" \
		--config "$cfg" "$run/serial.log")
	rc=$?
	echo "$out" | sed -n 's/^verdict: [a-zA-Z]*: //p' | tail -n 1
	return "$rc"
}

# The booted cells this run judged, and their verdicts (the lava cell
# runs their LAVA jobs).
booted=
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
	elif [ "$tree" = lava ]; then
		OUT=$out CELLS=$booted "$TOP/scripts/lava_test.sh" >"$logf" 2>&1 || rc=$?
		run=$out/lava
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
		run=$(cell_run_dir "$out")
		rm -f "$run/serial.log" "$run/qemu-rc" "$run/verdict-args"
		cell_run "$out" >"$logf" 2>&1 || rc=$?
	fi
	observed=$(verdict "$rc" "$logf" "$run" "$out/src/$tree") && ok=1 || ok=0
	secs=$((SECONDS - t))
	if [ "$ok" = 1 ]; then
		pass=$((pass + 1)) v=ok
		junit="$junit<testcase name=\"$name\" time=\"$secs\"/>"
	else
		fail=$((fail + 1)) v=FAIL
		failed="$failed$name: $observed (log: $logf)
"
		junit="$junit<testcase name=\"$name\" time=\"$secs\"><failure message=\"$(echo "$observed" | sed 's/[<>&"]/_/g')\"/></testcase>"
		tail -n 15 "$logf" | sed 's/^/    | /'
	fi
	log "matrix: $name: $v ($secs s): $observed"
	if cell_booted "$tree" "$expect" && [ -f "$run/verdict-args" ]; then
		booted="$booted $name"
		echo "$v: $observed" >"$out/cells/$name.verdict"
	fi
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
# The failed cells again, last: a CI log that keeps only its end names them.
printf '%s' "$failed" | sed 's/^/FAILED: /'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ] && [ $((pass + fail)) -gt 0 ]
