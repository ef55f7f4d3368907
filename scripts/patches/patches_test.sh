#!/bin/bash
# make check's "patches" cell: the forms in which other trees take our
# patches are accepted by the tools that take them, on pristine trees:
#   make mbox      git am and b4 am take both mboxes (6.1-rt series on
#                  6.1-rt, patches/upstream on mainline, 7.2), one commit
#                  per patch, and every route gives the same tree; make
#                  apply on mainline takes patches/upstream
#   make apply     git mode (a commit per patch, the same tree again),
#   make unapply   quilt mode (imported after the tree's own patch), plain
#                  mode; each undone by make unapply; a series that does
#                  not apply, or an unapply that would take other work
#                  along, fails and changes nothing
# The trees are sparse clones of the cached pristine trees (the files the
# patches touch). Prints "ok N ..." / "not ok N ..." and "N passed, N failed".
set -u
. "$(dirname "$0")/../lib.sh"
. "$TOP/scripts/testlib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GIT_AUTHOR_NAME=futex-pi-rt GIT_AUTHOR_EMAIL=futex-pi-rt@localhost
export GIT_COMMITTER_NAME=futex-pi-rt GIT_COMMITTER_EMAIL=futex-pi-rt@localhost
command -v b4 >/dev/null || apt_install b4
command -v quilt >/dev/null || apt_install quilt

# clone KERNEL DIR SERIESDIR: sparse clone of the pristine tree, checked
# out at its base: top-level files and the directories SERIESDIR touches.
clone() {
	local pristine dirs
	pristine=$("$TOP/scripts/fetch-tree.sh" "$1" 2>/dev/null) || return 1
	dirs=$(series_patches "$3" | xargs sed -n 's|^+++ b/||p' | xargs -n 1 dirname | sort -u)
	git clone -q --shared --no-checkout "$pristine" "$2" &&
		git -C "$2" sparse-checkout set $dirs &&
		git -C "$2" checkout -q -b test base
}
tree_of() { git -C "$1" rev-parse 'HEAD^{tree}'; }
commits() { git -C "$1" rev-list --count base..HEAD; }
clean() { [ -z "$(git -C "$1" status --porcelain --untracked-files=no)" ]; }

# make mbox, on a matrix recorded for the purpose.
check "make mbox writes the three mboxes" env MATRIX="$TOP/tests/patches/cells" OUT="$tmp" "$TOP/scripts/patches/mbox.sh"
expect_fail "make mbox without a matrix: error" "no matrix result" env MATRIX="$tmp/none" OUT="$tmp" "$TOP/scripts/patches/mbox.sh"
cp -r "$TOP/tests/patches/cells" "$tmp/failed"
sed -i 's/"met": true/"met": false/' "$tmp/failed/mainline-x86-deadlock.json"
expect_fail "make mbox quoting a failed cell: error" "mainline-x86-deadlock did not meet" env MATRIX="$tmp/failed" OUT="$tmp/x" "$TOP/scripts/patches/mbox.sh"

