#!/bin/bash
# make faults: interrupt every stage of make run, and make apply and
# unapply, at random points, then run the same command again: it must
# recover without a hand clean-up and give the verdict an uninterrupted run
# gives; a user's tree must end up fully patched (apply) or as it was
# (unapply), never half. Also a full disk, damaged downloads, and two runs
# at once. Writes OUT/faults.md (a row per injection) and prints
# "N passed, N failed" counting rows.
#
# Everything runs in OUT/faults: a cache of its own (run/cache, emptied and
# filled by the first, uninterrupted run), an output directory (run/out), trees
# for make apply. The runs are make run of 6.1-rt x86_64 with the whole
# series, ONLY=futex-pi/ (the suite of this project: a boot of about a
# minute), the reference of every verdict.
#
# A stage starts at its line in make run's log ("==> NAME") and lasts as
# long as it did in the reference run; the point is a random fraction of
# that (FAULT_SEED=N repeats a draw). Before an injection, what the stage
# would find done is undone (the cached tree deleted, the working copy
# put back at its base, a source touched, the tests deleted), so that it
# has work to interrupt. The signal goes to the process group of make
# (setsid), as a Ctrl-C or a kill of the job would.
#
# Usage: make faults [FAULTS="stage..."] [POINTS=N]
#   FAULTS: the cases, default all: download unpack series build tests
#           initramfs boot verdict apply-git unapply-git apply-quilt
#           unapply-quilt corrupt two-runs check-beside-run two-outs
#           disk-out disk-cache
#   POINTS: random points per stage and signal (default 1)
set -u
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/testlib.sh"

all="download unpack series build tests initramfs boot verdict apply-git unapply-git apply-quilt unapply-quilt corrupt two-runs check-beside-run two-outs disk-out disk-cache"
cases=${FAULTS:-$all}
points=${POINTS:-1}
inj_prep=:
top=$(realpath -m "${OUT:-$TOP/out}")
f=$top/faults
lock_out "$f"
seed=${FAULT_SEED:-$$}
RANDOM=$seed
fc=$f/run/cache fo=$f/run/out
export FUTEX_PI_CACHE=$fc
mkdir -p "$f/logs" "$fc" "$fo"
md=$f/faults.md
run_args=(KERNEL=6.1-rt ARCH=x86_64 UPTO=all DEBUG=0 "OUT=$fo")
export ONLY=futex-pi/
t_all=$SECONDS

# verdict_of DIR: what a run's verdict says, and the kernel it ran on,
# for comparison.
verdict_of() {
	local base
	base=$(. "$1/runs/6.1-rt-x86_64-uptoall-debug0/run.env" 2>/dev/null && echo "$BASE")
	echo "$(verdict_of_json "$1") on ${base:-no kernel}"
}
verdict_of_json() {
	python3 - "$1/runs/6.1-rt-x86_64-uptoall-debug0/verdict.json" <<'EOF' 2>/dev/null || echo "no verdict"
import json, sys
v = json.load(open(sys.argv[1]))
c = v["counts"]
print(f"{v['verdict']}; {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped")
EOF
}

# start LOG MAKEARGS...: run make in a process group of its own; sets pid.
# A script's background job ignores SIGINT (and so does this script when
# it was started in the background), and make and all below it would
# inherit that; bash cannot undo an ignore it inherited, env(1) can:
# SIGINT gets its default action back, as in a make started from a
# terminal.
start() {
	local logf=$1
	shift
	setsid env --default-signal=INT,QUIT make -C "$TOP" --no-print-directory "$@" >"$logf" 2>&1 </dev/null &
	pid=$!
}

# survivors: processes still running from the faults' directory (a QEMU,
# a compiler, a make) once the interrupted group is gone.
survivors() { pgrep -f -- "$f/" | grep -vx "$$" | while read -r p; do
	[ "$p" = "$BASHPID" ] || echo "$p:$(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | cut -c1-60)"; done; }

