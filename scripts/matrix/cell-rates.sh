#!/bin/bash
# How often each booted cell of the matrix meets its expectation: the
# matrix's own false-failure rate. Boots the kernel and initramfs that make
# check (or make run) left in OUT/runs N times per cell, the cells in turn
# (so that a stall of the host falls on several cells, not on one), and
# judges every boot as make check does: scripts/verdict.py with the cell's
# saved options. No retry. Prints, and writes to OUT/cell-rates.md, a row
# per cell: boots, boots that met the expectation, and what each other boot
# showed; the serial logs of those stay in OUT/cell-rates/CELL/.
# Usage: scripts/matrix/cell-rates.sh N
# Env: CELLS (default: every booted cell that has a run in OUT), OUT, and
#      SMP, MEM, TIMEOUT, SILENCE as for scripts/boot-qemu.sh
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/scripts/matrix/cells.sh"

n=${1:-}
case $n in '' | *[!0-9]* | 0) die "usage: $0 N (boots per cell, a number above 0)" ;; esac
out=$(realpath -m "${OUT:-$TOP/out}")
rates=$out/cell-rates

# The cells, each with what it booted. By default the booted cells whose
# run make check left; named cells must have one.
all=$(matrix_rows | while read -r name t _ _ _ _ e; do
	if cell_booted "$t" "$e"; then echo "$name"; fi
done)
cells=
for name in ${CELLS:-$all}; do
	cell "$name"
	cell_booted "$tree" "$expect" || die "cell '$name' boots no guest (tree $tree, expect $expect)"
	arch_conf "$arch"
	missing=
	if cell_load "$out"; then
		for f in "$IMAGE" "$CONFIG" "$INITRAMFS" "$RUN/verdict-args"; do
			[ -f "$f" ] || missing=$f
		done
	else
		missing=$out/cells/$name.env
	fi
	if [ -n "$missing" ]; then
		[ -z "${CELLS:-}" ] && continue
		die "$name: missing $missing (make check CELLS=$name leaves it)"
	fi
	cells="$cells $name"
done
[ -n "$cells" ] || die "no booted cell has a run in $out/runs (run make check first)"

rm -rf "$rates"
mkdir -p "$rates"
log "cell rates: $n boot(s) of each of$cells"
t0=$SECONDS
for i in $(seq 1 "$n"); do
	for name in $cells; do
		cell "$name"
		arch_conf "$arch"
		cell_load "$out"
		dir=$rates/$name
		mkdir -p "$dir"
		serial=$dir/serial-$i.log rc=0 t=$SECONDS
		"$TOP/scripts/boot-qemu.sh" "$arch" "$IMAGE" "$INITRAMFS" \
			"$serial" >"$dir/boot-$i.log" 2>&1 || rc=$?
		# shellcheck disable=SC2046 # the saved options, a word each
		"$TOP/scripts/verdict.py" $(cat "$RUN/verdict-args") --qemu-rc "$rc" --config "$CONFIG" \
			--json "$dir/verdict-$i.json" "$serial" >"$dir/verdict-$i.log" 2>&1 || true
		v=FAIL
		[ "$("$TOP/scripts/matrix/matrix.py" get "$dir/verdict-$i.json" met)" = yes ] && v=ok
		observed=$("$TOP/scripts/matrix/matrix.py" get "$dir/verdict-$i.json" observed)
		echo "$v $((SECONDS - t)) $observed" >>"$dir/verdicts"
		[ "$v" = FAIL ] || rm -f "$serial" "$dir/verdict-$i.log"
		log "cell rates: $name, boot $i of $n: $v ($((SECONDS - t)) s): $observed"
	done
done

{
	echo "| cell | boots | as expected | mean boot | the other boots showed |"
	echo "|---|---|---|---|---|"
	for name in $cells; do
		awk -v name="$name" '
			{ boots++; secs += $2 }
			$1 == "ok" { ok++; next }
			{ $1 = ""; $2 = ""; sub(/^  /, ""); gsub(/\|/, "/"); other = other (other ? "; " : "") "boot " NR ": " $0 }
			END { printf "| %s | %d | %d | %d s | %s |\n", name, boots, ok, secs / boots, other ? other : "-" }
		' "$rates/$name/verdicts"
	done
	echo
	echo "$n boot(s) per cell, $((SECONDS - t0)) s in all. Logs of the other boots: $rates/CELL/."
} >"$out/cell-rates.md"
cat "$out/cell-rates.md"
! grep -q '^FAIL' "$rates"/*/verdicts
