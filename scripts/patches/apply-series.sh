#!/bin/bash
# Apply the series to, or remove it from, a user's kernel tree, the way the
# tree is managed:
#   quilt  the tree has a quilt stack (.pc/ or patches/series): apply
#          quilt-imports each patch after the top one and pushes it;
#          unapply deletes them (and their files) again, from the top
#   git    the tree is a git work tree without changes to tracked files:
#          apply makes a commit per patch (git am); unapply resets to the
#          commit before them, if they are the newest commits
#   plain  anything else: the patches are applied to the files (patch)
# Every step is first tried on a scratch copy of the touched files; the
# tree is changed only if every step would succeed, so a failure leaves it
# as it was. Patches already in the tree are skipped.
# Before it changes the tree, a run writes a journal (the files the series
# touches as they are, the commit, quilt's state): an interrupted run
# (Ctrl-C, kill, a full disk) leaves it, and the next make apply or
# unapply first puts the tree back as it was, then does its job. Two runs
# on one tree take turns.
# Usage: KSRC=DIR scripts/patches/apply-series.sh apply|unapply
set -eu
. "$(dirname "$0")/../lib.sh"

action=${1:-}
case $action in apply | unapply) ;; *) die "usage: KSRC=DIR apply-series.sh apply|unapply" ;; esac
[ -n "${KSRC:-}" ] || die "set KSRC to the kernel tree, e.g. make $action KSRC=~/linux"
[ -d "$KSRC" ] || die "KSRC=$KSRC does not exist"
[ -f "$KSRC/Makefile" ] && { [ -f "$KSRC/kernel/futex/pi.c" ] || [ -f "$KSRC/kernel/futex/core.c" ]; } ||
	die "KSRC=$KSRC is not a kernel tree with kernel/futex/pi.c or (before 5.16) kernel/futex/core.c"
command -v patch >/dev/null || die "patch not found: apt-get install patch"
ksrc=$(realpath "$KSRC")
done_word=applied
[ "$action" = unapply ] && done_word=removed

# DEBUG=1 (the assertion out of order) is a test state of make run and make check.
[ "${DEBUG:-0}" = 1 ] && die "DEBUG=1 is for make run and make check (a test state); make apply applies the series in order"
# The series for the tree's kernel line (tree_series in lib.sh).
sdir=$(tree_series "$ksrc")
kv=$(tree_version "$ksrc")
case $sdir in
*/upstream) log "$ksrc is $kv: it already has the upstream fix (fbeb558b0dd0), which the 6.1 series backports; its series is patches/upstream (the ww_ctx fix and its selftest)" ;;
*/5.10-rt) log "$ksrc is $kv: its series is patches/5.10-rt (the 5.10-rt backport)" ;;
esac
# What is applied is always a prefix of the series, since apply goes
# forward and unapply backward.
stack=($(series_patches "$sdir"))
files=$(sed -n -E 's#^(\+\+\+ b|--- a)/([^[:space:]]+).*#\2#p' "${stack[@]}" | sort -u)
names=$(printf '%s\n' "${stack[@]}" | xargs -n 1 basename)

# One run at a time on a tree (the lock lives in the cache, not in the tree).
mkdir -p "$CACHE/locks"
exec 7>>"$CACHE/locks/apply-$(echo "$ksrc" | sha256sum | cut -c1-16).lock"
flock -n 7 || { log "waiting for another make apply or unapply on $ksrc"; flock 7; }

# The journal: in the git directory of a git tree, else in the tree.
journal=$ksrc/.futex-pi-apply
gitdir=$(git -C "$ksrc" rev-parse --absolute-git-dir 2>/dev/null) &&
	[ "$(git -C "$ksrc" rev-parse --show-toplevel)" = "$ksrc" ] && journal=$gitdir/futex-pi-apply
qp=$ksrc/${QUILT_PATCHES:-patches}
rm -rf "$journal.tmp"	# cut short before it was complete: nothing changed yet

# write_journal MODE: record what restore_journal needs, before any change.
write_journal() {
	local j=$journal.tmp f n
	mkdir -p "$j/files" "$j/quilt"
	echo "$1" >"$j/mode"
	echo "$action" >"$j/action"
	: >"$j/absent"
	for f in $files; do
		if [ -e "$ksrc/$f" ]; then
			mkdir -p "$j/files/$(dirname "$f")" && cp -p "$ksrc/$f" "$j/files/$f"
		else
			echo "$f" >>"$j/absent"
		fi
	done
	[ "$1" != git ] || git -C "$ksrc" rev-parse HEAD >"$j/head"
	if [ "$1" = quilt ]; then
		[ ! -f "$ksrc/.pc/applied-patches" ] || cp -p "$ksrc/.pc/applied-patches" "$j/quilt/"
		[ ! -f "$qp/series" ] || cp -p "$qp/series" "$j/quilt/"
		for n in $names; do
			[ ! -e "$qp/$n" ] || cp -p "$qp/$n" "$j/quilt/$n"
			[ ! -d "$ksrc/.pc/$n" ] || cp -a "$ksrc/.pc/$n" "$j/quilt/pc-$n"
		done
	fi
	mv "$j" "$journal"
}