# leftovers [DIR...]: what an interrupted run left in the cache and the output
# directory, beyond what an uninterrupted one leaves.
leftovers() {
	find "$fc" "$fo" "$f/trees" "$@" -maxdepth 6 \( -name '*.tmp' -o -name '.apt.*' -o -name '.building' \
		-o -name index.lock -o -name futex-pi-apply -o -name .futex-pi-apply -o -name '.linux_*' \
		-o -name rebase-apply \) 2>/dev/null | sed "s|^$f/||" | sort | paste -sd' '
}

# make_ ARGS...: the make command of a case.
make_() { make -C "$TOP" --no-print-directory "$@"; }

# Reference: the first, uninterrupted run, each line of its log with the
# time it came (for the stages' lengths).
rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 |"); }
# Cold: the reference times every stage the cases interrupt, downloads
# and unpacking included.
cold=cold
rm -rf "$fc" "$fo"
mkdir -p "$fc" "$fo"
log "faults: reference run (cold cache $fc; FAULT_SEED=$seed)"
t=$SECONDS
make_ run "${run_args[@]}" 2>&1 | while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done >"$f/logs/reference.log"
rc=${PIPESTATUS[0]}
ref=$(verdict_of "$fo") ref_rc=$rc
log "faults: reference: exit $rc, $ref ($((SECONDS - t)) s)"
[ "$rc" = 0 ] || { tail -n 20 "$f/logs/reference.log" >&2; die "the reference run failed; see $f/logs/reference.log"; }
# span START_RE END_RE: milliseconds from the first START_RE line of the
# reference to the first END_RE line after it (at least 20).
span() {
	awk -v s="$1" -v e="$2" '{ t = $1; sub(/^[^ ]* /, "") }
		t0 == "" && $0 ~ s { t0 = t; next }
		t0 != "" && $0 ~ e { d = int((t - t0) * 1000); exit }
		END { print (d > 20 ? d : 20) }' "$f/logs/reference.log"
}
wc_tree=$fo/src/6.1-rt

# wait_line LOG RE: until RE is in LOG (every 50 ms); fails if the run
# ($pid) ends first.
wait_line() {
	until grep -qE -- "$2" "$1" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || grep -qE -- "$2" "$1" 2>/dev/null || return 1
		sleep 0.05
	done
}

# inject NAME SIG START_RE END_RE MS MAKEARGS...: prepare (eval inj_prep),
# start make MAKEARGS, wait for START_RE in its log ("" for no wait), and
# signal its group at a random point of the next MS milliseconds. A
# point past the stage (END_RE logged, or the run over) is a miss: the run
# is let finish and another point drawn, in half the time, up to 4 tries.
# Sets inj_log, at (where it hit), left (what it left), surv (processes
# that outlived it), hit (0: the signal hit the stage).
inject() {
	local name=$1 sig=$2 re=$3 end=$4 ms=$5 n=0 p try
	shift 5
	hit=1
	for try in 1 2 3 4; do
		eval "$inj_prep"
		inj_log=$f/logs/$name-$sig-$k.log
		start "$inj_log" "$@"
		if [ -n "$re" ] && ! wait_line "$inj_log" "$re"; then
			at="never reached: $(tail -n 1 "$inj_log" | cut -c1-60)"
			{ wait "$pid"; } 2>/dev/null
			break
		fi
		p=$(( (RANDOM % 900 + 50) * ms / 1000 ))
		sleep "$(printf '%d.%03d' $((p / 1000)) $((p % 1000)))"
		if ! kill -0 "$pid" 2>/dev/null || grep -qE -- "$end" "$inj_log"; then
			at="missed $try time(s)"
			{ wait "$pid"; } 2>/dev/null
			ms=$((ms / 2 > 20 ? ms / 2 : 20))
			continue
		fi
		kill -"$sig" -- -"$pid" 2>/dev/null
		hit=0
		at="$(printf '%d.%03d' $((p / 1000)) $((p % 1000))) s of ~$((ms / 1000)).$((ms % 1000 / 100)) s; at: $(grep -E '^==> |^error' "$inj_log" | tail -n 1 | cut -c5-70 | grep . || echo "(nothing logged yet)")$([ "$try" = 1 ] || echo " (try $try)")"
		break
	done
	{ wait "$pid"; } 2>/dev/null
	# The rest of the group, if any, gets 60 s to go.
	while kill -0 -- -"$pid" 2>/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
	# A signal the run ignored: it went on past the stage.
	if [ "$hit" = 0 ] && grep -qE -- "$end" "$inj_log"; then
		hit=1 at="$at; SIG$sig did not stop it: it went on past the stage"
	fi
	surv=$(survivors)
	[ -z "$surv" ] || { pkill -KILL -f -- "$f/"; sleep 1; }
	left=$(leftovers)
}

