#!/bin/bash
# make mbox: each series as one numbered mbox for review, threaded under a
# cover letter, in OUT/mbox/. Nothing is sent.
#   6.1-rt-futex-pi.mbox    patches/series, the backport, for 6.1-rt
#   upstream-ww_ctx.mbox    patches/upstream, the ww_ctx fix, for mainline
#   5.10-rt-futex-pi.mbox   patches/5.10-rt, the backport, for 5.10-rt
# A cover letter is the series' cover-letter.txt (subject line, blank
# line, text), then what is made here: the matrix rows of the trees the
# series is for (MATRIX, default OUT/cells: make check's results, a JSON
# file per cell, scripts/matrix/matrix.py),
# checkpatch.pl --strict of the tree on every patch (a finding without
# an explanation in explain() stops the script), the patch list with the
# upstream commits they backport, the diffstat; its recipients are what
# the tree's get_maintainer.pl names, and where SERIESDIR/recipients
# exists, its To: and Cc: lines first (get_maintainer.pl's names then go
# to Cc:; a stable-rt line's maintainer is in no MAINTAINERS file).
# Usage: [MATRIX=DIR] [OUT=DIR] scripts/patches/mbox.sh
set -eu
. "$(dirname "$0")/../lib.sh"

. "$TOP/scripts/matrix/cells.sh"

out=$(realpath -m "${OUT:-$TOP/out}")
matrix=${MATRIX:-$out/cells}
# The cells' results, in the matrix's order.
results=$(matrix_rows | while read -r n _; do [ ! -f "$matrix/$n.json" ] || echo "$matrix/$n.json"; done)
[ -n "$results" ] || die "no matrix result in $matrix: run make check first, or give MATRIX=DIR (make check's OUT/cells)"
command -v perl >/dev/null || apt_install perl

# checkpatch's findings that stay, and why. Anything else stops the script.
explain() {
	case $1 in
	*"Unknown commit id"*)
		echo "the tree's source package has no upstream git history for checkpatch to look the id up in" ;;
	*"Please use git commit description style"*"fatal: bad o"*)
		echo "5.10's checkpatch asks git for the commit's title, and the tree's source package has no git history: git's error stands in for the title" ;;
	*"Avoid crashing the kernel"*)
		grep -q '^-.*BUG_ON(&hb2->lock != q.lock_ptr);' "$2" &&
			echo "the BUG_ON is moved with the lock it checks, not added" ;;
	*"Possible unwrapped commit description"*)
		grep -q "^Closes: " "$2" &&
			echo "a Closes: tag, which this tree's checkpatch does not know yet (7.2's accepts it)" ;;
	*"does MAINTAINERS need updating"*)
		grep -q '^F:[[:space:]]*tools/testing/selftests/futex/$' "$3/MAINTAINERS" &&
			echo "the new file is under tools/testing/selftests/futex/, which the FUTEX SUBSYSTEM entry covers" ;;
	esac
}

