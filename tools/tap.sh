#!/usr/bin/env bash
# shellcheck shell=bash
# TAP to result rows: the one place that decides what a test stream counts as.
# Sourced by tools/check.sh and tools/tests/test-counting.sh; run directly
# (tools/tap.sh SUITE RC [NAME] <stream) it prints the rows, for lib/Makefile.
#
# uoom_tap_rows SUITE RC [NAME [DECLARED]] < STREAM
#   STREAM: what ONE producer printed (stdout, stderr may be mixed in); RC: its
#   exit status; NAME: the producer (a binary), named in the rows the parser
#   adds itself; DECLARED: how many tests the suite's list says it has (its
#   plan, declared outside the producer, so that a test deleted from a binary
#   whose harness counts its own plan is still missing). Prints "SUITE<TAB>TEST<TAB>STATUS<TAB>DETAIL" rows, STATUS one
#   of PASS, FAIL, SKIP (DETAIL: at most 200 characters, no tabs):
#   TEST is desc, or "#N" when there is none.
#     ok N desc                  PASS   (DETAIL: a "# comment" after desc)
#     ok|not ok N desc # SKIP w  SKIP   w (cmocka prints "not ok N # SKIP name")
#     not ok N desc # TODO w     SKIP   "TODO w" (ok ... # TODO: PASS)
#     not ok N desc              FAIL   reason: the first "# file.c:LINE:...Expected"
#                                       line before it (kselftest), else its own
#                                       "# comment", else the "# " lines after it
#                                       (cmocka: "file.c:LINE: <first line>"), else
#                                       the last "# " line before it; a comment
#                                       "# FLAKY ..." is the reason whatever else
#     Bail out! why              FAIL   test "NAME (bail out)"
#   Rows the parser adds, test "NAME (plan)" or "NAME (exit)" ("(plan)" and
#   "(exit)" without NAME):
#     (plan) FAIL "planned N, ran M: missing after TEST"   fewer than planned
#                 ("missing from the start"; "planned N, ran M" for more)
#     (plan) FAIL "no TAP plan (ran M)"                     tests, no 1..N
#     (plan) SKIP why                   "1..0 # SKIP why" and no tests
#     (plan) FAIL "1..0 without a # SKIP reason"
#     (plan) FAIL "no result"           no test line and no plan at all
#     (plan) FAIL "declared N, planned M"  DECLARED given, and the plans of
#                                       the stream add up to another M (a
#                                       "1..0 # SKIP" stream is not compared)
#     (exit) FAIL "killed by signal N (SIG)"   RC 129..192, always
#     (exit) FAIL "exited rc=RC"        another non-zero RC and no failed test;
#                                       RC 4 (kselftest's skip) is fine when
#                                       something was skipped and nothing failed,
#                                       else "exited rc=4 (skip) but nothing was skipped"
#     (exit) FAIL "exit status unknown" RC not a number (nothing recorded)
#   The exit rows carry the first sanitizer/error line of the stream, if any.
#   Plans: "1..N" may come before or after the tests. A stream may hold several
#   plans one after the other (cmocka prints one per group): a new leading plan
#   closes the previous one, and so does a test after a trailing plan. A line
#   seen twice in one plan's tests (a forked child reprinting its parent's
#   buffered output) counts once; the same plan line again before its tests
#   are done counts once too.
# Exit status: 0 when no FAIL row was printed.

