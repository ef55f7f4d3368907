#!/bin/bash
# The matrix's booted cells as LAVA jobs, run by LAVA's own dispatcher.
# Usage: scripts/lava/lava.sh jobs      make lava: build each cell's kernel and
#                                  initramfs (make run without the boot),
#                                  then as "package"
#        scripts/lava/lava.sh package   write each cell's job from what make run
#                                  or make check left in OUT/runs: the job,
#                                  the device LAVA gives it, the kernel,
#                                  initramfs and config, under OUT/lava/CELL;
#                                  then lava-run --validate on the job
#        scripts/lava/lava.sh validate  lava-run --validate on OUT/lava/CELL/job.yaml
#        scripts/lava/lava.sh run       make lava-run: run each job with lava-run
#                                  (OUT/lava/CELL/lava.log), then as "matrix"
#        scripts/lava/lava.sh matrix    make lava-matrix: judge each cell from its
#                                  job's log (OUT/lava/CELL/lava.log: from
#                                  lava-run, or downloaded from a LAVA lab)
#                                  and write OUT/lava/matrix.md (the rows
#                                  of those cells, as make check writes them)
# Env: CELLS (default: every booted cell make check runs), OUT, LAVA_URL
#      (where a lab fetches the files of OUT/lava; default file://OUT/lava),
#      TIMEOUT (s, a job's limit, default 900), SMP, MEM, APPEND
# The verdict of a cell is scripts/verdict.py's, with the options make check
# gives it (cell_verdict_args, saved with the cell's artifacts): the same
# whichever engine booted the guest.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/scripts/matrix/cells.sh"

what=${1:-}
case $what in jobs | package | validate | run | matrix) ;; *) die "usage: $0 jobs|package|validate|run|matrix" ;; esac
out=$(realpath -m "${OUT:-$TOP/out}")
lock_out "$out"
lava=$out/lava
types=$CACHE/lava-device-types
M=$TOP/scripts/matrix/matrix.py

# The cells: CELLS, each a booted cell of the matrix; by default every
# booted cell make check runs.
cells=${CELLS:-$(matrix_rows | while read -r n t _ _ _ _ e; do
	case " $on_demand " in *" $n "*) continue ;; esac
	if cell_booted "$t" "$e"; then echo "$n"; fi
done)}
for name in $cells; do
	cell "$name"
	cell_booted "$tree" "$expect" || die "cell '$name' boots no guest (tree $tree, expect $expect): it has no LAVA job"
done
[ -n "$cells" ] || die "CELLS is empty"

# lava_reason LOG: why LAVA failed the job, as scripts/verdict.py reads it.
lava_reason() {
	python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import verdict
print("\n".join(verdict.read_lava(sys.argv[2])[3]))' "$TOP/scripts" "$1"
}

# lava_validate NAME: LAVA's own check of the job, against its device.
lava_validate() {
	local dir=$lava/$1 vlog
	[ -f "$dir/job.yaml" ] && [ -f "$dir/device.yaml" ] || die "$1: no LAVA job in $dir (make lava CELLS=$1)"
	vlog=$dir/validate.log
	rm -rf "$dir/validate"
	if ! lava-run --validate --job-id "$$" --output-dir "$dir/validate" --device "$dir/device.yaml" \
		"$dir/job.yaml" >"$vlog" 2>&1 || ! grep -q '"Job finished correctly"' "$vlog"; then
		{ lava_reason "$vlog" | grep . || tail -n 5 "$vlog"; } | head -n 6 | sed 's/^/    /' >&2
		die "$1: LAVA rejected $dir/job.yaml (lava-run --validate: $vlog)"
	fi
	log "$1: lava-run --validate: job accepted ($dir/job.yaml)"
}

# package NAME: the cell's job and files, from what its run left.
package() {
	local name=$1 dir f slowest o opts
	cell "$name"
	arch_conf "$arch"
	dir=$lava/$name
	cell_load "$out" || die "$name: no run of this cell in $out (make lava CELLS=$name builds it; make check leaves it)"
	for f in "$IMAGE" "$CONFIG" "$INITRAMFS" "$INITRAMFS.tests" "$RUN/verdict-args"; do
		[ -f "$f" ] || die "$name: missing artifact $f (make lava CELLS=$name builds it; make check leaves it)"
	done
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$IMAGE" "$dir/$(basename "$IMAGE")"
	cp "$INITRAMFS" "$RUN/verdict-args" "$dir/"
	cp "$CONFIG" "$dir/config"
	slowest=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$INITRAMFS.tests")
	# Machine and CPU go in the job's context and among its options:
	# LAVA's stock qemu template writes the context's only for arm64 (for
	# x86_64 only with KVM).
	opts=(--option="-machine $QEMU_MACHINE" --option="-cpu $QEMU_CPU")
	while read -r o; do opts+=(--option="$o"); done < <(guest_qemu_options)
	/usr/bin/python3 "$TOP/scripts/lava/lava-render.py" --device-types "$types" --out "$dir" \
		--cell "$name" --tree "$tree" --arch "$arch" --upto "$upto" --debug "$debug" \
		--lockdbg "$lockdbg" --expect "$expect" --machine "$QEMU_MACHINE" --cpu "$QEMU_CPU" \
		--memory "${MEM:-1024}" --cmdline "$(guest_cmdline)" --kernel "$(basename "$IMAGE")" \
		--base-url "${LAVA_URL:-file://$lava}/$name" --slowest "$slowest" \
		--job-timeout "${TIMEOUT:-900}" "${opts[@]}" >"$dir/render.log" 2>&1 \
		|| { cat "$dir/render.log" >&2; die "$name: could not write the LAVA job"; }
	sed 's/^/    /' "$dir/render.log" >&2
	lava_validate "$name"
}

