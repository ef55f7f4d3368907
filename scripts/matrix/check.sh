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
#   deadlock  mainline (Debian unstable's newest linux-source, 7.2) with
#          the upstream selftest but not the ww_ctx fix (patches/upstream
#          UPTO=0; the test is staged by build-tests.sh):
#          futex_lock_pi_deadlock fails because FUTEX_LOCK_PI returned
#          ETIMEDOUT where it must return EDEADLK, and nothing else fails;
#          only that program runs. mainline-ARCH (both patches) and
#          debian13-rt-x86 (Debian 13's RT kernel, 6.12, no lock
#          debugging: the waiter's ww_ctx is what the stack held) must
#          pass it.
#   sleep  a requeued waiter sleeps in rt_mutex_wait_proxy_lock() without
#          rt_mutex_pre_schedule(): requeue_pi_steal fails because
#          rt_mutex_schedule()'s assertion warned (the series before patch
#          9); only that program runs
#   oops   Debian's 6.1.176 RT kernel (tree debian-rt=6.1.176-1): the
#          requeue in requeue_pi_edeadlk oopses in remove_waiter()
#          (40a25d59e85b missing); only that program runs, and a guest
#          that hangs after the oops is judged on the records it left
#   builds the kernel builds (bisect step); nothing is booted. A step whose
#          stack changes only .c files compiles the directories it
#          touches, without linking; from the first other file on
#          (patch 4's header) the whole kernel is built. The steps run
#          from the last patch down: each after the first is an
#          incremental build of the one before, and only the compile-only
#          steps at the bottom see the task_struct without patch 4
# The cell runner boots the programs of tests/verdict/guest (each
# misbehaves on purpose) on rt-x86-fixed's kernel and checks what the
# runner and the verdict made of each (scripts/runner_test.sh).
# The first cell, selftest, tests the verdict code itself and the checks
# of KIMAGE= on bad input (make selftest); the cell patches tests what
# other trees take: make mbox's output with git am and b4, make apply and
# make unapply in git, quilt and plain mode (scripts/patches/patches_test.sh); the
# last cell, lava, writes every booted cell of the run as a LAVA job from
# the kernel and initramfs it booted, has lava-run --validate each, and runs
# two of them through lava-run: their verdict must be the cell's
# (scripts/lava/lava_test.sh, make lava). The cells are in scripts/cells.sh.
# A cell whose guest hangs or panics fails, whatever its expectation.
# LOCKDBG=0 builds without lock debugging, in a build directory of its own
# (the one make bench uses); tree "debian-rt" boots Debian's shipped RT
# kernel (make run KERNEL=debian-rt), nothing is built.
# Each cell's result is OUT/cells/CELL.json (a booted cell's verdict:
# OUT/cells/CELL.verdict.json); scripts/matrix/matrix.py makes OUT/matrix.md and
# OUT/matrix.xml (JUnit) from them. The last line printed is "N passed, N
# failed" counting cells. CELLS="a b" runs only those cells;
# the cells of $on_demand run only when CELLS names them.
set -u
. "$(dirname "$0")/../lib.sh"

. "$TOP/scripts/matrix/cells.sh"

out=$(realpath -m "${OUT:-$TOP/out}")
lock_out "$out"
matrix=$(matrix_rows) || exit 1


mkdir -p "$out/cells"
stage "dependencies" "$TOP/scripts/deps.sh" || exit 1
t0=$SECONDS
M=$TOP/scripts/matrix/matrix.py

# judge: judge the booted cell (after cell) from what its run left
# (OUT/cells/NAME.env): scripts/verdict.py, with the options a LAVA run of
# the cell gets too (cell_verdict_args, saved in the run directory for make
# lava), writes OUT/cells/NAME.verdict.json. An expected failure must fail
# for the expected reason only.
judge() {
	local v=$out/cells/$cell_name.verdict.json
	rm -f "$v"
	cell_load "$out" && [ -n "$QEMU_RC" ] && [ -f "$SERIAL" ] || return 0
	cell_verdict_args "$out/src/$tree" >"$RUN/verdict-args"
	# shellcheck disable=SC2046 # the saved options, a word each
	"$TOP/scripts/verdict.py" $(cat "$RUN/verdict-args") --qemu-rc "$QEMU_RC" \
		--config "$CONFIG" --image "$IMAGE" --json "$v" "$SERIAL" >"$out/cells/$cell_name.verdict.txt" 2>&1 || true
}

