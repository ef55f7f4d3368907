#!/bin/bash
# Apply the series to, or remove it from, a user's kernel tree. Everything is
# first tried on a scratch copy of the touched files; the tree is changed only
# if every step would succeed, so a failure leaves it as it was.
# Usage: KSRC=DIR scripts/apply-series.sh apply|unapply
set -eu
. "$(dirname "$0")/lib.sh"

action=${1:-}
case $action in apply | unapply) ;; *) die "usage: KSRC=DIR apply-series.sh apply|unapply" ;; esac
[ -n "${KSRC:-}" ] || die "set KSRC to the kernel tree, e.g. make $action KSRC=~/linux"
[ -d "$KSRC" ] || die "KSRC=$KSRC does not exist"
[ -f "$KSRC/Makefile" ] && [ -f "$KSRC/kernel/futex/pi.c" ] ||
	die "KSRC=$KSRC is not a kernel tree with kernel/futex/pi.c"
command -v patch >/dev/null || die "patch not found: apt-get install patch"
ksrc=$(realpath "$KSRC")
done_word=applied
[ "$action" = unapply ] && done_word=removed

# DEBUG=1 (the assertion out of order) is a test state of make run and make check.
[ "${DEBUG:-0}" = 1 ] && die "DEBUG=1 is for make run and make check (a test state); make apply applies the series in order"
# What is applied is always a prefix of the series, since apply goes
# forward and unapply backward.
stack=($(series_patches "$TOP/patches"))

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
files=$(sed -n -E 's#^(\+\+\+ b|--- a)/([^[:space:]]+).*#\2#p' "${stack[@]}" | sort -u)
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
	if [ "$applied" = 0 ] && tree_has_fix "$ksrc"; then
		log "$ksrc already has the upstream fix (fbeb558b0dd0): nothing to apply"
		exit 0
	fi
	todo=("${stack[@]:applied:want-applied}") dir=
else
	[ "$applied" -gt 0 ] || { log "$ksrc has none of the series: nothing to remove"; exit 0; }
	todo=() dir=-R
	for ((i = applied - 1; i >= 0; i--)); do todo+=("${stack[i]}"); done
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
for p in "${todo[@]}"; do
	pt "$ksrc" "$dir" "$p" >/dev/null
	log "$(basename "$p"): $done_word"
done
