#!/bin/bash
# Measure how often each test program fails on a kernel: boot BOOTS times,
# each boot running every program of TESTDIR's lists whose name matches
# REGEX, REPEAT times in a row, with no retry. Prints one table row per
# program: runs, failures, the failures' first reasons. On a kernel without
# the bug a program targets, its failures are false failures: this is how
# FUTEX_TIME_SCALE was chosen (README, "Timing and emulation").
# Usage: scripts/measure/rates.sh ARCH IMAGE BUILDDIR TESTDIR BOOTS REPEAT [REGEX]
#   IMAGE, BUILDDIR: a kernel and its build directory (for gen_init_cpio),
#   TESTDIR: what scripts/build-tests.sh wrote (out/tests/TREE-ARCH).
# Env: LOAD=1 builds a kernel (x86_64 defconfig of a tree in the cache,
#      no ccache, make -j$(nproc)) beside the guests, in a loop.
#      SMP, MEM, ACCEL as for boot-qemu.sh; TIMEOUT per boot (default 1800).
set -eu
. "$(dirname "$0")/../lib.sh"

[ $# -ge 6 ] || die "usage: scripts/measure/rates.sh ARCH IMAGE BUILDDIR TESTDIR BOOTS REPEAT [REGEX]"
arch=$1 image=$2 bld=$3 tests=$4 boots=$5 repeat=$6 re=${7:-.}
arch_conf "$arch"
[ -f "$image" ] || die "no kernel image $image"
[ -f "$tests/init" ] && [ -f "$tests/list.futex" ] || die "$tests is not a test directory of scripts/build-tests.sh"
dir=$(mktemp -d /tmp/rates.XXXXXX)

# A test directory whose lists hold the chosen programs REPEAT times.
mkdir -p "$dir/tests"
lists=
for d in $SUITES futex; do
	cp -r "$tests/$d" "$dir/tests/"
	lists="$lists list.$d"
done
cp "$tests/init" "$dir/tests/"
for l in $lists; do
	grep -E "^[^ ]*($re)" "$tests/$l" |
		awk -v n="$repeat" '{ lines[NR] = $0 } END { for (i = 1; i <= n; i++) for (j = 1; j <= NR; j++) print lines[j] }' \
		>"$dir/tests/$l" || true
done
nprog=$(cd "$dir/tests" && cat $lists | awk '{ print $1 }' | sort -u | wc -l)
[ "$nprog" -gt 0 ] || die "no program matches '$re'"
"$TOP/scripts/make-initramfs.sh" "$bld" "$dir/tests" "$dir/initrd"

loadpid=
if [ "${LOAD:-0}" = 1 ]; then
	lsrc=$(ls -d "$CACHE"/trees/*/ | sort -V | tail -n 1)
	log "load: building $lsrc (x86_64 defconfig, -j$(nproc), no ccache) in a loop"
	setsid bash -c 'cd "$1" && while :; do
		rm -rf "$2"
		CCACHE_DISABLE=1 make -s O="$2" x86_64_defconfig
		CCACHE_DISABLE=1 make -s O="$2" -j"$(nproc)"
	done' _ "$lsrc" "$dir/load" >/dev/null 2>&1 &
	loadpid=$!
	trap 'kill -- -$loadpid 2>/dev/null; wait $loadpid 2>/dev/null; rm -rf "$dir/load"' EXIT
fi

log "$arch $(basename "$image"): $boots boot(s), $nprog program(s) x $repeat each; logs in $dir"
hung=0 t0=$SECONDS
for i in $(seq 1 "$boots"); do
	rc=0
	TIMEOUT=${TIMEOUT:-1800} "$TOP/scripts/boot-qemu.sh" "$arch" "$image" "$dir/initrd" "$dir/serial-$i.log" || rc=$?
	"$TOP/scripts/verdict.py" --qemu-rc "$rc" --json "$dir/verdict-$i.json" "$dir/serial-$i.log" >/dev/null 2>&1 || true
	if [ "$("$TOP/scripts/matrix/matrix.py" get "$dir/verdict-$i.json" guest)" != finished ]; then
		hung=$((hung + 1))
		log "boot $i did not finish: $("$TOP/scripts/matrix/matrix.py" get "$dir/verdict-$i.json" guest)"
	fi
	log "boot $i: $("$TOP/scripts/matrix/matrix.py" get "$dir/verdict-$i.json" counts.failed) failed, $((SECONDS - t0)) s so far"
done

# The table, from the verdicts' results (the first reason of each kind).
python3 - "$dir"/verdict-*.json <<'PY'
import json, sys
runs, bad, why = {}, {}, {}
for path in sys.argv[1:]:
    for r in json.load(open(path))["results"]:
        if r["name"] in ("boot", "lock-debugging"):
            continue
        runs[r["name"]] = runs.get(r["name"], 0) + 1
        if not r["ok"]:
            bad[r["name"]] = bad.get(r["name"], 0) + 1
            reason = r["directive"].split(";")[0]
            if reason not in why.setdefault(r["name"], []):
                why[r["name"]].append(reason)
print("| program | runs | failed | first reasons |")
print("|---|---|---|---|")
for name in sorted(runs):
    print(f"| {name} | {runs[name]} | {bad.get(name, 0)} | {'; '.join(why.get(name, []))} |")
PY
echo
echo "$arch $(basename "$image"): $boots boot(s), $hung did not finish, $((SECONDS - t0)) s (logs: $dir)"