# The booted cells this run judged (the lava cell runs their LAVA jobs),
# and the cells' results, in order.
booted= results=
while read -r name tree arch upto debug lockdbg expect; do
	[ -n "$name" ] || continue
	case " ${CELLS:-$name} " in *" $name "*) ;; *) continue ;; esac
	[ -z "${CELLS:-}" ] && case " $on_demand " in *" $name "*) continue ;; esac
	cell "$name"
	logf=$out/cells/$name.log t=$SECONDS rc=0
	log "matrix: $name ($tree $arch UPTO=$upto DEBUG=$debug LOCK_DEBUG=$lockdbg, expect $expect)"
	if [ "$tree" = selftest ]; then
		{ "$TOP/scripts/verdict_test.py" || rc=$?
		  "$TOP/scripts/prebuilt-kernel_test.sh" || rc=$?
		  echo "verdict: $(grep -E '^[0-9]+ passed' "$logf" | head -n 1 | sed 's/,//'); prebuilt kernels: $(grep -E '^[0-9]+ passed' "$logf" | sed -n 2p | sed 's/,//')"
		} >"$logf" 2>&1
	elif [ "$tree" = host ]; then
		OUT=$out "$TOP/scripts/measure/host-test.sh" >"$logf" 2>&1 || rc=$?
	elif [ "$tree" = patches ]; then
		"$TOP/scripts/patches/patches_test.sh" >"$logf" 2>&1 || rc=$?
	elif [ "$tree" = runner ]; then
		OUT=$out "$TOP/scripts/runner_test.sh" >"$logf" 2>&1 || rc=$?
	elif [ "$tree" = lava ]; then
		OUT=$out CELLS=$booted "$TOP/scripts/lava/lava_test.sh" >"$logf" 2>&1 || rc=$?
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
	else
		cell_run "$out" >"$logf" 2>&1 || rc=$?
	fi
	# The kernel the cell ran on: the base of its tree, or the Debian
	# package it booted.
	base=
	case $tree in
	6.1-rt | 6.1 | mainline-rt | 5.10-rt) base=$(tree_base "$out/src/$tree") ;;
	debian-rt* | debian13-rt | debian11-rt) ! cell_load "$out" || base=$BASE ;;
	esac
	args=(--name "$name" --tree "$tree" --base "$base" --arch "$arch" --upto "$upto" --debug "$debug"
	      --lockdbg "$lockdbg" --expect "$expect" --secs $((SECONDS - t)) --log "$logf")
	if cell_booted "$tree" "$expect"; then
		judge
		"$M" cell "$out/cells/$name.json" "${args[@]}" --verdict "$out/cells/$name.verdict.json" \
			--observed "no verdict: make run stopped before the guest ended: $(grep -m1 '^error:' "$logf")"
		[ ! -f "$RUN/verdict-args" ] || booted="$booted $name"
	elif [ "$rc" = 0 ]; then
		"$M" cell "$out/cells/$name.json" "${args[@]}" --rc 0 --observed "$(tail -n 1 "$logf")"
	else
		"$M" cell "$out/cells/$name.json" "${args[@]}" --rc "$rc" \
			--observed "FAILED: $(grep -m1 -E '^ *not ok|^error:' "$logf" | sed 's/^ *//')"
	fi
	results="$results $out/cells/$name.json"
	v=ok
	[ "$("$M" get "$out/cells/$name.json" met)" = yes ] || { v=FAIL; tail -n 15 "$logf" | sed 's/^/    | /'; }
	log "matrix: $name: $v ($((SECONDS - t)) s): $("$M" get "$out/cells/$name.json" observed)"
done <<<"$matrix"

echo "--- matrix ($out/matrix.md)"
# shellcheck disable=SC2086 # a path a word
"$M" render --md "$out/matrix.md" --junit "$out/matrix.xml" \
	--title "Total: $((SECONDS - t0)) s. Logs: $out/cells/, runs: $out/runs/." $results
