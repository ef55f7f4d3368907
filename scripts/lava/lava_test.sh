#!/bin/bash
# make check's "lava" cell: the booted cells of this make check as LAVA
# jobs, run by LAVA's own dispatcher (lava-run, lava-dispatcher):
#   1. each booted cell make check just judged (CELLS) gets its job from
#      the kernel and initramfs the cell booted (make lava's "package"),
#      and lava-run --validate accepts it
#   2. REAL (mainline-x86-deadlock, x86_64; rt-arm64-plug, arm64) run
#      through lava-run, and their verdict from the LAVA job's log equals
#      the one make check gave from QEMU's serial log (OUT/cells/CELL.verdict.json):
#      the same verdict, and the same observation (counts aside)
#   3. bad input: a cell that does not exist, a cell that boots nothing, a
#      missing artifact, a job LAVA rejects, a run without a job: each
#      fails with an error naming it
# Prints "ok N ..." / "not ok N ..." and "N passed, N failed".
set -u
. "$(dirname "$0")/../lib.sh"
. "$TOP/scripts/testlib.sh"

out=$(realpath -m "${OUT:-$TOP/out}")
L=$TOP/scripts/lava/lava.sh
real=${REAL:-mainline-x86-deadlock rt-arm64-plug}
cells=${CELLS:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$TOP/scripts/deps.sh" lava || exit 1
for c in $real; do
	case " $cells " in *" $c "*) ;; *)
		result "$c: judged by make check in this run" 1 \
			"run it with the lava cell, e.g. make check CELLS='$c lava'" ;;
	esac
done

for c in $cells; do
	check "$c: job written and accepted by lava-run --validate" env OUT="$out" CELLS="$c" "$L" package
done

torun=
for c in $real; do
	case " $cells " in *" $c "*) [ ! -f "$out/lava/$c/job.yaml" ] || torun="$torun $c" ;; esac
done
# One run for all: OUT/lava/matrix.md gets their rows.
[ -z "$torun" ] || env OUT="$out" CELLS="$torun" "$L" run >"$tmp/run.log" 2>&1
M=$TOP/scripts/matrix/matrix.py
for c in $torun; do
	# The same verdict, and the same observation but for its numbers (how
	# often a warning came).
	if [ -f "$out/lava/$c/verdict.json" ] && "$M" same "$out/lava/$c/verdict.json" "$out/cells/$c.verdict.json"; then
		result "$c: lava-run's verdict is make check's: $("$M" get "$out/lava/$c/verdict.json" observed)" 0
	else
		{ grep -E '^(problem|verdict):' "$out/lava/$c/verdict.log" 2>/dev/null ||
			grep -E "^(error|warning): $c" "$tmp/run.log"; } | sed 's/^/    # /' | tail -n 8
		result "$c: lava-run's verdict is make check's" 1 \
			"LAVA: $("$M" get "$out/lava/$c/verdict.json" observed 2>/dev/null || echo none); QEMU: $("$M" get "$out/cells/$c.verdict.json" observed 2>/dev/null)"
	fi
done

# Bad input, in an output directory of its own.
bad=$tmp/out
mkdir -p "$bad/lava"
expect_fail "an unknown cell is named" "no cell 'no-such-cell'" env OUT="$bad" CELLS=no-such-cell "$L" jobs
expect_fail "a cell that boots nothing is refused" "cell 'bisect-rt-x86-1' boots no guest" \
	env OUT="$bad" CELLS=bisect-rt-x86-1 "$L" jobs
expect_fail "a cell without a run is named" "mainline-x86-deadlock: no run of this cell in $bad" \
	env OUT="$bad" CELLS=mainline-x86-deadlock "$L" package
expect_fail "a run without a job is refused" "mainline-x86-deadlock: no LAVA job in $bad/lava/mainline-x86-deadlock" \
	env OUT="$bad" CELLS=mainline-x86-deadlock "$L" run
# A job LAVA rejects: a real one whose deploy method no device has.
first=$(echo "$cells" | awk '{ print $1 }')
if [ -n "$first" ] && [ -f "$out/lava/$first/job.yaml" ]; then
	cp -r "$out/lava/$first" "$bad/lava/"
	sed -i 's/^    to: tmpfs$/    to: nowhere/' "$bad/lava/$first/job.yaml"
	expect_fail "a job LAVA rejects is named" "$first: LAVA rejected $bad/lava/$first/job.yaml" \
		env OUT="$bad" CELLS="$first" "$L" validate
fi
summary
