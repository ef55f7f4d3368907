#!/bin/bash
# make bench: what the series costs at runtime. Boots the unpatched and the
# patched kernel of one tree and arch alternately (A B A B ...), without the
# debug series and without lock debugging, runs bench/futex_pi_bench in each,
# and reports per figure the median of each side and the ratio
# patched/unpatched with the spread of the per-pair ratios.
# Env: ARCH, KERNEL (6.1-rt), BOOTS (5), SMP, OUT
set -eu
. "$(dirname "$0")/lib.sh"

kernel=${KERNEL:-6.1-rt} arch=${ARCH:-x86_64} boots=${BOOTS:-5}
out=$(realpath -m "${OUT:-$TOP/out}")
arch_conf "$arch"
dir=$out/bench/$kernel-$arch-smp${SMP:-2}
bld=$out/build/$kernel-$arch-bench
mkdir -p "$dir/extra" "$dir/tests/futex-pi" "$dir/tests/futex"
t0=$SECONDS

stage "dependencies" "$TOP/scripts/deps.sh"
for v in unpatched patched; do
	upto=0
	[ "$v" = patched ] && upto=all
	src=$(stage "tree $kernel, $v" "$TOP/scripts/prepare-tree.sh" "$kernel" "$out/src/$kernel" "$upto" 0)
	LOCK_DEBUG=0 stage "build $v kernel ($arch, no lock debugging)" \
		"$TOP/scripts/build-kernel.sh" "$src" "$bld" "$arch" 1
	cp "$bld/$KIMAGE" "$dir/$v.img"
done

"$TEST_CC" -static -O2 -Wall -o "$dir/tests/init" "$TOP/guest/init.c"
"$TEST_CC" -static -O2 -Wall -pthread -o "$dir/extra/futex_pi_bench" "$TOP/bench/futex_pi_bench.c"
: >"$dir/tests/list.futex-pi"
: >"$dir/tests/list.futex"
EXTRA_TIMEOUT=300 "$TOP/scripts/make-initramfs.sh" "$bld" "$dir/tests" "$dir/initrd" "$dir/extra"

for i in $(seq 1 "$boots"); do
	for v in unpatched patched; do
		rc=0
		stage "boot $i/$boots: $v" env TIMEOUT=600 "$TOP/scripts/boot-qemu.sh" "$arch" \
			"$dir/$v.img" "$dir/initrd" "$dir/$v-$i.log" || rc=$?
		grep -q '^ok 2 extra/futex_pi_bench' "$dir/$v-$i.log" ||
			die "benchmark run $v $i failed (rc $rc); see $dir/$v-$i.log"
		sed -n 's/^ *bench: //p' "$dir/$v-$i.log" | tr -d '\r' >"$dir/$v-$i.txt"
	done
done

# Per figure: median of each side, ratio of the medians, and the range of
# the ratios of the boots taken side by side (pair i = unpatched i, patched i).
accel=$(grep -o -- '-accel [a-z]*' "$dir/patched-1.log.cmd" | head -n 1)
{
	echo "# futex PI series: patched / unpatched, $kernel $arch"
	echo
	echo "$boots boots each, alternating; SMP=${SMP:-2}; QEMU $accel$( [ "$accel" = "-accel tcg" ] && echo ' (emulation: absolute numbers mean little, the ratio counts)')."
	echo "Kernels without the debug series and without lock debugging."
	echo
	echo "| figure | unit | unpatched (median) | patched (median) | ratio | per-pair ratio range |"
	echo "|---|---|---|---|---|---|"
	awk -v boots="$boots" -v dir="$dir" '
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	BEGIN {
		for (i = 1; i <= boots; i++) for (s = 0; s < 2; s++) {
			side = s ? "patched" : "unpatched"
			f = dir "/" side "-" i ".txt"
			while ((getline line < f) > 0) {
				split(line, w, " ")
				v[side, w[1], i] = w[2]; unit[w[1]] = w[3]
				if (!(w[1] in seen)) { seen[w[1]] = 1; order[++nf] = w[1] }
			}
			close(f)
		}
		for (k = 1; k <= nf; k++) {
			name = order[k]
			for (i = 1; i <= boots; i++) { a[i] = v["unpatched", name, i] + 0; b[i] = v["patched", name, i] + 0 }
			lo = ""; hi = ""
			for (i = 1; i <= boots; i++) if (a[i] > 0) {
				r = b[i] / a[i]
				if (lo == "" || r < lo) lo = r
				if (hi == "" || r > hi) hi = r
			}
			ma = median(a, boots); mb = median(b, boots)
			printf "| %s | %s | %.0f | %.0f | %s | %s |\n", name, unit[name], ma, mb,
				ma > 0 ? sprintf("%.2f", mb / ma) : "-", lo == "" ? "-" : sprintf("%.2f .. %.2f", lo, hi)
		}
	}'
	echo
	echo "Raw figures: $dir/{unpatched,patched}-N.txt; $((SECONDS - t0)) s in all."
} >"$dir/report.md"
cat "$dir/report.md"
