#!/bin/bash
# Summarise make bench's runs: per figure, the median of each side, the
# ratio of the medians (patched / unpatched), a 95% interval for the ratio
# of the geometric means (boots taken as independent samples) and the range
# of the ratios of the boots taken side by side. Writes DIR/report.md and
# prints it.
# Usage: scripts/measure/bench-report.sh DIR BOOTS "WHAT" SECONDS
set -eu
[ $# = 4 ] && [ -d "$1" ] || {
	echo "usage: [SIDES='unpatched patched [mainline]'] $0 DIR BOOTS WHAT SECONDS" >&2
	exit 2
}
dir=$1 boots=$2 what=$3 secs=$4

# Per figure: median of each side, ratio of the medians, and the range of
# the ratios of the boots taken side by side (pair i = unpatched i, patched i).
# With a mainline side (SIDES has it), each 6.1-rt median also as a fraction
# of mainline's.
sides=${SIDES:-unpatched patched}
accel=$(grep -o -- '-accel [a-z]*' "$dir/patched-1.log.cmd" | head -n 1)
{
	echo "# futex PI series: patched / unpatched, $what"
	echo
	echo "$boots boots each, alternating ($sides); SMP=${SMP:-2}; QEMU $accel$( [ "$accel" = "-accel tcg" ] && echo ' (emulation: absolute numbers mean little, the ratio counts)')."
	echo "Kernels without lock debugging."
	for side in $sides; do
		printf '%s %s; ' "$side" "$(cat "$dir/$side"-*.log 2>/dev/null | tr -d '\r' |
			sed -n 's/.*futex_pi_bench: clocksource //p' | sort -u | tr '\n' ' ' | sed 's/ $//')"
	done | sed 's/^/Guest clock source: /; s/; $/./'
	echo
	echo
	case " $sides " in
	*" mainline "*)
		echo "| figure | unit | unpatched (median) | patched (median) | mainline (median) | ratio | 95% interval (geometric means) | per-pair ratio range | unpatched / mainline | patched / mainline |"
		echo "|---|---|---|---|---|---|---|---|---|---|" ;;
	*)
		echo "| figure | unit | unpatched (median) | patched (median) | ratio | 95% interval (geometric means) | per-pair ratio range |"
		echo "|---|---|---|---|---|---|---|" ;;
	esac
	awk -v boots="$boots" -v dir="$dir" -v sides="$sides" '
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function frac(x, y) { return y > 0 ? sprintf("%.2f", x / y) : "-" }
	# 97.5% quantile of Student t for df degrees of freedom.
	function t975(df) {
		if (df >= 30) return 2.042
		split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086", q, " ")
		return df <= 20 ? q[df] : 2.086
	}
	# 95% interval of patched / unpatched: a t interval for the
	# difference of the mean logarithms (pooled variance), exponentiated.
	function interval(a, b, n,   i, la, lb, sa, sb, ma, mb, v, h) {
		if (n < 2) return "-"
		for (i = 1; i <= n; i++) {
			if (a[i] <= 0 || b[i] <= 0) return "-"
			la += log(a[i]); lb += log(b[i])
		}
		ma = la / n; mb = lb / n
		for (i = 1; i <= n; i++) { sa += (log(a[i]) - ma) ^ 2; sb += (log(b[i]) - mb) ^ 2 }
		v = (sa + sb) / (2 * n - 2) * 2 / n
		h = t975(2 * n - 2) * sqrt(v)
		return sprintf("%.2f .. %.2f", exp(mb - ma - h), exp(mb - ma + h))
	}
	BEGIN {
		ns = split(sides, side, " ")
		for (i = 1; i <= boots; i++) for (s = 1; s <= ns; s++) {
			f = dir "/" side[s] "-" i ".txt"
			while ((getline line < f) > 0) {
				split(line, w, " ")
				v[side[s], w[1], i] = w[2]; unit[w[1]] = w[3]
				if (!(w[1] in seen)) { seen[w[1]] = 1; order[++nf] = w[1] }
			}
			close(f)
		}
		for (k = 1; k <= nf; k++) {
			name = order[k]
			for (i = 1; i <= boots; i++) {
				a[i] = v["unpatched", name, i] + 0; b[i] = v["patched", name, i] + 0
				m[i] = v["mainline", name, i] + 0
			}
			lo = ""; hi = ""
			for (i = 1; i <= boots; i++) if (a[i] > 0) {
				r = b[i] / a[i]
				if (lo == "" || r < lo) lo = r
				if (hi == "" || r > hi) hi = r
			}
			# interval() first: median() sorts a and b in place.
			ci = interval(a, b, boots)
			ma = median(a, boots); mb = median(b, boots)
			spread = lo == "" ? "-" : sprintf("%.2f .. %.2f", lo, hi)
			if (ns == 3) {
				mm = median(m, boots)
				printf "| %s | %s | %.0f | %.0f | %.0f | %s | %s | %s | %s | %s |\n", name, unit[name], ma, mb, mm,
					frac(mb, ma), ci, spread, frac(ma, mm), frac(mb, mm)
			} else
				printf "| %s | %s | %.0f | %.0f | %s | %s | %s |\n", name, unit[name], ma, mb, frac(mb, ma), ci, spread
		}
	}'
	echo
	# Error counts (EINVAL, EDEADLK) matter in total, not as medians.
	for side in $sides; do
		cat "$dir/$side"-*.txt | awk -v side="$side" '$3 == "count" { n[$1] += $2 }
			END { for (k in n) printf "%s %s: %d in all boots\n", side, k, n[k] }'
	done | sort | sed 's/^/- /'
	echo
	echo "Raw figures: $dir/{${sides// /,}}-N.txt; ${secs} s in all."
} >"$dir/report.md"
cat "$dir/report.md"
