#!/usr/bin/env bash
# Print the results of a check run: skips with their reason, flaky tests, a
# table per suite, the negative control's table, the failures with their
# reason (last, so that the tail of a CI log shows them), then "N flaky" when
# there are any and the one closing line "N passed, N failed, N skipped".
#
#   tools/summary.sh RESULTS_DIR
#
# Reads RESULTS_DIR/*.tsv: "suite<TAB>test<TAB>STATUS<TAB>detail" with STATUS
#   PASS, FAIL, SKIP;
#   FLAKY  a first-run failure of a test listed as known-flaky (detail: the
#          first run's failure): listed under "Flaky (first run failed)",
#          counted as neither passed nor failed, only in "N flaky";
#   anything else (or a row without a status) is counted as failed.
# Suites named control/... (the series' tests on the unpatched base kernel)
# get their own table, "Negative control (unpatched base kernel)"; their rows
# count in the totals like any other.
# Exits non-zero when anything failed or nothing passed.
set -euo pipefail
results=${1:?usage: tools/summary.sh RESULTS_DIR}
cat "$results"/*.tsv 2>/dev/null >"$results/all.tsv.txt" || true
all=$results/all.tsv.txt

LC_ALL=C awk -F'\t' -v results="$results" '
	function table(title, ctl,   i, x) {
		printf "\n"
		if (title != "") print title
		printf "%-28s %7s %7s %7s", "suite", "passed", "failed", "skipped"
		if (nst["FLAKY"]) printf " %7s", "flaky"
		printf "\n"
		for (i = 1; i <= k; i++) {
			x = name[i]
			if ((x ~ /^control\//) != ctl) continue
			printf "%-28s %7d %7d %7d", x, n[x, "PASS"], n[x, "FAIL"], n[x, "SKIP"]
			if (nst["FLAKY"]) printf " %7d", n[x, "FLAKY"]
			printf "\n"
		}
	}
	function list(st, title,   i) {
		if (!nst[st]) return
		printf "\n%s\n", title
		for (i = 1; i <= nr; i++)
			if (status[i] == st) printf "  %-28s %s%s%s\n", suite[i], test[i], st == "FAIL" ? "  " : ": ", detail[i]
	}
	$0 == "" { next }
	{
		st = $3
		if (st != "PASS" && st != "SKIP" && st != "FLAKY" && st != "FAIL") {
			$4 = "status \"" st "\" is not PASS, FAIL, SKIP or FLAKY" ($4 == "" ? "" : ": " $4)
			st = "FAIL"
		}
		nr++; suite[nr] = $1; test[nr] = $2; status[nr] = st; detail[nr] = $4
		n[$1, st]++; nst[st]++
		if (!($1 in order)) { order[$1] = ++k; name[k] = $1 }
		if ($1 ~ /^control\//) nctl++; else nmain++
	}
	END {
		list("SKIP", "Skipped:")
		list("FLAKY", "Flaky (first run failed):")
		if (nmain || !nctl) table("", 0)
		if (nctl) table("Negative control (unpatched base kernel):", 1)
		list("FAIL", "Failed (the logs are in " results "):")
		printf "\n"
		if (nst["FLAKY"]) printf "%d flaky\n", nst["FLAKY"]
		printf "%d passed, %d failed, %d skipped\n", nst["PASS"], nst["FAIL"], nst["SKIP"]
		exit !(nst["FAIL"] == 0 && nst["PASS"] > 0)
	}' "$all"
