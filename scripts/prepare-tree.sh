#!/bin/bash
# Put a working copy of a cached tree into the requested series state and
# print its path. The working copy is a git clone of the pristine cache;
# switching states rewrites only the files that differ, so make rebuilds
# only what changed.
# Usage: scripts/prepare-tree.sh KERNEL WORKDIR UPTO DEBUG
#   UPTO: number of patches of the tree's series to apply ("all" for
#         every one): patches/series (the backport), or on a tree that
#         already has the upstream futex fix (mainline-rt) patches/upstream
#         (the ww_ctx fix for mainline, then its selftest)
#   DEBUG: 1 to add the series' assertion (patch 6, upstream 45f67f30a22f)
#          to a state before it (UPTO from 2 to 5), to see the recursions
#          that state still has. It is written against patch 2's
#          rt_mutex_try_acquire(), hence not below UPTO=2.
set -eu
. "$(dirname "$0")/lib.sh"

kernel=$1 work=$(realpath -m "$2") upto=$3 debug=$4
pristine=$("$TOP/scripts/fetch-tree.sh" "$kernel")

# A working copy of another base (an older version, another KVER, a cache
# tree made again differently) is made again: its files and its build
# would not be the base asked for.
if [ -e "$work/.git" ] && { [ "$(git -C "$work" config remote.origin.url)" != "$pristine" ] ||
	[ "$(git -C "$work" rev-parse -q --verify base 2>/dev/null)" != "$(git -C "$pristine" rev-parse base)" ]; }; then
	log "$work was made from $(tree_base "$work" 2>/dev/null || echo "another tree"), not $(tree_base "$pristine"): making it again"
	rm -rf "$work"
fi
# It is cloned beside its place and renamed into it when complete.
if [ ! -e "$work/.git" ]; then
	# Without .git, what is there is what an interrupted removal left.
	rm -rf "$work" "$work.tmp"
	need_space "$(dirname "$work")" 1800 "a working copy of $(tree_base "$pristine")"
	log "creating working copy $work"
	mkdir -p "$(dirname "$work")"
	git clone -q --shared --no-checkout "$pristine" "$work.tmp"
	git -C "$work.tmp" checkout -q --detach base
	mv "$work.tmp" "$work"
fi
[ "$(git -C "$work" rev-parse --show-toplevel 2>/dev/null)" = "$work" ] &&
	git -C "$work" rev-parse -q --verify base >/dev/null ||
	die "$work is not a working copy made by this script; remove it"
# A git command of an earlier run that was killed leaves its lock, and
# possibly files of a checkout half written: this run owns the output
# directory (lock_out), so the lock is stale; anything that differs
# from HEAD is put back.
if [ -e "$work/.git/index.lock" ]; then
	log "removing $work/.git/index.lock (left by an interrupted run)"
	rm -f "$work/.git/index.lock"
fi
rm -f "$work/.git/futex-pi-index" "$work/.git/futex-pi-index.lock"
if [ -n "$(git -C "$work" status --porcelain 2>/dev/null | head -n 1)" ]; then
	log "$work differs from its commit (an interrupted checkout?): resetting it"
	git -C "$work" reset -q --hard
	git -C "$work" clean -q -f -d
fi

# The tree's series: the backport, or where the futex fix is already in,
# the upstream patches (their fix applies to the other trees as a
# test-kernel fix).
series=$(tree_series "$pristine")
nseries=$(series_patches "$series" | wc -l)
[ "$upto" = all ] && upto=$nseries
case $upto in
'' | *[!0-9]*) die "UPTO must be a number from 0 to $nseries" ;;
esac
[ "$upto" -le "$nseries" ] || die "UPTO=$upto, but ${series#"$TOP"/}/series has $nseries patches"

why=$(tree_rwbase_unfit "$pristine") && die "$kernel: $why"

# Decide on the pristine tree what it needs; report what it has.
patches=
# Test-kernel fixes, not part of the backport: each only where it is needed.
tk=$TOP/patches/testkernel
tree_needs_boot_fix "$pristine" && patches="$patches $(ls "$tk"/*-rcu-tasks-*.patch)"
# 5.10-rt: the check that warns when a task blocks with a waiter still
# enqueued (its lock debugging has no pi_blocked_on assertion).
[ "$series" != "$TOP/patches/5.10-rt" ] || patches="$patches $(series_patches "$series/testkernel")"
[ "$series" = "$TOP/patches" ] && tree_needs_ww_ctx_init "$pristine" &&
	patches="$patches $(ls "$TOP"/patches/upstream/*-Initialize-ww_ctx-*.patch)"
patches="$patches $(series_patches "$series" "$upto")"
if [ "$debug" = 1 ]; then
	[ "$series" = "$TOP/patches" ] || die "DEBUG=1 adds the 6.1 series' assertion; $kernel's series is ${series#"$TOP"/}"
	assert=$(series_patches "$TOP/patches" | grep -n -- '-Add-a-lockdep-assert-to-catch-potent' || true)
	[ -n "$assert" ] || die "patches/series has no assertion patch"
	if tree_has_assert "$pristine"; then
		log "$kernel already has the pi_blocked_on assertion: DEBUG=1 adds nothing"
	elif [ "$upto" -lt 2 ] || [ "$upto" -ge "${assert%%:*}" ]; then
		die "DEBUG=1 adds the assertion (patch ${assert%%:*}) to a state before it: UPTO from 2 to $((${assert%%:*} - 1)) (it is written against patch 2)"
	else
		patches="$patches ${assert#*:}"
	fi
fi

# Build the wanted tree in a scratch index: a patch that does not apply
# changes nothing in the working copy.
export GIT_INDEX_FILE=$work/.git/futex-pi-index
git -C "$work" read-tree base
for p in $patches; do
	git -C "$work" apply --cached "$p" 2>"$work/.git/apply.err" ||
		die "$(basename "$p") does not apply to $kernel: $(head -n 3 "$work/.git/apply.err")"
done
tree=$(git -C "$work" write-tree)
unset GIT_INDEX_FILE

if [ "$tree" != "$(git -C "$work" rev-parse 'HEAD^{tree}')" ]; then
	commit=$(printf 'series state\n\n%s\n' "$patches" |
		GIT_AUTHOR_NAME=futex-pi-rt GIT_AUTHOR_EMAIL=futex-pi-rt@localhost \
		GIT_COMMITTER_NAME=futex-pi-rt GIT_COMMITTER_EMAIL=futex-pi-rt@localhost \
		git -C "$work" commit-tree "$tree" -p base)
	git -C "$work" checkout -q -f --detach "$commit"
fi
for p in $patches; do log "applied $(basename "$(dirname "$p")")/$(basename "$p")"; done
echo "$work"