# mbox NAME SERIESDIR KERNEL TAG: write OUT/mbox/NAME.mbox from
# SERIESDIR/series and SERIESDIR/cover-letter.txt, checked in and
# addressed from the tree KERNEL, with the matrix rows of KERNEL's cells
# (for 6.1-rt: every row but mainline's and Debian 13's; for mainline:
# those).
mbox() {
	local name=$1 sdir=$2 kernel=$3 tag=$4 tree patches n p l sum domain from date filter verdicts
	local checks= unexplained=0 report total w why recipients to cc rows bad i up subj
	tree=$("$TOP/scripts/fetch-tree.sh" "$kernel")
	mapfile -t patches < <(series_patches "$sdir")
	n=${#patches[@]}
	[ "$n" -gt 0 ] || die "${sdir#"$TOP"/}/series lists no patches"
	[ -f "$sdir/cover-letter.txt" ] || die "no ${sdir#"$TOP"/}/cover-letter.txt"
	for p in "${patches[@]}"; do
		[ -f "$p" ] || die "$p (in ${sdir#"$TOP"/}/series) does not exist"
		head -n 1 "$p" | grep -q '^From [0-9a-f]\{40\} ' || die "$p is not a git format-patch file"
		# A body line that starts with "From " ends the message for
		# mbox readers (b4, mail clients); git am alone would not notice.
		l=$(tail -n +2 "$p" | grep -n -m1 '^From ' | cut -d: -f1)
		[ -z "$l" ] ||
			die "$(basename "$p"), line $((l + 1)): a line starting with \"From \" splits the mbox; reword it"
	done

	for p in "${patches[@]}"; do
		report=$(cd "$tree" && perl scripts/checkpatch.pl --strict --no-tree "$p" 2>&1) || true
		total=$(echo "$report" | grep '^total:' || echo 'total: (no summary)')
		checks="$checks  $(basename "$p"): ${total#total: }
"
		while read -r w; do
			[ -n "$w" ] || continue
			why=$(explain "$w" "$p" "$tree") || true
			if [ -z "$why" ]; then
				echo "error: $(basename "$p"): checkpatch: $w" >&2
				unexplained=$((unexplained + 1))
			fi
			checks="$checks    $w${why:+
      ($why)}
"
		done < <(echo "$report" | grep -E '^(ERROR|WARNING|CHECK):')
	done
	[ "$unexplained" = 0 ] || die "$name: $unexplained checkpatch finding(s) without an explanation (scripts/patches/mbox.sh, explain())"

	recipients=$(cd "$tree" && perl scripts/get_maintainer.pl --nogit --nogit-fallback --norolestats "${patches[@]}" 2>/dev/null) ||
		die "get_maintainer.pl failed in $tree"
	if [ -f "$sdir/recipients" ]; then
		to=$(sed -n 's/^To: *//p' "$sdir/recipients" | paste -sd, | sed 's/,/, /g')
		cc=$({ sed -n 's/^Cc: *//p' "$sdir/recipients"; echo "$recipients"; } |
			awk '!seen[$0]++' | paste -sd, | sed 's/,/, /g')
		[ -n "$to" ] || die "${sdir#"$TOP"/}/recipients has no To: line"
	else
		to=$(echo "$recipients" | grep -v '@vger\.kernel\.org$\|@lists\.' | paste -sd, | sed 's/,/, /g')
		cc=$(echo "$recipients" | grep '@vger\.kernel\.org$\|@lists\.' | paste -sd, | sed 's/,/, /g')
	fi
	[ -n "$to$cc" ] || die "get_maintainer.pl named nobody for $name"

	case $kernel in
	6.1-rt) filter=(--not-trees mainline-rt,debian13-rt,5.10-rt,debian11-rt) ;;
	5.10-rt) filter=(--trees 5.10-rt,debian11-rt) ;;
	*) filter=(--trees mainline-rt,debian13-rt) ;;
	esac
	# A cover letter quotes a matrix in which every quoted cell met its
	# expectation.
	# shellcheck disable=SC2086 # a path a word
	verdicts=$("$TOP/scripts/matrix/matrix.py" render --md "$out/mbox/$name.matrix.md" "${filter[@]}" $results) ||
		{ bad=$(echo "$verdicts" | sed -n 's/^FAILED: \([^:]*\):.*/\1/p' | paste -sd' ')
		  [ -n "$bad" ] || die "$matrix has no rows for $kernel's cells: run make check with them"
		  die "$matrix: cell(s) $bad did not meet their expectation; fix them before sending"; }
	rows=$(cat "$out/mbox/$name.matrix.md")

	# Message-IDs from the content, so the same series gives the same mbox.
	sum=$(cat "${patches[@]}" "$sdir/cover-letter.txt" | sha256sum | cut -c1-16)
	domain=$(sed -n 's/^From: .*@\([^>]*\)>.*/\1/p; s/^ <[^@]*@\([^>]*\)>$/\1/p' "${patches[0]}" | head -n 1)
	[ -n "$domain" ] || die "no author address in ${patches[0]}"
	from=$(awk '/^From: / { f = $0; sub(/^From: /, "", f); getline; if ($0 ~ /^ /) f = f $0; print f; exit }' "${patches[0]}")
	date=$(sed -n 's/^Date: //p' "${patches[0]}" | head -n 1)
	msgid() { echo "<$sum-$1-$name@$domain>"; }

	{
		echo "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001"
		echo "From: $from"
		echo "Date: $date"
		echo "Subject: [$tag 0/$n] $(head -n 1 "$sdir/cover-letter.txt")"
		echo "To: $to"
		[ -z "$cc" ] || echo "Cc: $cc"
		echo "Message-ID: $(msgid 0)"
		echo "MIME-Version: 1.0"
		echo "Content-Type: text/plain; charset=UTF-8"
		echo "Content-Transfer-Encoding: 8bit"
		echo
		tail -n +3 "$sdir/cover-letter.txt"
		echo
		echo "Tested on $(tree_base "$tree") and the kernels of the table below."
		echo
		echo "$rows"
		echo
		echo "checkpatch.pl --strict ($kernel tree) on each patch:"
		echo
		printf '%s' "$checks"
		echo
		i=0
		for p in "${patches[@]}"; do
			i=$((i + 1))
			up=$(grep -m1 -oE '^commit [0-9a-f]{40}' "$p" | cut -c8-19 || true)
			subj=$(patch_subject "$p")
			echo "  $i/$n $subj${up:+ (upstream $up)}"
		done
		echo
		# The diffstat of the whole series, a line per file.
		cat "${patches[@]}" | git apply --numstat | awk '
			{ if (!($3 in add)) order[k++] = $3; add[$3] += $1; del[$3] += $2; a += $1; d += $2 }
			END {
				for (i = 0; i < k; i++) printf " %-50s | +%d -%d\n", order[i], add[order[i]], del[order[i]]
				printf " %d files changed, %d insertions(+), %d deletions(-)\n", k, a, d
			}'
		echo
		i=0
		for p in "${patches[@]}"; do
			i=$((i + 1))
			# Number the subject for this series, thread it under the
			# cover letter, unfold the headers (b4 0.12 fails on folded
			# ones); the body stays as it is.
			awk -v tag="[$tag $i/$n]" -v id="$(msgid "$i")" -v top="$(msgid 0)" '
				!hdr_done && NR > 1 && /^[ \t]/ { sub(/^[ \t]+/, " "); h = h $0; next }
				!hdr_done && h != "" { print h; h = "" }
				!hdr_done && NR > 1 && /^$/ {
					print "Message-ID: " id
					print "In-Reply-To: " top
					print "References: " top
					hdr_done = 1
				}
				!hdr_done && /^Subject: \[PATCH[^]]*\]/ { sub(/^Subject: \[PATCH[^]]*\]/, "Subject: " tag) }
				!hdr_done && NR > 1 { h = $0; next }
				{ print }' "$p"
			echo
		done
	} >"$out/mbox/$name.mbox.tmp"
	mv "$out/mbox/$name.mbox.tmp" "$out/mbox/$name.mbox"
	log "wrote $out/mbox/$name.mbox: cover letter and $n patches, To: $(echo "$to" | grep -o '@' | wc -l), Cc: $(echo "$cc" | grep -o '@' | wc -l)"
}

mkdir -p "$out/mbox"
mbox 6.1-rt-futex-pi "$TOP/patches" 6.1-rt "PATCH 6.1-rt"
mbox upstream-ww_ctx "$TOP/patches/upstream" mainline-rt "PATCH"
mbox 5.10-rt-futex-pi "$TOP/patches/5.10-rt" 5.10-rt "PATCH 5.10-rt"
