#!/bin/bash
# Build the guest's programs, statically, for one architecture: /init, our
# suites (SUITES in lib.sh) and the tree's own futex selftests, each with a
# list of what to run ("NAME TIMEOUT PATH ARGS", see guest/init.c); and
# unpack rt-tests' programs, which rt-sanity/rt_tests runs.
# Usage: scripts/build-tests.sh ARCH SRCDIR BUILDDIR OUTDIR
#   ARCH "host" builds only our suites for this machine; BUILDDIR
#   then may be "-" (use the system's kernel headers).
set -eu
. "$(dirname "$0")/lib.sh"

arch=$1 src=$(realpath "$2") out=$(realpath -m "$4")
if [ "$arch" = host ]; then TEST_CC=gcc; else arch_conf "$arch"; fi
khdr=
[ "$3" = - ] || khdr="-isystem $(realpath "$3")/usr/include"
command -v "$TEST_CC" >/dev/null || die "$TEST_CC not found (run scripts/deps.sh)"
mkdir -p "$out"
build_begin "$out"
# rt-tests: Debian's binaries and C library, as a tree that
# make-initramfs.sh packs into the guest's root.
[ "$arch" = host ] || "$TOP/scripts/fetch-rt-tests.sh" "$arch" "$out/rootfs"

scale=${FUTEX_TIME_SCALE:-50}
case $scale in '' | *[!0-9]* | 0*) die "FUTEX_TIME_SCALE must be a positive integer, not '$scale'" ;; esac

# What the programs are built from: if none of it changed since the last
# build into OUTDIR (another series state of the same tree), keep them.
ksft=$src/tools/testing/selftests
files_sum() { (cd "$1" && shift && find "$@" -type f ! -name '.*' -print0 | sort -z | xargs -0 sha256sum); }
fingerprint=$({
	echo "$arch $scale $("$TEST_CC" --version | head -n 1)"
	files_sum "$TOP" scripts/build-tests.sh guest/init.c $(printf "tools/testing/selftests/%s " $SUITES) patches/selftests patches/upstream
	files_sum "$ksft" lib.mk kselftest.h kselftest_harness.h futex
	[ -z "$khdr" ] || files_sum "$3/usr/include" .
} | sha256sum | cut -d' ' -f1)
if [ "$(cat "$out/fingerprint" 2>/dev/null)" = "$fingerprint" ] && [ -f "$out/list.${SUITES##* }" ]; then
	log "tests for $arch: up to date in $out"
	build_end "$out"
	exit 0
fi
rm -f "$out/fingerprint"

"$TEST_CC" -static -O2 -Wall -o "$out/init" "$TOP/guest/init.c"

# kselftest timeout of a directory: its "settings" file, else 45 s.
ksft_timeout() { sed -n 's/^timeout=//p' "$1/settings" 2>/dev/null | grep . || echo 45; }
# tmake DIR OUTPUT [CFLAGS]: build a kselftest directory (its Makefile
# appends to CFLAGS from the environment). V=1: the log shows the compiler
# command lines (newer lib.mk prints only "CC name" otherwise).
tmake() {
	mkdir -p "$2"
	CFLAGS=${3:-} make -C "$1" V=1 OUTPUT="$2" CC="$TEST_CC" LDFLAGS=-static \
		KHDR_INCLUDES="$khdr" >>"$out/build.log" 2>&1 ||
		{ tail -n 20 "$out/build.log" >&2; die "building $1 failed (log: $out/build.log)"; }
}
: >"$out/build.log"

# Our suites build as they would inside a kernel tree: staged beside a
# copy of the tree's kselftest framework (the tree itself stays as it is).
stage=$out/ksft
mkdir -p "$stage"
cp "$ksft/lib.mk" "$ksft/kselftest.h" "$ksft/kselftest_harness.h" "$stage/"
# futex-pi uses the futex selftests' futextest.h, as it would in the tree.
mkdir -p "$stage/futex"
rsync -a --delete "$ksft/futex/include/" "$stage/futex/include/"
for s in $SUITES; do
	suite=$TOP/tools/testing/selftests/$s
	rsync -a --delete "$suite/" "$stage/$s/"
	tmake "$stage/$s" "$out/$s"
	t=$(ksft_timeout "$suite")
	progs=$(make -s -C "$stage/$s" -f - print-progs <<'MK' 2>/dev/null
include Makefile
print-progs: ; @echo $(TEST_GEN_PROGS)
MK
	) || true
	[ -n "$progs" ] || progs=$(cd "$out/$s" && ls)
	for p in $progs; do
		p=$(basename "$p")
		echo "$s/$p $t /tests/$s/$p"
	done >"$out/list.$s"
