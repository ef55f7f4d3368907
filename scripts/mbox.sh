#!/bin/bash
# make mbox: the series (patches/series) as one numbered mbox for review,
# threaded under a cover letter: OUT/mbox/6.1-rt-futex-pi.mbox. Nothing is
# sent. The cover letter is patches/cover-letter.txt, then what is made
# here: the patches and the upstream commits they backport, the diffstat,
# checkpatch.pl --strict of the 6.1-rt tree on every patch (a warning
# without an explanation below stops the script), the matrix result
# (MATRIX, default OUT/matrix.md from make check) and the recipients that
# the tree's get_maintainer.pl names.
# Usage: [MATRIX=FILE] [OUT=DIR] scripts/mbox.sh
set -eu
. "$(dirname "$0")/lib.sh"

out=$(realpath -m "${OUT:-$TOP/out}")
matrix=${MATRIX:-$out/matrix.md}
[ -f "$matrix" ] || die "no matrix result at $matrix: run make check first, or give MATRIX=FILE"
grep -q '^| cell |' "$matrix" || die "$matrix is not a matrix of make check (no '| cell |' table)"
command -v perl >/dev/null || apt_install perl
tree=$("$TOP/scripts/fetch-tree.sh" 6.1-rt)
version=6.1-rt
mapfile -t patches < <(series_patches "$TOP/patches")
n=${#patches[@]}
[ "$n" -gt 0 ] || die "patches/series lists no patches"
for p in "${patches[@]}"; do
	[ -f "$p" ] || die "$p (in patches/series) does not exist"
	head -n 1 "$p" | grep -q '^From [0-9a-f]\{40\} ' || die "$p is not a git format-patch file"
done

# checkpatch's warnings that stay, and why. Anything else stops the script.
explain() {
	case $1 in
	*"Unknown commit id"*)
		echo "the 6.1-rt source has no upstream git history for checkpatch to look the id up in" ;;
	*"Possible unwrapped commit description"*)
		grep -q "^Closes: " "$2" &&
			echo "a Closes: tag, which 6.1's checkpatch does not know yet (6.12's accepts it)" ;;
	esac
}
checks= unexplained=0
for p in "${patches[@]}"; do
	report=$(cd "$tree" && perl scripts/checkpatch.pl --strict --no-tree "$p" 2>&1) || true
	total=$(echo "$report" | grep '^total:' || echo 'total: (no summary)')
	checks="$checks  $(basename "$p"): ${total#total: }
"
	while read -r w; do
		[ -n "$w" ] || continue
		why=$(explain "$w" "$p") || true
		if [ -z "$why" ]; then
			echo "error: $(basename "$p"): checkpatch: $w" >&2
			unexplained=$((unexplained + 1))
		fi
		checks="$checks    $w${why:+
      ($why)}
"
	done < <(echo "$report" | grep -E '^(ERROR|WARNING|CHECK):')
done
[ "$unexplained" = 0 ] || die "$unexplained checkpatch finding(s) without an explanation (scripts/mbox.sh, explain())"

recipients=$(cd "$tree" && perl scripts/get_maintainer.pl --nogit --nogit-fallback --norolestats "${patches[@]}" 2>/dev/null) ||
	die "get_maintainer.pl failed in $tree"
to=$(echo "$recipients" | grep -v '@vger\.kernel\.org$\|@lists\.' | paste -sd, | sed 's/,/, /g')
cc=$(echo "$recipients" | grep '@vger\.kernel\.org$\|@lists\.' | paste -sd, | sed 's/,/, /g')
[ -n "$to$cc" ] || die "get_maintainer.pl named nobody"

# Message-IDs from the content, so the same series gives the same mbox.
sum=$(cat "${patches[@]}" "$TOP/patches/cover-letter.txt" | sha256sum | cut -c1-16)
domain=$(sed -n 's/^From: .*@\([^>]*\)>.*/\1/p; s/^ <[^@]*@\([^>]*\)>$/\1/p' "${patches[0]}" | head -n 1)
[ -n "$domain" ] || die "no author address in ${patches[0]}"
msgid() { echo "<$sum-$1-$version-futex-pi@$domain>"; }
from=$(awk '/^From: / { f = $0; sub(/^From: /, "", f); getline; if ($0 ~ /^ /) f = f $0; print f; exit }' "${patches[0]}")
date=$(sed -n 's/^Date: //p' "${patches[0]}" | head -n 1)

dir=$out/mbox
mkdir -p "$dir"
mbox=$dir/$version-futex-pi.mbox
tmp=$mbox.tmp
{
	echo "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001"
	echo "From: $from"
	echo "Date: $date"
	echo "Subject: [PATCH $version 0/$n] $(head -n 1 "$TOP/patches/cover-letter.txt")"
	echo "To: $to"
	[ -z "$cc" ] || echo "Cc: $cc"
	echo "Message-ID: $(msgid 0)"
	echo "MIME-Version: 1.0"
	echo "Content-Type: text/plain; charset=UTF-8"
	echo "Content-Transfer-Encoding: 8bit"
	echo
	tail -n +3 "$TOP/patches/cover-letter.txt"
	echo
	echo "Matrix ($(basename "$matrix")):"
	echo
	grep '^|' "$matrix"
	echo
	grep '^Total:' "$matrix" | sed 's/ Logs: .*//' || true
	echo
	echo "checkpatch.pl --strict (6.1-rt tree) on each patch:"
	echo
	printf '%s' "$checks"
	echo
	i=0
	for p in "${patches[@]}"; do
		i=$((i + 1))
		up=$(grep -m1 -oE '^commit [0-9a-f]{40}' "$p" | cut -c8-19 || true)
		subj=$(awk '/^Subject: / { s = $0; getline; while ($0 ~ /^ /) { s = s $0; getline } print s; exit }' "$p" |
			sed 's/^Subject: \[PATCH[^]]*\] //')
		echo "  $i/$n $subj${up:+ (upstream $up)}"
	done
	echo
	# The diffstat of the whole series, a line per file.
	cat "${patches[@]}" | git apply --numstat | awk '
		{ if (!($3 in add)) order[n++] = $3; add[$3] += $1; del[$3] += $2; a += $1; d += $2 }
		END {
			for (i = 0; i < n; i++) printf " %-30s | +%d -%d\n", order[i], add[order[i]], del[order[i]]
			printf " %d files changed, %d insertions(+), %d deletions(-)\n", n, a, d
		}'
	echo
	echo "-- "
	echo "futex-pi-rt"
	echo
	i=0
	for p in "${patches[@]}"; do
		i=$((i + 1))
		# Number the subject for this series, thread it under the cover
		# letter; the rest of the file stays as it is.
		awk -v tag="[PATCH $version $i/$n]" -v id="$(msgid "$i")" -v top="$(msgid 0)" '
			!hdr_done && /^Subject: \[PATCH[^]]*\]/ { sub(/^Subject: \[PATCH[^]]*\]/, "Subject: " tag) }
			!hdr_done && /^$/ {
				print "Message-ID: " id
				print "In-Reply-To: " top
				print "References: " top
				hdr_done = 1
			}
			{ print }' "$p"
		echo
	done
} >"$tmp"
mv "$tmp" "$mbox"
log "wrote $mbox: cover letter and $n patches (To: $(echo "$to" | tr ',' '\n' | wc -l), Cc: $(echo "$cc" | tr ',' '\n' | grep -c . || true))"
echo "$mbox"
