#!/bin/bash
# Read a guest's serial log and report: per program, the runner's verdict;
# for the guest, whether it finished, hung or panicked; for the kernel,
# whether it logged a warning. Writes RESULTDIR/results.txt and
# RESULTDIR/kernel-problems.txt; the last line printed is
# "N passed, N failed, N skipped". Exit 0 only if nothing failed.
# Usage: scripts/report.sh LOGFILE QEMU_RC RESULTDIR
set -eu
. "$(dirname "$0")/lib.sh"

logfile=$1 qrc=$2 dir=$3
results=$dir/results.txt problems=$dir/kernel-problems.txt
log=$(tr -d '\r' <"$logfile")

# The runner's top-level KTAP lines (programs' own lines are indented).
printf '%s\n' "$log" | sed -n -E 's/^(not ok|ok) [0-9]+ /\1 /p' >"$results"
plan=$(printf '%s\n' "$log" | sed -n -E 's/^1\.\.([0-9]+)$/\1/p' | head -n 1)

# Kernel records on the console (timestamped) that signal trouble.
bad='WARNING:|BUG:|Oops|Kernel panic|general protection|possible recursive locking|possible circular locking|inconsistent lock state|DEBUG_LOCKS_WARN_ON|detected stalls|rcu: INFO:|self-detected stall|blocked for more than|soft lockup|hard LOCKUP|scheduling while atomic|sleeping function called from invalid context'
printf '%s\n' "$log" | grep -E '^\[ *[0-9]+\.[0-9]+\]' | grep -E "$bad" >"$problems" || true

guest=finished
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	guest="hung (killed after the time limit)"
elif printf '%s\n' "$log" | grep -q 'Kernel panic'; then
	guest="panicked"
elif ! printf '%s\n' "$log" | grep -q '^# runner: powering off'; then
	guest="stopped before the runner finished (QEMU exit $qrc)"
fi

pass=$(grep '^ok ' "$results" | grep -vc '# SKIP' || true)
skip=$(grep -c '^ok .*# SKIP' "$results" || true)
fail=$(grep -c '^not ok ' "$results" || true)

echo "--- results ($logfile)"
sed 's/^/  /' "$results"
if [ "$guest" != finished ]; then
	missing=$(( ${plan:-0} > pass + skip + fail ? ${plan:-0} - pass - skip - fail : 0 ))
	echo "not ok guest # $guest; $missing program(s) without a result" >>"$results"
	echo "guest $guest; its last console lines:"
	printf '%s\n' "$log" | grep -v '^    ' | tail -n 25 | sed 's/^/  | /'
	fail=$((fail + 1))
elif [ -s "$problems" ] && [ "$(grep -c '^not ok' "$results")" = 0 ]; then
	# The runner saw nothing, the console did: count it, never drop it.
	echo "not ok kernel-log # $(head -n 1 "$problems")" >>"$results"
	fail=$((fail + 1))
fi
if [ -s "$problems" ]; then
	echo "kernel log problems ($(wc -l <"$problems")), first:"
	head -n 5 "$problems" | sed 's/^/  | /'
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