# judge_run CASE SIG: the same make run again; row and result.
judge_run() {
	local name=$1 sig=$2 rc=0 s t=$SECONDS ok=0
	make_ run "${run_args[@]}" >"$f/logs/$name-$sig-$k.rerun.log" 2>&1 || rc=$?
	s=$(verdict_of "$fo")
	[ "$hit" = 0 ] && [ "$rc" = "$ref_rc" ] && [ "$s" = "$ref" ] && [ -z "$surv" ] || ok=1
	[ -z "$(leftovers)" ] || ok=1
	row "$name" "$sig" "$at" "$(if [ $ok = 0 ]; then echo yes; else echo NO; fi)" \
		"exit $rc, $s ($((SECONDS - t)) s)" "${left:-nothing}${surv:+; still running: $surv}" "$(leftovers)"
	result "$name, SIG$sig at a random point: the rerun recovers, same verdict" $ok "$at; rerun: exit $rc, $s; left: $left; survivors: $surv"
}

# stage_case NAME START_RE END_RE PREPARATION: the stages of make run.
stage_case() {
	local name=$1 re=$2 end=$3 prep=$4 sig ms
	ms=$(span "$re" "$end")
	for sig in INT KILL; do
		for ((k = 1; k <= points; k++)); do
			inj_prep=$prep
			inject "$name" "$sig" "$re" "$end" "$ms" run "${run_args[@]}"
			judge_run "$name" "$sig"
		done
	done
}
d=': (done|FAILED)'
for c in $cases; do
	case $c in
	download) stage_case download '^==> downloading' '^==> unpacking' 'rm -rf "$fc/trees" "$fc"/downloads/linux*' ;;
	unpack) stage_case unpack '^==> unpacking' "^==> tree .*$d" 'rm -rf "$fc/trees"' ;;
	series) stage_case series '^==> tree 6.1-rt' "^==> tree .*$d" 'git -C "$wc_tree" checkout -q -f --detach base' ;;
	build) stage_case build '^==> build kernel' "^==> build kernel.*$d" 'touch "$wc_tree/kernel/futex/pi.c" "$wc_tree/kernel/locking/rtmutex_api.c" "$wc_tree/include/linux/sched.h"' ;;
	tests) stage_case tests '^==> build tests' "^==> build tests.*$d" 'rm -rf "$fo/tests"' ;;
	initramfs) stage_case initramfs '^==> initramfs$' "^==> initramfs$d" : ;;
	boot) stage_case boot '^==> boot and test' "^==> boot and test.*$d" : ;;
	verdict) stage_case verdict '^==> total:' '^[0-9]+ passed, ' : ;;
	esac
done