# restore_journal [WHY]: put the tree back as the journal has it (WHY: a
# failure of this run; default: an interrupted earlier one).
restore_journal() {
	local j=$journal mode head f n sub other
	mode=$(cat "$j/mode") head=$(cat "$j/head" 2>/dev/null || true)
	log "$ksrc: ${1:-an earlier make $(cat "$j/action") was interrupted}; putting the tree back as it was before it"
	if [ "$mode" = git ]; then
		# Only our commits may lie between the two.
		if [ "$(git -C "$ksrc" rev-parse HEAD)" != "$head" ]; then
			for sub in $(git -C "$ksrc" log --format=%s "$head..HEAD" 2>/dev/null | tr ' ' '\001') \
				$(git -C "$ksrc" log --format=%s "HEAD..$head" 2>/dev/null | tr ' ' '\001'); do
				sub=$(echo "$sub" | tr '\001' ' ')
				for f in "${stack[@]}"; do [ "$(patch_subject "$f")" != "$sub" ] || continue 2; done
				die "$ksrc has a commit that is not the series' (\"$sub\") since the interrupted run began at $head; sort it out by hand, then remove $j"
			done
		fi
		rm -rf "$gitdir/rebase-apply" "$gitdir/index.lock"
		# Changes to files the series does not touch are the user's,
		# made since: keep them, and the tree, as they are.
		other=$({ git -C "$ksrc" diff --name-only HEAD; git -C "$ksrc" diff --name-only --cached HEAD; } 2>/dev/null |
			sort -u | grep -vxF -f <(echo "$files") || true)
		[ -z "$other" ] || die "$ksrc has changes to files the series does not touch ($(echo "$other" | head -n 3 | paste -sd' ')), made after an interrupted make $(cat "$j/action"); commit or stash them and run again (its journal: $j)"
		git -C "$ksrc" reset -q --hard "$head" || die "git reset --hard $head failed in $ksrc"
	fi
	if [ "$mode" = quilt ]; then
		for n in $names; do
			rm -rf "${ksrc:?}/.pc/$n" "$qp/$n"
			[ ! -e "$j/quilt/$n" ] || cp -p "$j/quilt/$n" "$qp/$n"
			[ ! -d "$j/quilt/pc-$n" ] || cp -a "$j/quilt/pc-$n" "$ksrc/.pc/$n"
		done
		if [ -f "$j/quilt/applied-patches" ]; then cp -p "$j/quilt/applied-patches" "$ksrc/.pc/"; else rm -f "$ksrc/.pc/applied-patches"; fi
		if [ -f "$j/quilt/series" ]; then cp -p "$j/quilt/series" "$qp/"; else rm -f "$qp/series"; fi
	fi
	(cd "$j/files" && find . -type f -print0) | while IFS= read -r -d '' f; do
		cp -p "$j/files/$f" "$ksrc/$f"
	done
	while read -r f; do rm -f "${ksrc:?}/$f"; done <"$j/absent"
	rm -rf "$j"
}
[ ! -d "$journal" ] || restore_journal

# How the tree is managed.
mode=plain
if [ -d "$ksrc/.pc" ] || [ -f "$ksrc/${QUILT_PATCHES:-patches}/series" ]; then
	mode=quilt
	command -v quilt >/dev/null || die "$ksrc is managed by quilt, but quilt is not installed: apt-get install quilt"
elif command -v git >/dev/null && [ "$(git -C "$ksrc" rev-parse --show-toplevel 2>/dev/null)" = "$ksrc" ] &&
	[ -z "$(git -C "$ksrc" status --porcelain --untracked-files=no)" ]; then
	mode=git
	# Our git am must not run into (or, failing, abort) one of the user's.
	for d in rebase-apply rebase-merge; do
		[ ! -e "$ksrc/$(git -C "$ksrc" rev-parse --git-path "$d")" ] ||
			die "$ksrc has a git am or rebase in progress ($d); finish or abort it first (nothing was changed)"
	done
fi
quilt_() { (cd "$ksrc" && quilt "$@"); }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fresh_copy() {
	rm -rf "$scratch/t" && mkdir -p "$scratch/t"
	for f in $files; do
		[ -e "$ksrc/$f" ] && install -D -m 644 "$ksrc/$f" "$scratch/t/$f"
	done
	true
}
# pt DIR -R|"" PATCH: apply (or with -R remove) one patch strictly, no fuzz.
pt() {
	local r=
	[ "$2" = -R ] && r=-R
	patch -d "$1" -p1 -f --fuzz=0 --no-backup-if-mismatch $r <"$3"
}