# judge NAME: the cell's verdict from its job's log, as data: its
# verdict.json (scripts/verdict.py) and OUT/lava/cells/NAME.json
# (scripts/matrix/matrix.py; make mbox MATRIX=OUT/lava/cells quotes them).
judge() {
	local name=$1 dir=$lava/$1 secs args observed
	cell "$name"
	args=(--name "$name" --tree "$tree" --arch "$arch" --upto "$upto" --debug "$debug"
	      --lockdbg "$lockdbg" --expect "$expect" --log "$dir/lava.log")
	mkdir -p "$dir" "$lava/cells"
	rm -f "$dir/verdict.json"
	if [ ! -f "$dir/lava.log" ] || [ ! -f "$dir/verdict-args" ]; then
		observed="no LAVA job log at $dir/lava.log (make lava-run, or save the lab's log there)"
		[ -f "$dir/verdict-args" ] || observed="missing artifact $dir/verdict-args (make lava CELLS=$name)"
		warn "$name: $observed"
		"$M" cell "$lava/cells/$name.json" "${args[@]}" --rc 1 --observed "$observed"
		return 0
	fi
	# shellcheck disable=SC2046 # the saved options, a word each
	"$TOP/scripts/verdict.py" --lava $(cat "$dir/verdict-args") --config "$dir/config" \
		--results "$dir/results.txt" --json "$dir/verdict.json" "$dir/lava.log" >"$dir/verdict.log" 2>&1 || true
	secs=$(sed -n 's/^\(- \)\{0,1\}{"dt": "\([^"]*\)".*/\2/p' "$dir/lava.log" | sed -n '1p;$p' |
		while read -r d; do date -d "$d" +%s; done | paste -sd' ' | awk '{ print $2 - $1 }')
	"$M" cell "$lava/cells/$name.json" "${args[@]}" --secs "${secs:-0}" --verdict "$dir/verdict.json" \
		--observed "verdict.py could not judge $dir/lava.log: $(tail -n 1 "$dir/verdict.log")"
	log "lava: $name: met: $("$M" get "$lava/cells/$name.json" met): $("$M" get "$lava/cells/$name.json" observed)"
}

case $what in
jobs)
	stage "dependencies (LAVA)" "$TOP/scripts/deps.sh" lava
	for name in $cells; do
		cell "$name"
		mkdir -p "$lava"
		t=$SECONDS
		log "$name: kernel and initramfs ($tree $arch UPTO=$upto DEBUG=$debug LOCK_DEBUG=$lockdbg; log: $lava/$name.build.log)"
		cell_run "$out" NOBOOT=1 >"$lava/$name.build.log" 2>&1 ||
			{ tail -n 15 "$lava/$name.build.log" >&2; die "$name: make run (NOBOOT=1) failed: $lava/$name.build.log"; }
		log "$name: kernel and initramfs: done in $((SECONDS - t)) s"
		cell_load "$out" || die "$name: make run (NOBOOT=1) left no run.env"
		cell_verdict_args "$out/src/$tree" >"$RUN/verdict-args"
		package "$name"
	done
	log "LAVA jobs: $(for n in $cells; do printf '%s ' "$lava/$n/job.yaml"; done)"
	;;
package)
	stage "dependencies (LAVA)" "$TOP/scripts/deps.sh" lava
	for name in $cells; do package "$name"; done
	;;
validate)
	stage "dependencies (LAVA)" "$TOP/scripts/deps.sh" lava
	for name in $cells; do lava_validate "$name"; done
	;;
run)
	stage "dependencies (LAVA)" "$TOP/scripts/deps.sh" lava
	for name in $cells; do
		dir=$lava/$name
		[ -f "$dir/job.yaml" ] || die "$name: no LAVA job in $dir (make lava CELLS=$name)"
		rm -rf "$dir/lava-run" "$dir/lava.log"
		# The job's own limit (written into it by make lava) ends it; this
		# one only guards the host. The job id names LAVA's scratch
		# directory: one of its own for each run.
		limit=$(awk '/^  job:$/ { j = 1; next } j && /seconds:/ { print $2; exit }' "$dir/job.yaml")
		t=$SECONDS
		log "$name: lava-run (log: $dir/lava.log)"
		timeout --foreground --kill-after=10 $((${limit:-${TIMEOUT:-900}} + 120)) \
			lava-run --job-id "$$" --output-dir "$dir/lava-run" --device "$dir/device.yaml" \
			"$dir/job.yaml" >"$dir/lava.log" 2>&1 ||
			warn "$name: lava-run ended with an error (the verdict says what was seen)"
		log "$name: lava-run: done in $((SECONDS - t)) s"
	done
	CELLS=$cells "$0" matrix
	;;
matrix)
	mkdir -p "$lava" || die "cannot write $lava"
	for name in $cells; do judge "$name"; done
	# shellcheck disable=SC2046 # a path a word
	"$M" render --md "$lava/matrix.md" \
		--title "Engine: LAVA (lava-dispatcher $(dpkg-query -W -f='${Version}' lava-dispatcher 2>/dev/null || echo '?')). Job logs: $lava/CELL/lava.log." \
		$(for name in $cells; do echo "$lava/cells/$name.json"; done)
	;;
esac
