#!/bin/sh
# report.sh DIR RUNS SECS: Markdown tables from DIR/summary.tsv (see
# aggregate.awk for its columns) on stdout.
set -eu
dir=$1 runs=$2 secs=$3
s=$dir/summary.tsv
load=$(head -1 "$dir/load.txt" | sed 's/.*load average: //')

cat <<EOF
## make bench results

QEMU **TCG** (no KVM), 512 MiB, no swap, one CPU (QEMU has -smp 2, the
tinyconfig kernel without ACPI brings up one), TSC clock; host load average
before the run: $load (other jobs shared the 2 host CPUs). Absolute times are TCG
times: compare them between contenders (the ratio column), not with real
hardware. $runs runs (episodes) per cell; a cell is "median [min–max]".
$((secs / 60)) min in the VMs.

Workloads (each in \`bench/work/job\`, next to an idle 2 MiB bystander in
\`bench/work/by\`; a 10 ms heartbeat runs in \`bench/prot\`, memory.min 16M,
oom_score_adj -1000):
\`bomb\` touches pages as fast as it can; \`leak\` 1 MiB every 60 ms (sys: 4 MiB);
\`many\` 16 processes, 64 KiB every 20 ms each (sys: 512 KiB); \`cache\` the
leak plus a writer streaming a 96 MiB file through the page cache.
\`-cg\`: \`bench/work\` has memory.max 64M; \`-sys\`: no limit (system OOM).

Columns: **hit→exit**: from the victim's last page touch (the allocator
writes CLOCK_MONOTONIC to a shared page before every touch) to its exit seen
on its pidfd by the waiting parent; **ratio**: hit→exit median over the
kernel-only median of the same workload; **hit→freed**: from the same touch
to the first 1 ms sample where memory.current (sys: MemTotal−MemAvailable)
is 1.5 MiB (sys: 8 MiB) below its peak; **hb p99 / max**: lateness of the
protected heartbeat during the episode (median over runs of each run's p99 /
max); **right**: runs whose first death was an allocating process;
**coll.**: deaths outside the job (bystander, heartbeat), all runs;
**kern.**: kernel OOM kills (oom_kill), all runs; **CPU / RSS**: the
handler's CPU time over the run (utime+stime, 10 ms ticks) and VmHWM;
**wake→kill**: the uoom daemon's own record of its wake-up to SIGKILL sent
(first episode of the run); **t/o**: runs where nobody died within 60 s.
Limits of these numbers: a contender that kills before the limit (oomd's
memory_above, earlyoom, a pressure trigger) still gets "hit→exit" from the
victim's last touch; "right" counts oomd's cgroup kill as wrong when the
cache writer (same job) happens to die first; "hit→freed" can be negative
when memory fell for another reason first (page cache dropped in \`cache-sys\`,
another process killed first in \`many\`).

EOF

# val WL WHO METRIC COLUMN: one number of the summary (COLUMN as named).
val() {
	awk -F '\t' -v w="$1" -v c="$2" -v m="$3" -v col="$4" '
	BEGIN { split("n med p25 p75 p10 p90 min max sum p99", names, " ")
		for (i in names) idx[names[i]] = i + 3 }
	$1 == w && $2 == c && $3 == m { print $(idx[col]); exit }' "$s"
}
fmt() {	# fmt MED MIN MAX: "m [a–b]" with sensible digits
	[ -n "$1" ] || { echo "–"; return; }
	awk -v m="$1" -v a="$2" -v b="$3" 'function f(x) { return x >= 100 ? sprintf("%.0f", x) : x >= 10 ? sprintf("%.1f", x) : sprintf("%.2f", x) }
	BEGIN { if (a == b) print f(m); else printf "%s [%s–%s]\n", f(m), f(a), f(b) }'
}

echo "| workload | contender | hit→exit ms | ratio | hit→freed ms | hb p99 ms | hb max ms | right | coll. | kern. | CPU ms | RSS KiB | wake→kill µs | t/o |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
# Workloads in a fixed order (cgroup ones, then system-wide), those present.
wls=
for w in bomb-cg leak-cg many-cg cache-cg bomb-sys leak-sys many-sys cache-sys; do
	grep -q "^$w	" "$s" && wls="$wls$w "
done
for wl in $wls; do
	ref=$(val "$wl" kernel hit_to_exit_ms med)
	for c in kernel earlyoom oomd uoom-events uoom-kernel; do
		n=$(val "$wl" "$c" right_victim n)
		if [ -z "$n" ]; then
			[ -n "$(val "$wl" "$c" no_start n)" ] && echo "| $wl | $c | did not start | | | | | | | | | | | |"
			continue
		fi
		ex=$(fmt "$(val "$wl" "$c" hit_to_exit_ms med)" "$(val "$wl" "$c" hit_to_exit_ms min)" "$(val "$wl" "$c" hit_to_exit_ms max)")
		med=$(val "$wl" "$c" hit_to_exit_ms med)
		ratio=–
		[ -n "$med" ] && [ -n "$ref" ] && ratio=$(awk -v a="$med" -v b="$ref" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "–" }')
		fr=$(fmt "$(val "$wl" "$c" hit_to_freed_ms med)" "$(val "$wl" "$c" hit_to_freed_ms min)" "$(val "$wl" "$c" hit_to_freed_ms max)")
		p99=$(fmt "$(val "$wl" "$c" hb_p99_ms med)" "$(val "$wl" "$c" hb_p99_ms min)" "$(val "$wl" "$c" hb_p99_ms max)")
		hmax=$(fmt "$(val "$wl" "$c" hb_max_ms med)" "$(val "$wl" "$c" hb_max_ms min)" "$(val "$wl" "$c" hb_max_ms max)")
		right="$(val "$wl" "$c" right_victim sum)/$n"
		coll=$(val "$wl" "$c" collateral sum)
		kern=$(val "$wl" "$c" kernel_kills sum)
		cpu=–; rss=–
		if [ "$c" != kernel ]; then
			cpu=$(fmt "$(val "$wl" "$c" cpu_ms med)" "$(val "$wl" "$c" cpu_ms min)" "$(val "$wl" "$c" cpu_ms max)")
			rss=$(fmt "$(val "$wl" "$c" handler_rss_kib med)" "$(val "$wl" "$c" handler_rss_kib min)" "$(val "$wl" "$c" handler_rss_kib max)")
		fi
		wk=$(fmt "$(val "$wl" "$c" daemon_wake_to_kill_us med)" "$(val "$wl" "$c" daemon_wake_to_kill_us min)" "$(val "$wl" "$c" daemon_wake_to_kill_us max)")
		to=$(val "$wl" "$c" timeout sum)
		echo "| $wl | $c | $ex | $ratio | $fr | $p99 | $hmax | $right | ${coll:-0} | ${kern:-0} | $cpu | $rss | $wk | ${to:-0} |"
	done
done

if grep -q '^wake' "$s"; then
	cat <<'EOF'

### Wake-up latency (TCG)

From the allocator's CLOCK_MONOTONIC just before the page touch that crossed
memory.max (4M, no swap) to the handler learning of it: the fault, the failed
reclaim (MAX_RECLAIM_RETRIES passes), the OOM path to the eventfd signal (or
the memory.events update), the wake-up and scheduling. **kernel**: a libuoom
kernel-backend handler (epoll/io_uring loop), time taken on entry to its
callback; **poll10 / poll100**: no handler registered (the kernel kills at
once), a process reads memory.events every 10 / 100 ms and notes when `oom`
moves.

| handler | episodes | p50 µs | p90 µs | p99 µs | min µs | max µs | ratio p50 vs kernel |
|---|---|---|---|---|---|---|---|
EOF
	ref=$(val wake kernel wake_us med)
	for m in kernel poll10 poll100; do
		n=$(val wake "$m" wake_us n)
		[ -n "$n" ] || continue
		awk -F '\t' -v m="$m" -v ref="$ref" '$1 == "wake" && $2 == m && $3 == "wake_us" {
			printf "| %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %s |\n", m, $4, $5, $9, $13, $10, $11,
			(ref > 0 ? sprintf("%.1f", $5 / ref) : "–") }' "$s"
	done
	mi=$(awk -F '\t' '$1 == "wake" && $3 == "misses" {printf "%s %s; ", $2, $11}' "$s")
	echo
	echo "Episodes without a wake-up (none expected): $mi"
fi

if grep -q '^fault' "$s"; then
	cat <<'EOF'

### Overhead: page fault + memcg charge (TCG)

A process in a cgroup with memory.max 512M (never OOM) maps 64 MiB, writes
one byte per page, unmaps; ns per page per repetition. **base**: the
unpatched kernel (same config without CONFIG_MEMCG_OOM_HANDLER);
**patched-none**: the series, no handler; **patched-handler**: another
process has an eventfd registered on the cgroup's memory.oom_notify. Ratio:
median over the base median; its range: p25/p75 of the condition over p75/p25
of base.

| kernel | reps | median ns/page | p25–p75 | min–max | ratio vs base [range] |
|---|---|---|---|---|---|
EOF
	awk -F '\t' '$1 == "fault" && $3 == "ns_per_page" {
		if ($2 == "base-none") { bm = $5; b25 = $6; b75 = $7 }
		row[++n] = $0 }
	END { for (i = 1; i <= n; i++) { split(row[i], f, "\t")
		r = bm > 0 ? sprintf("%.3f [%.3f–%.3f]", f[5] / bm, f[6] / b75, f[7] / b25) : "– (no base run)"
		printf "| %s | %d | %.0f | %.0f–%.0f | %.0f–%.0f | %s |\n", f[2], f[4], f[5], f[6], f[7], f[10], f[11], r } }' "$s"
fi