# How many patches of the stack the tree has: the largest k for which
# p_k .. p_1 come off again, in that order.
applied=0
for ((k = ${#stack[@]}; k > 0; k--)); do
	fresh_copy
	ok=1
	for ((i = k - 1; i >= 0; i--)); do
		pt "$scratch/t" -R "${stack[i]}" >/dev/null 2>&1 || { ok=0; break; }
	done
	[ "$ok" = 1 ] && { applied=$k; break; }
done

if [ "$action" = apply ]; then
	want=${#stack[@]}
	if [ "$applied" -ge "$want" ]; then
		log "$ksrc already has the series: nothing to do"
		exit 0
	fi
	# A tree before v6.7 that has the fix all the same (a backport).
	if [ "$applied" = 0 ] && [ "$sdir" != "$TOP/patches/upstream" ] && tree_has_fix "$ksrc"; then
		log "$ksrc already has the upstream fix (fbeb558b0dd0): nothing to apply"
		exit 0
	fi
	why=$(tree_rwbase_unfit "$ksrc") && die "$ksrc: $why (nothing was changed)"
	todo=("${stack[@]:applied:want-applied}") dir=
	if [ "$mode" = quilt ] && quilt_ next >/dev/null 2>&1; then
		die "the quilt series of $ksrc has patches that are not pushed; push or remove them first (nothing was changed)"
	fi
else
	[ "$applied" -gt 0 ] || { log "$ksrc has none of the series: nothing to remove"; exit 0; }
	todo=() dir=-R
	for ((i = applied - 1; i >= 0; i--)); do todo+=("${stack[i]}"); done
	# The series must be the newest part of the history or stack, else
	# removing it would take other work along or leave it half done.
	if [ "$mode" = git ]; then
		for ((i = 0; i < applied; i++)); do
			have=$(git -C "$ksrc" log -1 --format=%s "HEAD~$i" 2>/dev/null || true)
			want=$(patch_subject "${todo[i]}")
			[ "$have" = "$want" ] ||
				die "the newest $applied commit(s) of $ksrc are not the series' (HEAD~$i is \"$have\", expected \"$want\"); remove them with git revert or git rebase (nothing was changed)"
		done
	elif [ "$mode" = quilt ]; then
		top=$(quilt_ applied 2>/dev/null | tail -n "$applied" | xargs -r -n 1 basename | tac)
		[ "$top" = "$(printf '%s\n' "${todo[@]}" | xargs -n 1 basename)" ] ||
			die "the top $applied patch(es) of the quilt stack of $ksrc are not the series'; pop them with quilt (nothing was changed)"
	fi
fi

# Dry run of every step, in order, on a scratch copy; then the real thing.
fresh_copy
for p in "${todo[@]}"; do
	if ! pt "$scratch/t" "$dir" "$p" >"$scratch/err" 2>&1; then
		echo "error: $(basename "$p") does not ${action} cleanly to $ksrc; nothing was changed:" >&2
		grep -E "FAILED|malformed|Reversed|missing|^patching" "$scratch/err" | sed 's/^/  /' >&2
		exit 1
	fi
done

write_journal "$mode"
case $mode-$action in
git-apply)
	if ! git -C "$ksrc" am --quiet --no-3way "${todo[@]}" >"$scratch/err" 2>&1; then
		git -C "$ksrc" am --abort >/dev/null 2>&1 || true
		sed 's/^/  /' "$scratch/err" >&2
		restore_journal "git am failed"
		die "git am failed in $ksrc; aborted, nothing was changed"
	fi ;;
git-unapply)
	git -C "$ksrc" reset -q --keep "HEAD~$applied" ||
		{ restore_journal "git reset failed"; die "git reset --keep HEAD~$applied failed in $ksrc; nothing was changed"; } ;;
quilt-apply)
	imported=()
	for p in "${todo[@]}"; do
		quilt_ import "$p" >"$scratch/err" 2>&1 &&
			imported+=("$(basename "$p")") &&
			quilt_ push -q >>"$scratch/err" 2>&1 && continue
		sed 's/^/  /' "$scratch/err" >&2
		# Take back what this run imported, newest first.
		for ((i = ${#imported[@]} - 1; i >= 0; i--)); do
			quilt_ delete -r "${imported[i]}" >/dev/null 2>&1 || true
		done
		restore_journal "quilt failed"
		die "quilt failed on $(basename "$p") in $ksrc; the patches of this run were taken back"
	done ;;
quilt-unapply)
	for p in "${todo[@]}"; do
		quilt_ delete -r "$(basename "$p")" >/dev/null ||
			{ restore_journal "quilt delete failed"; die "quilt delete -r $(basename "$p") failed in $ksrc; nothing was changed"; }
	done ;;
*)
	for p in "${todo[@]}"; do pt "$ksrc" "$dir" "$p" >/dev/null; done ;;
esac
rm -rf "$journal"
for p in "${todo[@]}"; do log "$(basename "$p"): $done_word ($mode)"; done