# shellcheck disable=SC2016 # an awk program, expanded by awk
_uoom_tap_awk='
function clean(s) { gsub(/[\t\r\n]/, " ", s); sub(/^[ ]+/, "", s); sub(/[ ]+$/, "", s); return s }
function cut(s) { s = clean(s); if (length(s) > 200) s = substr(s, 1, 197) "..."; return s }
function row(test, st, det) {
	printf "%s\t%s\t%s\t%s\n", suite, clean(test), st, cut(det)
	nrows[st]++
}
function synth(what) { return name == "" ? "(" what ")" : name " (" what ")" }
function unpunct(s) { s = clean(s); sub(/^[:-][ ]*/, "", s); return s }
function undiag(s) { sub(/^#[ \t]*/, "", s); return s }
# Framing, not a reason: the RUN/OK/FAIL lines and totals of kselftest, cmocka
# "# not ok - GROUP", nested "# ok N" lines.
function marker(s) {
	return s ~ /^#[ \t]*$/ || s ~ /^#[ \t]+(RUN|OK|FAIL|SKIP|XFAIL|XPASS|PASSED:|FAILED:|Totals:)([ \t]|$)/ ||
		s ~ /^#[ \t]*(not )?ok([ \t]|$)/
}
function signame(n) {
	return n == 1 ? "HUP" : n == 2 ? "INT" : n == 3 ? "QUIT" : n == 4 ? "ILL" : n == 5 ? "TRAP" : \
		n == 6 ? "ABRT" : n == 7 ? "BUS" : n == 8 ? "FPE" : n == 9 ? "KILL" : n == 11 ? "SEGV" : \
		n == 13 ? "PIPE" : n == 14 ? "ALRM" : n == 15 ? "TERM" : n == 24 ? "XCPU" : n == 31 ? "SYS" : "SIG" n
}
# The reason of the not-ok test at line i (own: its "# comment").
function reason(i, own,   j, pre, post, ks, xp, loc, first, last) {
	for (j = i - 1; j >= 1 && kind[j] != "test" && kind[j] != "plan"; j--) {
		if (kind[j] != "diag") continue
		if (line[j] ~ /^#[ \t]+RUN[ \t]/) ks = 1
		if (line[j] ~ /^#[ \t]*[^ \t:]+\.[a-z]+:[0-9]+:.*Expected/) xp = undiag(line[j])
		if (last == "" && !marker(line[j])) last = undiag(line[j])
	}
	# "# FLAKY why" (upstream-run: a known-flaky test, rerun) is for
	# tools/vm-test.sh to read: it stays first, whatever came before.
	if (own ~ /^FLAKY/) return own
	if (xp != "") return xp
	if (own != "") return own
	# Lines after another failed test are its reasons, unless kselftest framed them.
	if (!ks && j >= 1 && line[j] ~ /^not ok/) last = ""
	if (!ks) {
		for (j = i + 1; j <= n && kind[j] != "test" && kind[j] != "plan" && kind[j] != "bail"; j++) {
			if (kind[j] != "diag" || marker(line[j])) continue
			if (loc == "" && line[j] ~ /^#[ \t]*[^ \t:]+:[0-9]+: /) loc = undiag(line[j])
			else if (first == "") first = undiag(line[j])
		}
		if (loc != "" && first != "" && loc ~ /: error: Failure!$/) { sub(/ error: Failure!$/, "", loc); return loc " " first }
		if (loc != "") return loc
		if (first != "") return first
	}
	return last
}
function seg_open() { seg++; plan[seg] = -1; cnt[seg] = 0; trailing[seg] = 0; skipwhy[seg] = "" }
# Close segment s: compare its plan with what ran.
function seg_close(s,   k, after) {
	if (plan[s] < 0 && cnt[s] == 0) return
	if (plan[s] < 0) { row(synth("plan"), "FAIL", "no TAP plan (ran " cnt[s] ")"); return }
	if (plan[s] == 0 && cnt[s] == 0) {
		if (skipwhy[s] != "") row(synth("plan"), "SKIP", skipwhy[s])
		else row(synth("plan"), "FAIL", "1..0 without a # SKIP reason")
		return
	}
	if (cnt[s] == plan[s]) return
	for (k = 1; k <= plan[s] && ((s, k) in seen); k++) ;
	after = k == 1 ? "from the start" : "after " tname[s, k - 1]
	if (cnt[s] < plan[s]) row(synth("plan"), "FAIL", "planned " plan[s] ", ran " cnt[s] ": missing " after)
	else row(synth("plan"), "FAIL", "planned " plan[s] ", ran " cnt[s])
}
{
	sub(/\r$/, "")
	n++
	line[n] = $0
	if ($0 ~ /^(not )?ok([ \t]|$)/) kind[n] = "test"
	else if ($0 ~ /^1\.\.[0-9]+([ \t]|$)/) kind[n] = "plan"
	else if ($0 ~ /^Bail out!/) kind[n] = "bail"
	else if ($0 ~ /^#/) kind[n] = "diag"
	else {
		kind[n] = "other"
		if (hint == "" && $0 ~ /(ERROR: [A-Za-z]*Sanitizer|runtime error|Segmentation fault|core dumped|Aborted|uoom: error:|^(ERROR|FATAL|Assertion))/) {
			hint = $0
			sub(/^==[0-9]+==/, "", hint)
		}
	}
}
END {
	seg_open()
	for (i = 1; i <= n; i++) {
		l = line[i]
		if (kind[i] == "plan") {
			p = l; sub(/^1\.\./, "", p); sub(/[^0-9].*$/, "", p); p += 0
			why = ""
			if (match(l, /#[ \t]*[Ss][Kk][Ii][Pp][A-Za-z]*/)) why = unpunct(substr(l, RSTART + RLENGTH))
			if (plan[seg] >= 0 && !trailing[seg] && cnt[seg] < plan[seg] && p == plan[seg] && l == planline[seg]) continue
			if (plan[seg] >= 0 || trailing[seg]) { seg_close(seg); seg_open() }
			plan[seg] = p; planline[seg] = l; skipwhy[seg] = why
			if (cnt[seg] > 0) trailing[seg] = 1
			continue
		}
		if (kind[i] == "bail") { row(synth("bail out"), "FAIL", l); nfail++; continue }
		if (kind[i] != "test") continue
		if (trailing[seg]) { seg_close(seg); seg_open() }
		if ((seg, l) in dup) continue
		dup[seg, l] = 1
		notok = l ~ /^not /
		rest = l; sub(/^(not )?ok/, "", rest)
		num = ""
		if (match(rest, /^[ \t]+[0-9]+/)) { num = substr(rest, RSTART, RLENGTH) + 0; rest = substr(rest, RSTART + RLENGTH) }
		sub(/^[ \t]+-?[ \t]*/, "", rest)
		desc = rest; com = ""
		if (rest ~ /^#/) { desc = ""; com = substr(rest, 2) }
		else if (match(rest, /[ \t]#([ \t]|$)/)) { desc = substr(rest, 1, RSTART - 1); com = substr(rest, RSTART + 2) }
		desc = clean(desc); com = clean(com)
		cnt[seg]++
		if (num == "") num = cnt[seg]
		test = desc == "" ? "#" num : desc
		seen[seg, num] = 1; tname[seg, num] = test
		if (toupper(com) ~ /^SKIP/) {
			sub(/^[A-Za-z]+/, "", com); com = unpunct(com)
			row(test, "SKIP", com == "" ? "no reason given" : com)
		} else if (toupper(com) ~ /^TODO/) {
			sub(/^[A-Za-z]+[ \t]*/, "", com)
			if (notok) row(test, "SKIP", "TODO " com)
			else row(test, "PASS", "TODO passed " com)
		} else if (notok) {
			row(test, "FAIL", reason(i, com))
			nfail++
		} else row(test, "PASS", com)
	}
	seg_close(seg)
	if (seg == 1 && plan[1] < 0 && cnt[1] == 0) row(synth("plan"), "FAIL", "no result")
	if (declared != "") {
		for (s = 1; s <= seg; s++) if (plan[s] > 0) { planned += plan[s]; anyplan = 1 }
		if (anyplan && planned != declared + 0)
			row(synth("plan"), "FAIL", "declared " declared ", planned " planned ": a test was " \
				(planned < declared + 0 ? "removed" : "added") " without updating the declared count")
	}
	h = hint == "" ? "" : ": " hint
	if (rc !~ /^[0-9]+$/) row(synth("exit"), "FAIL", "exit status unknown (\"" rc "\")" h)
	else if (rc > 128 && rc <= 192) row(synth("exit"), "FAIL", "killed by signal " (rc - 128) " (" signame(rc - 128) ")" h)
	else if (rc == 4 && nfail == 0 && nrows["SKIP"] == 0) row(synth("exit"), "FAIL", "exited rc=4 (skip) but nothing was skipped" h)
	else if (rc != 0 && rc != 4 && nfail == 0) row(synth("exit"), "FAIL", "exited rc=" rc (rc == 124 ? " (timeout)" : "") h)
	exit nrows["FAIL"] > 0
}'

uoom_tap_rows() {
	local suite=${1:?usage: uoom_tap_rows SUITE RC [NAME [DECLARED]] <tap} rc=${2-}
	[[ -z ${4:-} || $4 =~ ^[0-9]+$ ]] || { echo "uoom_tap_rows: declared count '$4' is not a number" >&2; return 2; }
	UOOM_TAP_SUITE=$suite UOOM_TAP_RC=$rc UOOM_TAP_NAME=${3:-} UOOM_TAP_DECLARED=${4:-} LC_ALL=C awk \
		"BEGIN { suite = ENVIRON[\"UOOM_TAP_SUITE\"]; rc = ENVIRON[\"UOOM_TAP_RC\"]; name = ENVIRON[\"UOOM_TAP_NAME\"]
			declared = ENVIRON[\"UOOM_TAP_DECLARED\"] }
		$_uoom_tap_awk"
}

# uoom_rows_exactly SUITE WHAT RC TEST... < ROWS: the rows of a producer that
# must print exactly one row for each TEST (checkpatch: one per patch). Passes
# the rows through; a TEST without a row gets a FAIL row "no result (WHAT
# exited rc=RC)", a TEST with several a FAIL row, a row for no TEST a FAIL row.
# Exit status: 0 when no FAIL row was printed.
uoom_rows_exactly() {
	local suite=$1 what=$2 rc=$3
	shift 3
	UOOM_TAP_SUITE=$suite UOOM_TAP_WHAT=$what UOOM_TAP_RC=$rc UOOM_TAP_WANT=$(printf '%s\n' "$@") \
		LC_ALL=C awk -F'\t' '
		BEGIN {
			suite = ENVIRON["UOOM_TAP_SUITE"]; what = ENVIRON["UOOM_TAP_WHAT"]; rc = ENVIRON["UOOM_TAP_RC"]
			k = split(ENVIRON["UOOM_TAP_WANT"], order, "\n")
			for (i = 1; i <= k; i++) want[order[i]] = 1
		}
		function out(t, st, d) { printf "%s\t%s\t%s\t%s\n", suite, t, st, d; if (st != "PASS" && st != "SKIP") bad = 1 }
		!($2 in want) || $2 == "" { out($2 == "" ? "(rows)" : $2, "FAIL", "unexpected row from " what ": " substr($0, 1, 150)); next }
		{ seen[$2]++; if (seen[$2] == 1) { print; if ($3 != "PASS" && $3 != "SKIP") bad = 1 } }
		END {
			for (i = 1; i <= k; i++) {
				t = order[i]
				if (t == "") continue
				if (!(t in seen)) out(t, "FAIL", "no result (" what " exited rc=" rc ")")
				else if (seen[t] > 1) out(t, "FAIL", seen[t] " rows from " what ", want one")
			}
			exit bad
		}'
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	uoom_tap_rows "$@"
fi