# make apply and unapply, on sparse clones of the cached pristine tree
# (the files the series touches), in git and in quilt mode.
pristine=$("$TOP/scripts/fetch-tree.sh" 6.1-rt 2>/dev/null)
nseries=$(series_patches "$TOP/patches" | wc -l)
dirs=$(series_patches "$TOP/patches" | xargs sed -n 's|^+++ b/||p' | xargs -n 1 dirname | sort -u)
export GIT_AUTHOR_NAME=futex-pi-rt GIT_AUTHOR_EMAIL=futex-pi-rt@localhost
export GIT_COMMITTER_NAME=futex-pi-rt GIT_COMMITTER_EMAIL=futex-pi-rt@localhost
# new_tree MODE DIR: a git tree at base, or a quilt tree (no .git) with a
# patch of its own applied.
new_tree() {
	rm -rf "$2" "$2.git"
	git clone -q --shared --no-checkout "$pristine" "$2.git" &&
		git -C "$2.git" sparse-checkout set $dirs && git -C "$2.git" checkout -q -b test base || return 1
	if [ "$1" = git ]; then mv "$2.git" "$2"; return; fi
	rsync -a --exclude=.git "$2.git/" "$2/" && rm -rf "$2.git"
	# quilt looks for patches/ upwards: without one of its own here it
	# would find this project's.
	mkdir -p "$2/patches"
	(cd "$2" && quilt new local.patch && quilt add README && echo local >>README && quilt refresh) >/dev/null 2>&1
}
# state MODE DIR: "pristine", "patched" or what else the tree is.
state() {
	local d=$2 s
	if [ "$1" = git ]; then
		[ -z "$(git -C "$d" status --porcelain --untracked-files=all)" ] || { echo "dirty: $(git -C "$d" status --porcelain | head -n 3 | paste -sd,)"; return; }
		s=$(git -C "$d" rev-list --count base..HEAD)
		[ "$s" = 0 ] && { echo pristine; return; }
		[ "$s" = "$nseries" ] && [ "$(git -C "$d" rev-parse 'HEAD^{tree}')" = "$ref_tree" ] && { echo patched; return; }
		echo "$s commits, tree $(git -C "$d" rev-parse --short 'HEAD^{tree}')"
	else
		s=$(cd "$d" && quilt applied 2>/dev/null | xargs -r -n 1 basename | paste -sd' ')
		if [ "$s" = local.patch ] && diff -r -q -x .pc -x patches "$d" "$f/trees/quilt-ref-pristine" >/dev/null; then echo pristine
		elif [ "$s" = "local.patch $(series_patches "$TOP/patches" | xargs -n 1 basename | paste -sd' ')" ] &&
			diff -r -q -x .pc -x patches "$d" "$f/trees/quilt-ref-patched" >/dev/null; then echo patched
		else echo "applied: ${s:-none}; $(diff -r -q -x .pc -x patches "$d" "$f/trees/quilt-ref-patched" 2>&1 | wc -l) files differ"; fi
	fi
}
apply_case() {
	local action=$1 mode=$2 name=$1-$2 d=$f/trees/$1-$2 sig secs want before after rc t
	[ "$action" = apply ] && want=patched || want=pristine
	for sig in INT KILL; do
		for ((k = 1; k <= points; k++)); do
			inj_prep='new_tree "$mode" "$d" || die "cannot make a $mode tree in $d"
				[ "$action" = apply ] || KSRC=$d "$TOP/scripts/patches/apply-series.sh" apply >/dev/null 2>&1
				before=$(state "$mode" "$d")'
			inject "$name" "$sig" '' ': (applied|removed) \((git|quilt)\)$' "$ms_apply" "$action" "KSRC=$d"
			after=$(state "$mode" "$d")
			t=$SECONDS rc=0
			make_ "$action" "KSRC=$d" >"$f/logs/$name-$sig-$k.rerun.log" 2>&1 || rc=$?
			s=$(state "$mode" "$d")
			ok=0
			[ "$hit" = 0 ] && [ "$rc" = 0 ] && [ "$s" = "$want" ] && [ -z "$(leftovers)" ] || ok=1
			row "$name" "$sig" "$at" "$(if [ $ok = 0 ]; then echo yes; else echo NO; fi)" \
				"exit $rc, tree $s ($((SECONDS - t)) s)" "tree $after (was $before)${left:+; $left}" "$(leftovers)"
			result "$name, SIG$sig at a random point: the rerun leaves the tree $want" $ok "tree after the signal: $after; after the rerun: exit $rc, $s"
		done
	done
}
need_apply=
for c in $cases; do case $c in *apply-*) need_apply=1 ;; esac; done
if [ -n "$need_apply" ]; then
	mkdir -p "$f/trees"
	# The references: an uninterrupted make apply in each mode.
	new_tree git "$f/trees/ref-git" && KSRC=$f/trees/ref-git "$TOP/scripts/patches/apply-series.sh" apply >/dev/null 2>&1
	ref_tree=$(git -C "$f/trees/ref-git" rev-parse 'HEAD^{tree}')
	new_tree quilt "$f/trees/quilt-ref-pristine"
	new_tree quilt "$f/trees/quilt-ref-patched"
	t=${EPOCHREALTIME/./}
	KSRC=$f/trees/quilt-ref-patched "$TOP/scripts/patches/apply-series.sh" apply >/dev/null 2>&1
	ms_apply=$(( (${EPOCHREALTIME/./} - t) / 1000 ))
	for c in $cases; do
		case $c in
		apply-git) apply_case apply git ;;
		unapply-git) apply_case unapply git ;;
		apply-quilt) apply_case apply quilt ;;
		unapply-quilt) apply_case unapply quilt ;;
		esac
	done
