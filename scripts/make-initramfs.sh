#!/bin/bash
# Pack /init and the test programs into an initramfs with the kernel's own
# usr/gen_init_cpio.
# Usage: [ONLY=PREFIX] [SKIP_TESTS="PREFIX..."] scripts/make-initramfs.sh BUILDDIR TESTDIR OUTFILE [EXTRA_DIR]
#   EXTRA_DIR: every executable in it also runs (exit 0 pass, 4 skip).
#   ONLY: run only the programs whose name starts with PREFIX (rt-plug/).
#   SKIP_TESTS: leave out the programs whose name starts with one of these
#   PREFIXes (a list separated by spaces).
# The lock torture modules of BUILDDIR, if it has them, go to /tests/modules
# (else /tests/modules/why says why not; KIMAGE_BUILD=1: BUILDDIR holds
# what came with a prebuilt kernel, which may lack them);
# TESTDIR/rootfs (rt-tests and its C library), if there, to the root.
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
} | awk -v only="${ONLY:-}" -v skip="${SKIP_TESTS:-}" \
	'BEGIN { n = split(skip, s, " ") }
	 index($1, only) == 1 { for (i = 1; i <= n; i++) if (index($1, s[i]) == 1) next; print }' >"$runlist"
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
	# TESTDIR/rootfs (scripts/fetch-rt-tests.sh): files at their place
	# in the guest's root.
	if [ -d "$tests/rootfs" ]; then
		(cd "$tests/rootfs" && find . -mindepth 1 -type d | sort | sed 's|^\.\(.*\)|dir \1 0755 0 0|'
		 find . -type f ! -name '.*' | sort | while read -r f; do
			echo "file ${f#.} $tests/rootfs/${f#./} 0755 0 0"
		 done)
	fi
	mods=$(ls "$bld/kernel/torture.ko" "$bld/kernel/locking/locktorture.ko" 2>/dev/null || true)
	if [ -z "${KIMAGE_BUILD:-}" ] && grep -qsx CONFIG_LOCK_TORTURE_TEST=m "$bld/.config" &&
	   [ ! -f "$bld/kernel/locking/locktorture.ko" ]; then
		die "$bld is configured with CONFIG_LOCK_TORTURE_TEST=m but has no kernel/locking/locktorture.ko"
	fi
	echo "dir /tests/modules 0755 0 0"
	if [ -n "$mods" ]; then
		for f in $mods; do echo "file /tests/modules/$(basename "$f") $f 0644 0 0"; done
	else
		# Why there are none, for the programs that would load them.
		if [ ! -f "$bld/.config" ]; then
			echo "no config came with the kernel (a bare KIMAGE): no module is known to fit it"
		elif grep -qsx CONFIG_LOCK_TORTURE_TEST=m "$bld/.config"; then
			echo "the kernel's package has no locktorture.ko"
		else
			echo "the kernel is built without CONFIG_LOCK_TORTURE_TEST=m"
		fi >"$outfile.modules-why"
		echo "file /tests/modules/why $outfile.modules-why 0644 0 0"
	fi
	if [ -n "$extra" ]; then
		echo "dir /tests/extra 0755 0 0"
		for f in "$extra"/*; do
			[ -f "$f" ] && [ -x "$f" ] && echo "file /tests/extra/$(basename "$f") $(realpath "$f") 0755 0 0"
		done
	fi
} >"$list"
"$cpio" "$list" >"$outfile.tmp"
mv "$outfile.tmp" "$outfile"