done

if [ "$arch" = host ]; then echo "$fingerprint" >"$out/fingerprint"; build_end "$out"; exit 0; fi

# The tree's own futex selftests, built from a staged copy with
# patches/selftests applied: the waits of the wake tests are multiplied by
# FUTEX_TIME_SCALE for emulated guests (the README has the measured
# false-failure rates that chose it). That patch exists for the two
# generations of those tests: with logging.h (up to v6.17; written against
# 6.1) and with the kselftest harness (v6.18 on; against 7.2, where a
# second patch keeps the harness tests from printing results of their own).
# The tests are invoked as their run.sh invokes them (run.sh itself keeps
# only the last exit code, so we don't use it).
rsync -a --delete "$ksft/futex/" "$stage/futex/"
if [ -e "$ksft/futex/include/logging.h" ]; then
	sel=$TOP/patches/selftests/6.1
else
	sel=$TOP/patches/selftests/7.2
fi
for p in $(series_patches "$sel"); do
	patch -d "$stage" -p4 -s -F0 -N --no-backup-if-mismatch <"$p" >>"$out/build.log" 2>&1 ||
		{ tail -n 5 "$out/build.log" >&2; die "$(basename "$p") does not apply to $ksft/futex (log: $out/build.log)"; }
done
tmake "$stage/futex/functional" "$out/futex" "-DFUTEX_TIME_SCALE=$scale"
grep -q -- "-DFUTEX_TIME_SCALE=$scale .*futex_requeue\.c" "$out/build.log" ||
	die "futex_requeue was not built with FUTEX_TIME_SCALE=$scale (log: $out/build.log)"
t=$(ksft_timeout "$ksft/futex")
sed -n 's/ *\$COLOR//; s|^\./\(futex_[a-z_]*\)\(.*\)$|\1\2|p' "$stage/futex/functional/run.sh" |
while read -r prog args; do
	name=futex/$prog$(echo "$args" | tr -d ' ')
	echo "$name $t /tests/futex/$prog $args"
done | awk '!seen[$1]++' >"$out/list.futex"
# The ww_ctx selftest of patches/upstream (kselftest harness; it builds
# against either generation), for a tree that does not have it: every
# kernel is checked for the deadlock detection, the ones without the fix
# too (make check's deadlock cells: mainline without patches/upstream;
# Debian 13's RT kernel, debian13-rt).
if ! grep -q '^futex/futex_lock_pi_deadlock ' "$out/list.futex"; then
	dl=$(series_patches "$TOP/patches/upstream" | grep -- '-selftests-futex-Add-a-test-for-PI-futex-ABBA') ||
		die "patches/upstream has no futex_lock_pi_deadlock selftest"
	# The patch creates the file: its hunk's lines, without their "+".
	awk '/^diff --git / { f = ($0 ~ /\/futex_lock_pi_deadlock\.c$/); next }
	     f && /^@@ / { body = 1; next }
	     f && body && /^\+/ { print substr($0, 2) }' "$dl" >"$stage/futex/functional/futex_lock_pi_deadlock.c"
	grep -q '^TEST_HARNESS_MAIN$' "$stage/futex/functional/futex_lock_pi_deadlock.c" ||
		die "cannot take futex_lock_pi_deadlock.c from $(basename "$dl")"
	# Built in its directory, as its Makefile would: the harness names
	# the file of a failed check as the compiler was given it.
	(cd "$stage/futex/functional" && "$TEST_CC" -static -O2 -Wall -pthread -DFUTEX_TIME_SCALE="$scale" \
		-I../include -I../.. $khdr -o "$out/futex/futex_lock_pi_deadlock" futex_lock_pi_deadlock.c -lpthread) \
		>>"$out/build.log" 2>&1 || { tail -n 20 "$out/build.log" >&2; die "building futex_lock_pi_deadlock failed (log: $out/build.log)"; }
	echo "futex/futex_lock_pi_deadlock $t /tests/futex/futex_lock_pi_deadlock" >>"$out/list.futex"
fi
echo "$scale" >"$out/futex-time-scale"
log "built $(for s in $SUITES; do cat "$out/list.$s"; done | wc -l) programs of $SUITES and $(wc -l <"$out/list.futex") futex programs for $arch (FUTEX_TIME_SCALE=$scale)"
echo "$fingerprint" >"$out/fingerprint"
build_end "$out"