fi

# A full disk: the output directory, then the cache, on a tmpfs. First
# one too small for the stage's check (300 MB): the run must stop at once
# with an error that names the space. Then one that passes the check but
# fills up while the stage writes (a file takes all but 100 MB once the
# stage has begun): the run must fail saying the disk is full. Then, with
# room again, the same command must recover and give the reference verdict.
disk_case() {
	local name=$1 size=$2 trigger=$3 mnt=$f/mnt-$1 rc=0 msg msg2 t ok=0 free
	local args=("${run_args[@]}") cache=$fc o
	mkdir -p "$mnt"
	if ! mount -t tmpfs -o size=300m tmpfs "$mnt" 2>/dev/null; then
		row "$name" - "a tmpfs" skipped "cannot mount a tmpfs (not root?)" - -
		return
	fi
	# The cache case has an output directory of its own: its working copy
	# refers to the tmpfs tree, which is gone afterwards.
	if [ "$name" = disk-out ]; then o=$mnt
	else o=$f/run/out-disk cache=$mnt; cp -a "$fc/downloads" "$mnt/"; fi
	args=("${args[@]/#OUT=*/OUT=$o}")
	FUTEX_PI_CACHE=$cache make_ run "${args[@]}" >"$f/logs/$name.small.log" 2>&1 || rc=$?
	msg=$(grep -m1 '^error:' "$f/logs/$name.small.log")
	[ "$rc" != 0 ] && echo "$msg" | grep -q 'MB free' || ok=1
	result "$name: 300 MB: the run stops at once, naming the space" $ok "exit $rc: $msg"
	# Room for the check, then the disk fills while the stage writes.
	mount -o remount,size="${size}m" "$mnt"
	rc=0
	FUTEX_PI_CACHE=$cache start "$f/logs/$name.full.log" run "${args[@]}"
	wait_line "$f/logs/$name.full.log" "$trigger"
	free=$(free_mb "$mnt")
	fallocate -l "$(( (free - 100) * 1024 * 1024 ))" "$mnt/filler" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null || rc=$?
	msg2=$(grep -E 'disk may be full' "$f/logs/$name.full.log" | head -n 1)
	local ok2=0
	[ "$rc" != 0 ] && [ -n "$msg2" ] || ok2=1
	result "$name: ${size} MB, filled while the stage writes: the run fails saying the disk is full" $ok2 "exit $rc: $msg2"
	left=$(leftovers "$mnt")
	# Room again: the same command recovers.
	rm -f "$mnt/filler"
	mount -o remount,size=6g "$mnt"
	t=$SECONDS rc=0
	FUTEX_PI_CACHE=$cache make_ run "${args[@]}" >"$f/logs/$name.rerun.log" 2>&1 || rc=$?
	s=$(verdict_of "$o")
	local ok3=0
	[ "$rc" = "$ref_rc" ] && [ "$s" = "$ref" ] || ok3=1
	result "$name: ... and with room again, the same command gives the reference verdict" $ok3 "exit $rc, $s"
	row "$name" - "300 MB: ${msg#error: }" "$([ $ok = 0 ] && echo "refused, yes" || echo NO)" - - -
	row "$name" - "${size} MB, filled at \"${trigger#^==> }\": ${msg2#error: }" "$([ $((ok2 + ok3)) = 0 ] && echo yes || echo NO)" \
		"exit $rc, $s ($((SECONDS - t)) s)" "${left:-nothing}" "$(leftovers "$mnt")"
	[ -z "$(leftovers "$mnt")" ] || result "$name: ... and leaves nothing behind" 1 "$(leftovers "$mnt")"
	umount "$mnt" && rmdir "$mnt"
	rm -rf "$f/run/out-disk"
}