# am_both NAME KERNEL SERIESDIR MBOX: git am and b4 am of MBOX on KERNEL.
am_both() {
	local name=$1 w=$tmp/$2-am want t_am msgid
	want=$(series_patches "$3" | wc -l)
	clone "$2" "$w" "$3" || { result "$name: clone $2" 1 "no pristine $2 tree"; return; }
	# --empty=drop: the cover letter has no patch (plain git am stops there).
	check "$name: git am --empty=drop on pristine $2" git -C "$w" am --quiet --empty=drop "$4"
	[ "$(commits "$w")" = "$want" ] && clean "$w"
	result "$name: git am made $want commits, tree clean" $? "$(commits "$w") commits"
	t_am=$(tree_of "$w")
	msgid=$(sed -n 's/^Message-ID: <\(.*\)>$/\1/p' "$4" | head -n 1)
	mkdir -p "$tmp/b4-$2"
	(cd "$tmp/b4-$2" && b4 am -C -m "$4" -o . "$msgid") >"$tmp/b4-$2.log" 2>&1
	grep -q "^Total patches: $want$" "$tmp/b4-$2.log" && ! grep -q 'ERROR\|Thread incomplete' "$tmp/b4-$2.log"
	result "$name: b4 am finds the cover letter and all $want patches" $? "$(grep -m1 'ERROR\|Total' "$tmp/b4-$2.log")"
	git -C "$w" reset -q --hard base
	check "$name: git am of b4's mbox" git -C "$w" am --quiet "$tmp/b4-$2"/*.mbx
	[ "$(tree_of "$w")" = "$t_am" ]
	result "$name: b4's route gives the same tree" $?
	eval "tree_$(echo "$2" | tr -c 'a-z0-9\n' _)=$t_am"
}
am_both "6.1-rt mbox" 6.1-rt "$TOP/patches" "$tmp/mbox/6.1-rt-futex-pi.mbox"
am_both "upstream mbox" mainline-rt "$TOP/patches/upstream" "$tmp/mbox/upstream-ww_ctx.mbox"
am_both "5.10-rt mbox" 5.10-rt "$TOP/patches/5.10-rt" "$tmp/mbox/5.10-rt-futex-pi.mbox"

# make apply on mainline (7.2): it has the upstream fix, so the 6.1
# series is not for it; it takes patches/upstream, as git am of its mbox.
A() { KSRC=$1 "$TOP/scripts/patches/apply-series.sh" "$2"; }
m=$tmp/apply-mainline
if clone mainline-rt "$m" "$TOP/patches/upstream" && git -C "$m" sparse-checkout add kernel/futex; then
	A "$m" apply >"$tmp/apply-mainline.log" 2>&1
	result "mainline: make apply" $? "$(tail -n 1 "$tmp/apply-mainline.log")"
	grep -q 'already has the upstream fix (fbeb558b0dd0)' "$tmp/apply-mainline.log" &&
		[ "$(commits "$m")" = "$(series_patches "$TOP/patches/upstream" | wc -l)" ] &&
		[ "$(tree_of "$m")" = "${tree_mainline_rt:-}" ] && clean "$m"
	result "mainline: says it has the upstream fix, applies patches/upstream as git am of the mbox does" $?
else
	result "mainline: clone mainline-rt" 1 "no pristine mainline-rt tree"
fi

# make apply / unapply in each mode, on 6.1-rt.
g=$tmp/apply-git
clone 6.1-rt "$g" "$TOP/patches"
base=$(git -C "$g" rev-parse HEAD)
check "git mode: make apply" A "$g" apply
[ "$(commits "$g")" = "$(series_patches "$TOP/patches" | wc -l)" ] && [ "$(tree_of "$g")" = "${tree_6_1_rt:-}" ] && clean "$g"
result "git mode: a commit per patch, the tree git am of the mbox gives" $?
A "$g" apply 2>&1 | grep -q 'already has the series'
result "git mode: make apply again does nothing" $?
check "git mode: make unapply" A "$g" unapply
[ "$(git -C "$g" rev-parse HEAD)" = "$base" ] && clean "$g"
result "git mode: back at the base commit, clean" $?
# Another commit on top of the series: unapply must refuse.
A "$g" apply >/dev/null 2>&1
echo "/* local */" >>"$g/kernel/futex/core.c" && git -C "$g" commit -q -a -m "local change"
head=$(git -C "$g" rev-parse HEAD)
expect_fail "git mode: unapply under a newer commit fails" "are not the series'" A "$g" unapply
[ "$(git -C "$g" rev-parse HEAD)" = "$head" ] && clean "$g"
result "git mode: ... and changes nothing" $?
# The user's own git am in progress: refused, left alone.
git -C "$g" reset -q --hard base
mkdir "$g/.git/rebase-apply" && echo mine >"$g/.git/rebase-apply/marker"
expect_fail "git mode: refused while the user's git am is in progress" "in progress" A "$g" apply
[ "$(cat "$g/.git/rebase-apply/marker" 2>/dev/null)" = mine ] && [ "$(commits "$g")" = 0 ]
result "git mode: ... and the user's session is left alone" $?
rm -rf "$g/.git/rebase-apply"
# A tree the series does not apply to.
git -C "$g" reset -q --hard base
sed -i 's/^cleanup:$/cleanup_elsewhere:/' "$g/kernel/futex/pi.c" && git -C "$g" commit -q -a -m "local rework"
head=$(git -C "$g" rev-parse HEAD)
expect_fail "git mode: a series that does not apply fails" "nothing was changed" A "$g" apply
[ "$(git -C "$g" rev-parse HEAD)" = "$head" ] && clean "$g" && [ ! -d "$g/.git/rebase-apply" ]
result "git mode: ... and changes nothing" $?

# quilt mode: the tree's own patch first, ours after it.
q=$tmp/apply-quilt
git -C "$tmp/6.1-rt-am" checkout -q base 2>/dev/null && git -C "$tmp/6.1-rt-am" reset -q --hard base
rsync -a --exclude=.git "$tmp/6.1-rt-am/" "$q/"
rsync -a "$q/" "$tmp/pristine-copy/"
rsync -a "$q/" "$tmp/pristine-ref/"
(cd "$q" && quilt new local.patch && quilt add README && echo local >>README && quilt refresh) >/dev/null 2>&1
check "quilt mode: make apply" A "$q" apply
[ "$(cd "$q" && quilt applied | xargs -n 1 basename | paste -sd' ')" = "local.patch $(series_patches "$TOP/patches" | xargs -n 1 basename | paste -sd' ')" ]
result "quilt mode: imported and pushed after the tree's own patch" $?
cmp -s "$q/kernel/futex/pi.c" <(git -C "$tmp/6.1-rt-am" show "${tree_6_1_rt:-x}:kernel/futex/pi.c")
result "quilt mode: kernel/futex/pi.c as git am of the mbox makes it" $?
check "quilt mode: make unapply" A "$q" unapply
[ "$(cd "$q" && quilt applied 2>/dev/null | xargs -n 1 basename)" = local.patch ] &&
	[ "$(cd "$q" && quilt series | wc -l)" = 1 ] && [ "$(ls "$q/patches" | grep -vc '^series$')" = 1 ]
result "quilt mode: only the tree's own patch is left" $?
# quilt import fails partway (a quilt that refuses the third import,
# first on PATH): the patches this run imported are taken back.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/quilt" <<EOF
#!/bin/sh
if [ "\$1" = import ]; then
	echo x >>"$tmp/imports"
	[ "\$(wc -l <"$tmp/imports")" != 3 ] || { echo "quilt: refusing (test)" >&2; exit 1; }
fi
exec $(command -v quilt) "\$@"
EOF
chmod +x "$tmp/bin/quilt"
PATH=$tmp/bin:$PATH expect_fail "quilt mode: import failing at patch 3" "taken back" A "$q" apply
[ "$(cd "$q" && quilt series | wc -l)" = 1 ] && [ "$(cd "$q" && quilt top)" = patches/local.patch ] &&
	cmp -s "$q/kernel/sched/core.c" "$tmp/pristine-ref/kernel/sched/core.c" &&
	[ "$(ls "$q/patches" | grep -vc '^series$')" = 1 ]
result "quilt mode: ... its imports were taken back, the files are as they were" $?
# Patches in the series that are not pushed: refused.
(cd "$q" && quilt new other.patch && quilt pop -q) >/dev/null 2>&1
expect_fail "quilt mode: refused with unpushed patches" "not pushed" A "$q" apply
(cd "$q" && quilt delete -r other.patch) >/dev/null 2>&1
[ "$(cd "$q" && quilt series | wc -l)" = 1 ]
result "quilt mode: ... the stack is as it was" $?
sed -i 's/^cleanup:$/cleanup_elsewhere:/' "$q/kernel/futex/pi.c"
expect_fail "quilt mode: a series that does not apply fails" "nothing was changed" A "$q" apply
[ "$(cd "$q" && quilt series | wc -l)" = 1 ]
result "quilt mode: ... and changes nothing" $?

# plain mode: a tree without git or quilt.
p=$tmp/pristine-copy
check "plain mode: make apply" A "$p" apply
cmp -s "$p/kernel/futex/pi.c" <(git -C "$tmp/6.1-rt-am" show "${tree_6_1_rt:-x}:kernel/futex/pi.c")
result "plain mode: kernel/futex/pi.c as git am of the mbox makes it" $?
check "plain mode: make unapply" A "$p" unapply
diff -r -q "$tmp/pristine-ref" "$p" >"$tmp/plain.diff"
result "plain mode: every file as it was" $? "$(head -n 1 "$tmp/plain.diff")"

# An RT tree whose rwbase_rt.c still has the reader fast path that 6.1-rt's
# "locking/rwbase: Mitigate indefinite writer starvation" removes (plain
# 6.1.y's, in a tree that can build PREEMPT_RT): patch 5 would land wrong
# there, so make apply refuses it and changes nothing.
r=$tmp/rwbase-unfit
rsync -a "$tmp/pristine-ref/" "$r/"
plain=$("$TOP/scripts/fetch-tree.sh" 6.1 2>/dev/null)
cp "$plain/kernel/locking/rwbase_rt.c" "$r/kernel/locking/rwbase_rt.c"
mkdir -p "$r/arch/x86" && echo "	select ARCH_SUPPORTS_RT" >"$r/arch/x86/Kconfig"
rsync -a "$r/" "$tmp/rwbase-unfit-ref/"
expect_fail "an RT tree without the rwbase writer starvation fix is refused" \
	"Mitigate indefinite writer starvation" A "$r" apply
diff -r -q "$tmp/rwbase-unfit-ref" "$r" >"$tmp/rwbase.diff"
result "... and every file is as it was" $? "$(head -n 1 "$tmp/rwbase.diff")"

summary
