#!/bin/bash
# make check's "runner" cell: the guest's runner (guest/init.c) and the
# verdict (scripts/verdict.py) against programs that misbehave on purpose
# (tests/verdict/guest/*.c): output that imitates the runner's or the
# kernel's lines, writes to stdin, failures hidden behind a NUL, a
# "Bail out!" or a short plan, a crashed child, leftovers of every shape,
# a panic message from user space, lockdep's proving switched off by hand.
# They run in one guest, on the kernel rt-x86-fixed booted in this make
# check (run that cell first), and the verdict must say, for each, what
# tests/verdict/guest/expect says: passed or failed, and which of the
# runner's facts made it fail. The log must also be read alike whatever
# the expectation: the bug expectation must not be met by their forged
# kernel lines. Prints "ok N ..." / "not ok N ..." and "N passed, N failed".
# Env: OUT
set -u
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/matrix/cells.sh"
. "$TOP/scripts/testlib.sh"

out=$(realpath -m "${OUT:-$TOP/out}")
dir=$out/runner-test
src=$TOP/tests/verdict/guest
cell rt-x86-fixed
arch_conf "$arch"
cell_load "$out" && [ -f "$IMAGE" ] ||
	die "no run of rt-x86-fixed in $out: make check runs it before this cell (CELLS=\"rt-x86-fixed runner\")"
bld=$out/build/$tree-$arch tests=$out/tests/$tree-$arch
rm -rf "$dir"
mkdir -p "$dir/progs"
for c in "$src"/*.c; do
	"$TEST_CC" -static -O2 -Wall -pthread -o "$dir/progs/$(basename "$c" .c)" "$c" ||
		die "cannot build $c"
done
ONLY=extra/ EXTRA_TIMEOUT=20 "$TOP/scripts/make-initramfs.sh" "$bld" "$tests" \
	"$dir/initramfs.cpio" "$dir/progs" || die "no initramfs"
rc=0
TIMEOUT=900 "$TOP/scripts/boot-qemu.sh" "$arch" "$IMAGE" "$dir/initramfs.cpio" "$dir/serial.log" || rc=$?
"$TOP/scripts/verdict.py" --qemu-rc "$rc" --config "$CONFIG" --json "$dir/verdict.json" \
	"$dir/serial.log" >"$dir/verdict.txt" 2>&1
# The assertion sites make check judged rt-x86-fixed with.
"$TOP/scripts/verdict.py" --qemu-rc "$rc" --config "$CONFIG" --expect bug \
	--sites "$(sed -n 's/^--sites //p' "$RUN/verdict-args" 2>/dev/null)" \
	--json "$dir/verdict-bug.json" "$dir/serial.log" >"$dir/verdict-bug.txt" 2>&1

# Each program's result against the table; the results the table does
# not name must not exist.
rc=0
python3 - "$dir/verdict.json" "$src/expect" <<'PY' || rc=$?
import json, sys
v = json.load(open(sys.argv[1]))
want = {}
for line in open(sys.argv[2]):
    words = line.split("#")[0].split()
    if words:
        want[words[0]] = (words[1], words[2:])
got = {r["name"].replace("extra/", ""): r for r in v["results"]}
bad = 0
if v["guest"] != "finished":
    print(f"not ok - the guest did not finish: {v['guest']}")
    bad += 1
for name, (result, facts) in want.items():
    r = got.get(name)
    if r is None:
        print(f"not ok - {name}: no result")
        bad += 1
        continue
    ok = "ok" if r["ok"] else "not-ok"
    f = r["facts"] or {}
    missing = [k for k in facts if not (str(f.get(k.split("=")[0])) == k.split("=")[1]
                                        if "=" in k else f.get(k))]
    if ok != result or missing:
        print(f"not ok - {name}: {ok} # {r['directive']}; wanted {result}"
              + (f" with {' '.join(facts)}" if facts else ""))
        bad += 1
    else:
        print(f"ok - {name}: {ok}" + (f" ({' '.join(facts)})" if facts else ""))
for name in got:
    if name not in want:
        print(f"not ok - {name}: a result the table does not name")
        bad += 1
print(f"problems of the run: {len(v['problems'])}")
sys.exit(1 if bad else 0)
PY
result "each program's result is the table's, for its reason (verdict: $dir/verdict.txt)" "$rc"
grep -q '^problem: the assertion never warned from futex_lock_pi$' "$dir/verdict-bug.txt" &&
	! grep -q '^problem: no assertion sites given' "$dir/verdict-bug.txt"
result "their forged kernel lines do not meet the bug expectation" $? \
	"$(grep '^verdict:' "$dir/verdict-bug.txt")"
[ "$("$TOP/scripts/matrix/matrix.py" get "$dir/verdict.json" guest)" = finished ]
result "user space's panic text did not end the verdict as a panic" $? \
	"$("$TOP/scripts/matrix/matrix.py" get "$dir/verdict.json" guest)"

# The same channel read by another KTAP reader: the kernel tree's kunit.py
# parse takes rt-x86-fixed's serial log with no error, and counts what the
# verdict counts as the programs' own tests.
kunit=$out/src/$tree/tools/testing/kunit/kunit.py
if [ -f "$kunit" ] && [ -f "$out/cells/rt-x86-fixed.verdict.json" ]; then
	parsed=$(cd "$(dirname "$kunit")" && python3 kunit.py parse "$SERIAL" 2>&1)
	want=passed:
	for k in passed failed skipped; do
		c=$("$TOP/scripts/matrix/matrix.py" get "$out/cells/rt-x86-fixed.verdict.json" "ktap_leaves.$k")
		if [ "$k" = passed ]; then want="$want $c"; elif [ "$c" != 0 ]; then want="$want, $k: $c"; fi
	done
	got=$(echo "$parsed" | sed -n 's/.*Testing complete\. Ran [0-9]* tests: //p')
	! echo "$parsed" | grep -q '\[ERROR\]\|\[CRASHED\]' && [ "$got" = "$want" ]
	result "kunit.py parse reads rt-x86-fixed's log with no error and counts as the verdict: $got" $? \
		"kunit.py: $got$(echo "$parsed" | grep -m1 '\[ERROR\]'); verdict: $want"
else
	result "kunit.py parse of rt-x86-fixed's log" 1 "no $kunit or no verdict of rt-x86-fixed"
fi
summary
