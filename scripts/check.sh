#!/bin/bash
# The test command (README, .ci/run): the host tier, then the main job on
# x86_64 and arm64 with the whole series and the debug series.
# Last line: "N passed, N failed" counting those runs.
set -u
. "$(dirname "$0")/lib.sh"

out=$(realpath -m "${OUT:-$TOP/out}")
mkdir -p "$out"
pass=0 fail=0 t0=$SECONDS
summary=$out/check-summary.txt
: >"$summary"

cell() {
	local name=$1 t=$SECONDS rc=0
	shift
	log "check: $name"
	"$@" >"$out/check-$name.log" 2>&1 || rc=$?
	tail -n 30 "$out/check-$name.log"
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1)); echo "ok $name ($((SECONDS - t)) s)" >>"$summary"
	else
		fail=$((fail + 1)); echo "not ok $name ($((SECONDS - t)) s, log: $out/check-$name.log)" >>"$summary"
	fi
}

cell host-test "$TOP/scripts/host-test.sh"
for arch in x86_64 arm64; do
	cell "run-6.1-rt-$arch" env ARCH=$arch KERNEL=6.1-rt UPTO=all DEBUG=1 "$TOP/scripts/run.sh"
done
echo "--- make check ($((SECONDS - t0)) s)"
cat "$summary"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