# Damaged downloads: a truncated .deb (rt-tests, used on every run), a
# corrupt .debian.tar.xz (Debian's RT patches): both found and fetched again.
corrupt_case() {
	local deb rt rc=0 s
	deb=$(ls "$fc"/downloads/rt-tests_*_amd64.deb | sort -V | tail -n 1)
	rt=$(ls "$fc"/downloads/linux_*.debian.tar.xz | sort -V | tail -n 1)
	head -c 1000 "$deb" >"$deb.new" && mv "$deb.new" "$deb"
	python3 -c "import sys; b = bytearray(open(sys.argv[1], 'rb').read()); b[5000] ^= 0xff; open(sys.argv[1] + '.new', 'wb').write(b)" "$rt" && mv "$rt.new" "$rt"
	make_ run "${run_args[@]}" >"$f/logs/corrupt.log" 2>&1 || rc=$?
	s=$(verdict_of "$fo")
	ok=0
	grep -q "$(basename "$deb") in the cache is damaged" "$f/logs/corrupt.log" &&
		grep -q "$(basename "$rt") in the cache does not match" "$f/logs/corrupt.log" &&
		[ "$rc" = "$ref_rc" ] && [ "$s" = "$ref" ] || ok=1
	result "corrupt: a truncated .deb and a corrupt .debian.tar.xz are found and fetched again" $ok "exit $rc, $s"
	row corrupt - "$(basename "$deb") cut to 1000 bytes, a byte of $(basename "$rt") flipped" \
		"$([ $ok = 0 ] && echo yes || echo NO)" "exit $rc, $s" "$(grep -E 'damaged|does not match' "$f/logs/corrupt.log" | cut -c1-90 | paste -sd' ')" -
}

