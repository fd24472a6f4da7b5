#!/bin/sh
# Unit tests of aggregate.awk (TAP): quantiles, grouping, sums.
# Exit status: 0 only when every test passed (make check's, for a human).
cd "$(dirname "$0")" || exit 1
n=0
fails=0
ok() {	# ok DESCRIPTION EXPECTED ACTUAL
	n=$((n + 1))
	if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 # want '$2' got '$3'"; fails=$((fails + 1)); fi
}
t=$(printf 'bench\tw\tc\t%d\tm\t%d\n' 1 5 2 1 3 4 4 2 5 3 | sort -t "$(printf '\t')" -k2,2 -k3,3 -k5,5 -k6,6g | awk -f aggregate.awk)
ok "five values: n, median, p25, p75" "w c m 5 3 2 4" "$(echo "$t" | cut -f1-7 | tr '\t' ' ')"
ok "five values: min, max, sum" "1 5 15" "$(echo "$t" | cut -f10-12 | tr '\t' ' ')"
t=$(printf 'bench\tw\tc\t1\tm\t7\nbench\tw\td\t1\tm\t9\nbench\tw\td\t2\tm\t1\n' | awk -f aggregate.awk)
ok "two groups" "2" "$(echo "$t" | wc -l | tr -d ' ')"
ok "one value is its own median" "7" "$(echo "$t" | awk -F '\t' '$2 == "c" {print $5}')"
t=$(printf 'bench\tw\tc\t1\tm\t10\nbench\tw\tc\t2\tm\t20\nother line\n' | awk -f aggregate.awk)
ok "non-bench lines are ignored; two values: median is the lower" "2 10" "$(echo "$t" | cut -f4,5 | tr '\t' ' ')"
echo "1..$n"
[ "$fails" -eq 0 ]
