#!/usr/bin/env bash
# make check-series: the series is bisectable and its option can be off.
#
#   tools/series-check.sh [-r RESULTS_DIR]
#
# Builds the kernel at each prefix of the series (p1 .. pN-1; the whole
# series is make check's "normal") and the whole series with
# CONFIG_MEMCG_OOM_HANDLER=n ("off"), and boots each once: selftests/vm_sanity
# checks the vCPUs, that the files of the series are there (on the root from
# patch 3 on; with the option off, nowhere), and the kernel log must be clean.
# Then, with the option off, the series must leave the core mm code as it was:
# the object code of mm/page_alloc.o, mm/oom_kill.o, mm/memory.o and
# kernel/fork.o is the unpatched kernel's ("base"), instruction for
# instruction, and mm/memcontrol.o has its size. Last, the whole series with
# CONFIG_MEMCG=n ("nomemcg") must build. Each build is a row (suite series),
# each boot's checks and each comparison are rows too; ends with the summary
# line. Cold this is one full kernel build per variant (ccache shares what it
# can).
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
# The option off: the core mm code is the unpatched kernel's.
step "series: the option off against the unpatched kernel (base)"
if "$UOOM_TOP/tools/kernel-build.sh" base >"$results/build-base.log" 2>&1 &&
	[[ -f $(uoom_builddir off)/mm/page_alloc.o ]]; then
	disasm() { objdump -d --no-addresses --no-show-raw-insn "$1" | grep -v 'file format'; }
	for o in mm/page_alloc.o mm/oom_kill.o mm/memory.o kernel/fork.o; do
		b=$(uoom_builddir base)/$o f=$(uoom_builddir off)/$o
		if cmp -s <(disasm "$b") <(disasm "$f"); then
			printf 'series	off: %s is the unpatched code	PASS	
' "$o" >>"$tsv"
		else
			printf 'series	off: %s is the unpatched code	FAIL	%s
' "$o" \
				"$(diff <(disasm "$b") <(disasm "$f") | grep -c '^[<>]') instructions differ (diff <(objdump -d $b) <(objdump -d $f))" >>"$tsv"
		fi
	done
	o=mm/memcontrol.o
	sb=$(size "$(uoom_builddir base)/$o" | awk 'NR == 2 {print $1}')
	sf=$(size "$(uoom_builddir off)/$o" | awk 'NR == 2 {print $1}')
	if [[ $sb == "$sf" ]]; then
		printf 'series	off: %s text is the unpatched size	PASS	%s bytes
' "$o" "$sb" >>"$tsv"
	else
		printf 'series	off: %s text is the unpatched size	FAIL	base %s bytes, off %s
' "$o" "$sb" "$sf" >>"$tsv"
	fi
else
	printf 'series	off: core mm code against base	FAIL	no base or off build (log: %s)
' "$results/build-base.log" >>"$tsv"
fi

# CONFIG_MEMCG=n: the series' headers and hooks must still build.
step "series: building nomemcg (the whole series, CONFIG_MEMCG=n)"
if "$UOOM_TOP/tools/kernel-build.sh" nomemcg >"$results/build-nomemcg.log" 2>&1; then
	printf 'series	build nomemcg	PASS	
' >>"$tsv"
else
	printf 'series	build nomemcg	FAIL	%s
' "$(grep -m1 -E 'error|uoom: error' "$results/build-nomemcg.log" | cut -c1-160) (log: $results/build-nomemcg.log)" >>"$tsv"
fi
"$UOOM_TOP/tools/summary.sh" "$results"