# Two runs at once. wait_for LOG RE: until RE shows in LOG.
wait_for() { local n=0; while ! grep -qE "$2" "$1" 2>/dev/null && [ $n -lt 3000 ]; do sleep 0.2; n=$((n + 1)); done; }
two_runs() {
	local name=$1 rc=0 rc2=0 s msg t=$SECONDS first second
	touch "$wc_tree/kernel/futex/pi.c"
	if [ "$name" = check-beside-run ]; then
		first=(check "CELLS=rt-x86-fixed" "OUT=$fo") second=(run ARCH=arm64 "OUT=$fo")
	else
		first=(run "${run_args[@]}") second=(run "${run_args[@]}")
	fi
	start "$f/logs/$name.1.log" "${first[@]}"
	local p1=$pid
	wait_for "$f/logs/$name.1.log" '^==> build kernel|^==> matrix: rt-x86-fixed'
	make_ "${second[@]}" >"$f/logs/$name.2.log" 2>&1 || rc2=$?
	msg=$(grep -m1 '^error:' "$f/logs/$name.2.log")
	wait "$p1" || rc=$?
	if [ "$name" = check-beside-run ]; then
		s=$(grep -E '^[0-9]+ passed' "$f/logs/$name.1.log" | tail -n 1)
		ok=0; [ "$rc" = 0 ] || ok=1
	else
		s=$(verdict_of "$fo")
		ok=0; [ "$rc" = "$ref_rc" ] && [ "$s" = "$ref" ] || ok=1
	fi
	[ "$rc2" != 0 ] && echo "$msg" | grep -qE "in use by another run \(pid [0-9]+, make .* ${first[0]} " || ok=1
	result "$name: the second run refuses, naming the first; the first finishes right" $ok "first: exit $rc, $s; second: exit $rc2, $msg"
	row "$name" - "make ${second[*]} while make ${first[*]} builds" "$([ $ok = 0 ] && echo yes || echo NO)" \
		"first: exit $rc, $s ($((SECONDS - t)) s)" "second: exit $rc2, ${msg#error: }" -
}
# Two checkouts (two output directories) sharing one cache, both cold on
# the shared parts: apt's index, Debian's RT patches, the tree.
two_outs() {
	local rc1=0 rc2=0 s1 s2 t=$SECONDS o2=$f/run/out2 c1 c2
	rm -rf "$o2" "$fc/trees" "$fc"/downloads/linux_*.debian.tar.xz "$fc/.apt-updated"
	start "$f/logs/two-outs.1.log" run "${run_args[@]}"
	local p1=$pid
	start "$f/logs/two-outs.2.log" run "${run_args[@]/#OUT=*/OUT=$o2}"
	wait "$p1" || rc1=$?
	wait "$pid" || rc2=$?
	s1=$(verdict_of "$fo") s2=$(verdict_of "$o2")
	c1=$(git -C "$fc/trees"/*/ rev-parse base 2>/dev/null | head -n 1)
	ok=0
	[ "$rc1" = "$ref_rc" ] && [ "$s1" = "$ref" ] && [ "$rc2" = "$ref_rc" ] && [ "$s2" = "$ref" ] &&
		[ "$(ls -d "$fc"/trees/*/ | wc -l)" = 1 ] && git -C "$fc/trees"/*/ fsck --no-dangling --connectivity-only 2>/dev/null &&
		[ -z "$(git -C "$fc/trees"/*/ status --porcelain)" ] || ok=1
	result "two-outs: two runs sharing a cold cache both give the reference verdict; one tree, intact" $ok \
		"exit $rc1, $s1; exit $rc2, $s2; trees: $(ls "$fc/trees" | paste -sd' ')"
	row two-outs - "two make runs, two O=, one cold cache" "$([ $ok = 0 ] && echo yes || echo NO)" \
		"exit $rc1, $s1; exit $rc2, $s2 ($((SECONDS - t)) s)" \
		"waited: $(grep -h 'waiting for' "$f"/logs/two-outs.*.log | sort | uniq -c | sed 's/==> //' | paste -sd';')" -
	rm -rf "$o2"
}
for c in $cases; do
	case $c in
	corrupt) corrupt_case ;;
	two-runs | check-beside-run) two_runs "$c" ;;
	two-outs) two_outs ;;
	disk-out) disk_case disk-out 2000 '^==> creating working copy' ;;
	disk-cache) disk_case disk-cache 3300 '^==> unpacking' ;;
	esac
done

{
	echo "# make faults ($(date -u '+%F %H:%M') UTC, FAULT_SEED=$seed, POINTS=$points, $((SECONDS - t_all)) s)"
	echo
	echo "Reference: make run ${run_args[*]} ONLY=$ONLY, $cold cache: exit $ref_rc, $ref."
	echo "Each row: the case, the signal (to make's process group), where it hit"
	echo "(seconds into the stage; the last line the run had printed), whether the"
	echo "same command then recovered with the reference result, what it gave, what"
	echo "the interrupted run left (recovered by the rerun), and what was still"
	echo "there after the rerun (must be nothing)."
	echo
	echo "| case | signal | point | recovered | rerun | left by the interrupted run | left after the rerun |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} >"$md"
log "faults: $md"
summary
