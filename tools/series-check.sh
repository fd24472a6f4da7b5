#!/usr/bin/env bash
# make check-series: the series is bisectable and its option can be off.
#
#   tools/series-check.sh [-r RESULTS_DIR]
#
# Builds the kernel at each prefix of the series (p1 .. pN-1; the whole
# series is make check's "normal") and the whole series with
# CONFIG_MEMCG_OOM_HANDLER=n ("off"), and boots each once: selftests/vm_sanity
# checks the vCPUs, that the files of the series are there (or, with the
# option off, not), and the kernel log must be clean. Each build is a row
# (suite series), each boot's checks are rows too; ends with the summary line.
# Cold this is one full kernel build per variant (ccache shares what it can).
set -uo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

results=$UOOM_TOP/build/series
while getopts r: o; do
	case $o in
	r) results=$OPTARG ;;
	*) die "usage: tools/series-check.sh [-r RESULTS_DIR]" ;;
	esac
done
rm -rf "$results"
mkdir -p "$results"
tsv=$results/series.tsv
: >"$tsv"

n=$(uoom_series | wc -l)
variants=()
for ((i = 1; i < n; i++)); do variants+=("p$i"); done
variants+=(off)
for v in "${variants[@]}"; do
	what="$(uoom_variant_npatches "$v") of $n patches"
	[[ $v == off ]] && what="$what, CONFIG_MEMCG_OOM_HANDLER=n"
	step "series: building $v ($what)"
	if "$UOOM_TOP/tools/kernel-build.sh" "$v" >"$results/build-$v.log" 2>&1; then
		printf 'series\tbuild %s\tPASS\t\n' "$v" >>"$tsv"
	else
		printf 'series\tbuild %s\tFAIL\t%s\n' "$v" "$(grep -m1 -E 'error|uoom: error' "$results/build-$v.log" | cut -c1-160) (log: $results/build-$v.log)" >>"$tsv"
		continue
	fi
	step "series: booting $v"
	"$UOOM_TOP/tools/vm-test.sh" -d "$v" -r "$results/$v" -l /dev/null >"$results/boot-$v.log" 2>&1 ||
		grep -q FAIL "$results/$v/vm-$v.tsv" 2>/dev/null ||
		printf 'series\tboot %s\tFAIL\tvm-test.sh exited early (log: %s)\n' "$v" "$results/boot-$v.log" >>"$tsv"
	sed "s/^/series-$v\//" "$results/$v/vm-$v.tsv" >>"$tsv" 2>/dev/null
done
"$UOOM_TOP/tools/summary.sh" "$results"
