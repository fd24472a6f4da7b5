# Summarise make bench's raw lines, grouped by workload, contender and metric.
# Input: "bench WORKLOAD CONTENDER RUN METRIC VALUE" (tab separated), sorted
# by workload, contender, metric, then value (numerically).
# Output: WORKLOAD CONTENDER METRIC n median p25 p75 p10 p90 min max sum p99
# (quantile p: the ceil(p*n)-th smallest value, nearest rank).
BEGIN { FS = OFS = "\t" }
function q(p,   i) {
	i = int(p * n)
	if (i < p * n) i++
	if (i < 1) i = 1
	if (i > n) i = n
	return v[i]
}
function flush() {
	if (n == 0) return
	print key, n, q(0.5), q(0.25), q(0.75), q(0.10), q(0.90), v[1], v[n], sum, q(0.99)
}
$1 == "bench" {
	k = $2 OFS $3 OFS $5
	if (k != key) { flush(); key = k; n = 0; sum = 0 }
	v[++n] = $6 + 0
	sum += $6
}
END { flush() }
