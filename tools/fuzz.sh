#!/usr/bin/env bash
# Build and run the libFuzzer targets of lib/fuzz (every text parser of
# libuoom, clang with ASan + UBSan), one after the other.
#
#   tools/fuzz.sh --short|--long [--tsv FILE] [TARGET...]
#
# --short: 10 s per target (make check); --long: 600 s per target (make fuzz).
# UOOM_FUZZ_SECONDS overrides either. Each target starts from its seed corpus
# lib/fuzz/corpus/TARGET and grows its own under $UOOM_CACHE/fuzz/TARGET
# (the repository's copy is never written). Prints a TAP line per target with
# executions, new coverage and new inputs; --tsv also writes rows
# "fuzz TARGET PASS|FAIL detail" for make check. A crash, a sanitizer report
# or a broken invariant keeps the reproducer in $UOOM_CACHE/fuzz/crashes and
# fails, naming it and the command that replays it. Exit status: 0 only when
# every target ran clean.
set -uo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

mode=
tsv=
targets=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--short) mode=short ;;
	--long) mode=long ;;
	--tsv) tsv=${2:?--tsv needs a file}; shift ;;
	-*) die "usage: tools/fuzz.sh --short|--long [--tsv FILE] [TARGET...]" ;;
	*) targets+=("$1") ;;
	esac
	shift
done
[[ -n $mode ]] || die "usage: tools/fuzz.sh --short|--long [--tsv FILE] [TARGET...]"
if [[ $mode == short ]]; then secs=${UOOM_FUZZ_SECONDS:-10}; else secs=${UOOM_FUZZ_SECONDS:-600}; fi
[[ $secs =~ ^[1-9][0-9]*$ ]] || die "UOOM_FUZZ_SECONDS=$secs: want a whole number of seconds"

lib=$UOOM_TOP/lib
mkdir -p "$UOOM_CACHE"
command -v clang >/dev/null || die "clang not found: run tools/deps.sh (the fuzzers need clang's libFuzzer)"
step "fuzz: building the targets (make -C lib fuzz)"
if ! make -s -C "$lib" fuzz >"$UOOM_CACHE/fuzz-build.log" 2>&1; then
	tail -20 "$UOOM_CACHE/fuzz-build.log" >&2
	[[ -n $tsv ]] && printf 'fuzz\tmake -C lib fuzz\tFAIL\tlog: %s\n' "$UOOM_CACHE/fuzz-build.log" >"$tsv"
	die "building the fuzz targets failed (log: $UOOM_CACHE/fuzz-build.log)"
fi
if [[ ${#targets[@]} -eq 0 ]]; then
	for f in "$lib"/build/fuzz/fuzz_*; do
		[[ -x $f ]] && targets+=("${f##*/}")
	done
fi
[[ ${#targets[@]} -gt 0 ]] || die "no fuzz targets in $lib/build/fuzz"

work=$UOOM_CACHE/fuzz
crashes=$work/crashes
mkdir -p "$crashes"
[[ -n $tsv ]] && : >"$tsv"
echo "TAP version 13"
echo "1..${#targets[@]}"
i=0 failed=0 total=0
for t in "${targets[@]}"; do
	i=$((i + 1))
	bin=$lib/build/fuzz/$t
	seeds=$lib/fuzz/corpus/$t
	corpus=$work/$t
	log=$work/$t.log
	if [[ ! -x $bin ]]; then
		echo "not ok $i - $t # no such target ($bin)"
		[[ -n $tsv ]] && printf 'fuzz\t%s\tFAIL\tno such target\n' "$t" >>"$tsv"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$corpus" "$seeds"
	before=$(find "$corpus" -type f | wc -l)
	args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
		-artifact_prefix="$crashes/$t-" -max_len=16384)
	[[ -f $lib/fuzz/$t.dict ]] && args+=(-dict="$lib/fuzz/$t.dict")
	step "fuzz: $t for ${secs}s"
	"$bin" "${args[@]}" "$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	execs=${execs:-0}
	cov0=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -1)
	cov1=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
	after=$(find "$corpus" -type f | wc -l)
	total=$((total + execs))
	detail="$execs execs, cov ${cov0:-?} -> ${cov1:-?}, $((after - before)) new inputs"
	repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
	if [[ $rc -eq 0 && -z $repro ]]; then
		echo "ok $i - $t # $detail"
		[[ -n $tsv ]] && printf 'fuzz\t%s\tPASS\t%s execs\n' "$t" "$execs" >>"$tsv"
	else
		why=$(grep -m1 -E 'invariant broken|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$log")
		echo "not ok $i - $t # ${why:-exit $rc}"
		echo "#   reproducer: ${repro:-none written} (log: $log)"
		echo "#   replay: $bin ${repro:-}"
		[[ -n $tsv ]] && printf 'fuzz\t%s\tFAIL\t%s execs; %s; reproducer %s\n' "$t" "$execs" \
			"$(tr '\t' ' ' <<<"${why:-exit $rc}")" "${repro:-none}" >>"$tsv"
		failed=$((failed + 1))
	fi
done
echo "# ${#targets[@]} targets, $total executions, $failed failed"
[[ $failed -eq 0 ]]
