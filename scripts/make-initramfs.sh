#!/bin/bash
# Pack /init and the test programs into an initramfs with the kernel's own
# usr/gen_init_cpio.
# Usage: [ONLY=PREFIX] scripts/make-initramfs.sh BUILDDIR TESTDIR OUTFILE [EXTRA_DIR]
#   EXTRA_DIR: every executable in it also runs (exit 0 pass, 4 skip).
#   ONLY: run only the programs whose name starts with PREFIX (rt-plug/).
set -eu
. "$(dirname "$0")/lib.sh"

bld=$1 tests=$(realpath "$2") outfile=$(realpath -m "$3") extra=${4:-}
cpio=$bld/usr/gen_init_cpio
[ -x "$cpio" ] || die "$cpio missing (built by scripts/build-kernel.sh)"
list=$outfile.list
runlist=$outfile.tests

{
	# A test directory may leave suites out (make bench, make soak).
	for d in $SUITES futex; do [ ! -f "$tests/list.$d" ] || cat "$tests/list.$d"; done
	if [ -n "$extra" ]; then
		[ -d "$extra" ] || die "TESTS_EXTRA=$extra is not a directory"
		for f in "$extra"/*; do
			[ -f "$f" ] && [ -x "$f" ] && echo "extra/$(basename "$f") ${EXTRA_TIMEOUT:-120} /tests/extra/$(basename "$f")"
		done
	fi
} | awk -v only="${ONLY:-}" 'index($1, only) == 1' >"$runlist"
[ -z "${ONLY:-}" ] || [ -s "$runlist" ] || die "no program matches ONLY=$ONLY"

{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "dir /tests 0755 0 0"
	echo "file /init $tests/init 0755 0 0"
	echo "file /tests/list $runlist 0644 0 0"
	for d in $SUITES futex; do
		[ -d "$tests/$d" ] || continue
		echo "dir /tests/$d 0755 0 0"
		for f in "$tests/$d"/*; do
			[ -f "$f" ] && [ -x "$f" ] && echo "file /tests/$d/$(basename "$f") $f 0755 0 0"
		done
	done
	if [ -n "$extra" ]; then
		echo "dir /tests/extra 0755 0 0"
		for f in "$extra"/*; do
			[ -f "$f" ] && [ -x "$f" ] && echo "file /tests/extra/$(basename "$f") $(realpath "$f") 0755 0 0"
		done
	fi
} >"$list"
"$cpio" "$list" >"$outfile"
