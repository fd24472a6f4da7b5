#!/bin/sh
# plot.sh DIR RUNS: PNG figures (gnuplot) from DIR/summary.tsv and DIR/raw.tsv.
#   exit.png       hit -> victim exit, per workload and contender
#   freed.png      hit -> memory freed
#   heartbeat.png  the protected heartbeat's p99 lateness
#   wake.png       wake-up latency CDF, libuoom kernel backend vs polling
#   fault.png      ns per page fault + charge, unpatched vs patched
# Points are medians; bars span min..max over the runs (n in the title).
set -eu
dir=$1 runs=$2
s=$dir/summary.tsv
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot not found: run tools/deps.sh" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
contenders="kernel earlyoom oomd uoom-events uoom-kernel"
# Workloads in a fixed order (cgroup ones, then system-wide), those present.
wls=
for w in bomb-cg leak-cg many-cg cache-cg bomb-sys leak-sys many-sys cache-sys; do
	grep -q "^$w	" "$s" && wls="$wls$w "
done

# per_contender METRIC: one data file per contender: x median min max.
per_contender() {
	j=0
	for c in $contenders; do
		i=0
		: >"$tmp/$1.$c"
		for w in $wls; do
			awk -F '\t' -v w="$w" -v c="$c" -v m="$1" -v x="$(awk -v i=$i -v j=$j 'BEGIN{print i + (j - 2) * 0.14}')" \
				'$1 == w && $2 == c && $3 == m { print x, $5, $10, $11 }' "$s" >>"$tmp/$1.$c"
			i=$((i + 1))
		done
		j=$((j + 1))
	done
}
xtics=$(i=0; for w in $wls; do printf '"%s" %d, ' "$w" $i; i=$((i + 1)); done | sed 's/, $//')

bars() {	# bars METRIC FILE TITLE YLABEL
	per_contender "$1"
	plots=
	for c in $contenders; do
		[ -s "$tmp/$1.$c" ] || continue
		plots="$plots${plots:+, }'$tmp/$1.$c' using 1:2:3:4 with yerrorbars pointsize 1.2 title '$c'"
	done
	[ -n "$plots" ] || return 0
	gnuplot <<EOF
set terminal pngcairo size 1100,500 noenhanced
set output '$dir/$2'
set title "$3"
set ylabel "$4"
set logscale y
set grid ytics
set key outside right
set xtics ($xtics) rotate by -20
set xrange [-0.5:$(echo "$wls" | wc -w)-0.5]
plot $plots
EOF
}

bars hit_to_exit_ms exit.png "From the victim's last page touch to its exit (TCG), median and min-max of n=$runs runs" "ms (log)"
bars hit_to_freed_ms freed.png "From the victim's last page touch to its memory freed (TCG), median and min-max of n=$runs runs" "ms (log)"
bars hb_p99_ms heartbeat.png "Protected 10 ms heartbeat: p99 lateness per episode (TCG), median and min-max of n=$runs runs" "ms (log)"

if grep -q '^wake	' "$s"; then
	plots=
	for m in kernel poll10 poll100; do
		awk -F '\t' -v m="$m" '$2 == "wake" && $3 == m && $5 == "wake_us" {print $6}' "$dir/raw.tsv" |
			sort -g | awk '{v[NR] = $1} END {for (i = 1; i <= NR; i++) print v[i], i / NR}' >"$tmp/wake.$m"
		n=$(wc -l <"$tmp/wake.$m")
		[ "$n" -gt 0 ] && plots="$plots${plots:+, }'$tmp/wake.$m' using 1:2 with steps title '$m (n=$n)'"
	done
	[ -n "$plots" ] && gnuplot <<EOF
set terminal pngcairo size 900,500 noenhanced
set output '$dir/wake.png'
set title "Limit crossed -> handler knows (TCG): CDF over episodes"
set xlabel "microseconds (log)"
set ylabel "fraction of episodes"
set logscale x
set grid
set key bottom right
plot $plots
EOF
fi

if grep -q '^fault	' "$s"; then
	i=0
	: >"$tmp/fault"
	for k in base-none patched-none patched-handler; do
		grep -q "^fault	$k	ns_per_page	" "$s" || continue
		i=$((i + 1))
		awk -F '\t' -v k="$k" -v i=$i '$1 == "fault" && $2 == k && $3 == "ns_per_page" {
			print i, $6, $10, $11, $7, $5, "\"" $2 " (n=" $4 ")\"" }' "$s" >>"$tmp/fault"
	done
	gnuplot <<EOF
set terminal pngcairo size 900,500 noenhanced
set output '$dir/fault.png'
set title "Page fault + memcg charge, 64 MiB per repetition (TCG): box p25-p75, whiskers min-max, line median"
set ylabel "ns per page"
set boxwidth 0.4
set xrange [0.4:$i + 0.6]
set grid ytics
set style fill empty
plot '$tmp/fault' using 1:2:3:4:5:xticlabels(7) with candlesticks title 'p25-p75, min-max' whiskerbars 0.5, \
     '' using 1:6:6:6:6 with candlesticks lw 2 title 'median'
EOF
fi
for f in "$dir"/*.png; do [ -e "$f" ] && echo "plot.sh: $f" >&2; done
