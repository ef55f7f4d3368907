#!/bin/bash
# Apply the series to, or remove it from, a user's kernel tree. Everything is
# first tried on a scratch copy of the touched files; the tree is changed only
# if every step would succeed, so a failure leaves it as it was.
# Usage: KSRC=DIR [DEBUG=1] scripts/apply-series.sh apply|unapply
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

patches=$(series_patches "$TOP/patches")
[ "${DEBUG:-0}" = 1 ] && patches="$patches $(series_patches "$TOP/patches/debug")"
[ "$action" = unapply ] && patches=$(printf '%s\n' $patches | tac)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Copy the files the patches touch.
for f in $(sed -n -E 's#^(\+\+\+ b|--- a)/([^[:space:]]+).*#\2#p' $patches | sort -u); do
	[ -e "$ksrc/$f" ] && install -D -m 644 "$ksrc/$f" "$scratch/$f"
done

if [ "$action" = apply ] && tree_has_fix "$ksrc" &&
	! patch -d "$scratch" -p1 -R --dry-run -s -f --fuzz=0 <"$(echo $patches | cut -d' ' -f1)" >/dev/null 2>&1; then
	log "$ksrc already has the upstream fix (fbeb558b0dd0): nothing to apply"
	exit 0
fi

# try DIR PATCH: "applied", "todo" or "fails" for the action at hand.
try() {
	local fwd=-R rev=
	[ "$action" = unapply ] && fwd= rev=-R
	if patch -d "$1" -p1 $rev --dry-run -s -f --fuzz=0 <"$2" >/dev/null 2>&1; then
		echo done
	elif patch -d "$1" -p1 $fwd --dry-run -s -f --fuzz=0 <"$2" >/dev/null 2>&1; then
		echo todo
	else
		echo fails
	fi
}
flag() { [ "$action" = unapply ] && echo -R; true; }

# Dry run, in order, on the scratch copy.
todo=
for p in $patches; do
	case $(try "$scratch" "$p") in
	done) log "$(basename "$p"): already $done_word" ;;
	todo)
		patch -d "$scratch" -p1 $(flag) -s -f --fuzz=0 --no-backup-if-mismatch <"$p" >/dev/null
		todo="$todo $p" ;;
	fails)
		echo "error: $(basename "$p") does not ${action} cleanly to $ksrc; nothing was changed:" >&2
		patch -d "$scratch" -p1 $(flag) --dry-run -f --fuzz=0 <"$p" | grep -E 'FAILED|^patching|malformed|Reversed' | sed 's/^/  /' >&2
		exit 1 ;;
	esac
done

for p in $todo; do
	patch -d "$ksrc" -p1 $(flag) -s -f --fuzz=0 --no-backup-if-mismatch <"$p" >/dev/null
	log "$(basename "$p"): $done_word"
done
[ -n "$todo" ] || log "nothing to do"
