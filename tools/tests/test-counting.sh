#!/usr/bin/env bash
# shellcheck disable=SC2015 # ok/not_ok always succeed: A && ok || not_ok is if-then-else
# The harness's test of its own counting (make check's suite "harness"):
# synthetic TAP streams through tools/tap.sh, the uoomd check.sh path with a
# unit binary that crashes, the checkpatch row check and tools/summary.sh.
# TAP on stdout, the plan first. Exit status: 0 when every test passed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tools/tap.sh
. "$top/tools/tap.sh"
tmp=$(mktemp -d /tmp/uoom-counting.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "1..40"
n=0
fails=0
ok() { echo "ok $((++n)) - $1"; }
not_ok() {
	echo "not ok $((++n)) - $1"
	fails=$((fails + 1))
	shift
	printf '%s\n' "$@" | sed 's/^/# /'
}
# rows DESC RC NAME STREAM WANT [DECLARED]: uoom_tap_rows (suite "s") of
# STREAM must print exactly WANT (both printf %b strings: \n, \t), with exit
# status 1 when WANT has a FAIL row, else 0.
rows() {
	local desc=$1 rc=$2 name=$3 got want prc wrc=0
	got=$(printf '%b' "$4" | uoom_tap_rows s "$rc" "$name" "${6:-}")
	prc=$?
	want=$(printf '%b' "$5")
	[[ $want == *$'\tFAIL\t'* ]] && wrc=1
	if [[ $got == "$want" && $prc -eq $wrc ]]; then
		ok "$desc"
	else
		not_ok "$desc" "got (exit $prc):" "$got" "want (exit $wrc):" "$want"
	fi
}

# --- what the issue tracker found counted as a pass ---------------------------
rows "a crash after 2 of 5 tests: the plan and the signal fail" 139 test_x \
	'1..5\nok 1 - a\nok 2 - b\n' \
	's\ta\tPASS\t\ns\tb\tPASS\t\ns\ttest_x (plan)\tFAIL\tplanned 5, ran 2: missing after b\ns\ttest_x (exit)\tFAIL\tkilled by signal 11 (SEGV)'
rows "a test deleted from the middle (plan 5, 4 ran, rc 0) fails" 0 "" \
	'1..5\nok 1 - a\nok 2 - b\nok 4 - d\nok 5 - e\n' \
	's\ta\tPASS\t\ns\tb\tPASS\t\ns\td\tPASS\t\ns\te\tPASS\t\ns\t(plan)\tFAIL\tplanned 5, ran 4: missing after b'
rows "a TEST() deleted from a kselftest binary (its plan shrinks with it): the declared count fails" 0 "" \
	'1..2\nok 1 a\nok 2 c\n' \
	's\ta\tPASS\t\ns\tc\tPASS\t\ns\t(plan)\tFAIL\tdeclared 3, planned 2: a test was removed without updating the declared count' 3
rows "a test added without updating the declared count fails" 0 bin \
	'1..3\nok 1 a\nok 2 b\nok 3 c\n' \
	's\ta\tPASS\t\ns\tb\tPASS\t\ns\tc\tPASS\t\ns\tbin (plan)\tFAIL\tdeclared 2, planned 3: a test was added without updating the declared count' 2
rows "plan and declared count agree: no extra row" 0 "" \
	'1..2\nok 1 a\nok 2 b\n' 's\ta\tPASS\t\ns\tb\tPASS\t' 2
rows "an explicit 1..0 skip plan is not compared with the declared count" 4 "" \
	'1..0 # SKIP not the patched kernel\n' 's\t(plan)\tSKIP\tnot the patched kernel' 70
rows "unnumbered tests: one missing at the end fails" 0 "" \
	'1..3\nok - a\nok - b\n' \
	's\ta\tPASS\t\ns\tb\tPASS\t\ns\t(plan)\tFAIL\tplanned 3, ran 2: missing after b'
rows "no output and rc 0 is no result, a failure" 0 "" '' \
	's\t(plan)\tFAIL\tno result'
rows "no output and a crash: no result and the signal" 134 bin '' \
	's\tbin (plan)\tFAIL\tno result\ns\tbin (exit)\tFAIL\tkilled by signal 6 (ABRT)'
rows "only non-TAP output is no result" 0 "" 'hello\nmake: nothing\n' \
	's\t(plan)\tFAIL\tno result'
rows "a plan 1..0 with SKIP and a reason is one skip with the reason" 0 bin '1..0 # SKIP no cgroup v2 here\n' \
	's\tbin (plan)\tSKIP\tno cgroup v2 here'
rows "a plan 1..0 with SKIP and kselftest's rc 4 is a skip" 4 "" '1..0 # SKIP not root\n' \
	's\t(plan)\tSKIP\tnot root'
rows "1..0 without a reason fails" 0 "" '1..0\n' \
	's\t(plan)\tFAIL\t1..0 without a # SKIP reason'
rows "cmocka's not ok 3 - x, SKIP directive, is a skip, not a failure" 0 "" \
	'1..3\nok 1 - a\nok 2 - b\nnot ok 3 - x # SKIP\n' \
	's\ta\tPASS\t\ns\tb\tPASS\t\ns\tx\tSKIP\tno reason given'
rows "cmocka's not ok 3, SKIP directive and test name, is a skip" 0 "" \
	'1..1\nnot ok 1 # SKIP needs_root\n' \
	's\t#1\tSKIP\tneeds_root'
rows "ok N - x with SKIP and a reason is a skip with the reason" 0 "" \
	'1..1\nok 1 - x # SKIP groff not installed\n' \
	's\tx\tSKIP\tgroff not installed'

# --- reasons -------------------------------------------------------------------
rows "a cmocka failure: the location and message after it" 1 "" \
	'1..2\nnot ok 1 - b\n# 0x1 != 0x2\n# t.c:7: error: Failure!\nnot ok 2 - c\n# t.c:9: error: Failure!\n# not ok - group\n' \
	's\tb\tFAIL\tt.c:7: 0x1 != 0x2\ns\tc\tFAIL\tt.c:9: error: Failure!'
rows "a kselftest failure: the Expected line before it" 1 "" \
	'TAP version 13\n1..2\n#  RUN           g.a ...\n#            OK  g.a\nok 1 g.a\n#  RUN           g.b ...\n# x.c:12:b:Expected 0 (0) == 1 (1)\n# b: Test terminated by assertion\n#          FAIL  g.b\nnot ok 2 g.b\n# FAILED: 1 / 2 tests passed.\n' \
	's\tg.a\tPASS\t\ns\tg.b\tFAIL\tx.c:12:b:Expected 0 (0) == 1 (1)'
rows "a failure's own comment, the diagnostics after it, never the previous test's" 1 "" \
	'1..3\nnot ok 1 - x # want 1 got 2\nnot ok 2 - y\n# rc=1\nnot ok 3 - z\n' \
	's\tx\tFAIL\twant 1 got 2\ns\ty\tFAIL\trc=1\ns\tz\tFAIL\t'
rows "a FLAKY comment stays the reason, for tools/vm-test.sh" 1 "" \
	'1..1\n# t.c:3:x:Expected 1 (1) == 2 (2)\nnot ok 1 x # FLAKY timing; rerun: ok\n' \
	's\tx\tFAIL\tFLAKY timing; rerun: ok'
long=$(printf 'x%.0s' {1..300})
rows "a reason is cut to 200 characters" 1 "" "1..1\nnot ok 1 - t\n# $long\n" \
	"s\tt\tFAIL\t$(printf 'x%.0s' {1..197})..."

# --- plans and exit statuses ------------------------------------------------------
rows "a plan after the tests is a plan" 0 "" 'ok 1 - a\nok 2 - b # 10 execs\n1..2\n' \
	's\ta\tPASS\t\ns\tb\tPASS\t10 execs'
rows "tests without a plan fail" 0 "" 'ok 1 - a\n' \
	's\ta\tPASS\t\ns\t(plan)\tFAIL\tno TAP plan (ran 1)'
rows "more tests than planned fail" 0 "" '1..1\nok 1 - a\nok 2 - b\n' \
	's\ta\tPASS\t\ns\tb\tPASS\t\ns\t(plan)\tFAIL\tplanned 1, ran 2'
rows "two plans one after the other (cmocka groups) pass" 0 "" \
	'1..2\nok 1 - a\nok 2 - b\n# ok - g1\n1..1\nok 1 - c\n# ok - g2\n' \
	's\ta\tPASS\t\ns\tb\tPASS\t\ns\tc\tPASS\t'
rows "lines a forked child reprints count once" 0 "" \
	'1..3\nok 1 - a\n1..3\nok 1 - a\nok 2 - b\nok 3 - c\n' \
	's\ta\tPASS\t\ns\tb\tPASS\t\ns\tc\tPASS\t'
rows "all passed but rc 1 (a sanitizer at exit) fails, naming it" 1 "" \
	'1..1\nok 1 - a\nAddressSanitizer:DEADLYSIGNAL\n==42==ERROR: LeakSanitizer: detected memory leaks\n' \
	's\ta\tPASS\t\ns\t(exit)\tFAIL\texited rc=1: ERROR: LeakSanitizer: detected memory leaks'
rows "rc 4 without anything skipped fails" 4 "" '1..1\nok 1 - a\n' \
	's\ta\tPASS\t\ns\t(exit)\tFAIL\texited rc=4 (skip) but nothing was skipped'
rows "Bail out! fails" 1 "" '1..2\nok 1 - a\nBail out! no kernel\n' \
	's\ta\tPASS\t\ns\t(bail out)\tFAIL\tBail out! no kernel\ns\t(plan)\tFAIL\tplanned 2, ran 1: missing after a'
rows "an exit status nobody recorded fails" "" "" '1..1\nok 1 - a\n' \
	's\ta\tPASS\t\ns\t(exit)\tFAIL\texit status unknown ("")'

# --- the uoomd check.sh path with a unit binary that segfaults ----------------------
printf '#!/bin/sh\necho "ok 1 - one"\necho "ok 2 - two"\nkill -SEGV $$\n' >"$tmp/unit"
printf '#!/bin/sh\nexit 0\n' >"$tmp/uoomd"
chmod +x "$tmp/unit" "$tmp/uoomd"
(cd "$top/tools/uoomd" && UOOMD=$tmp/uoomd sh tests/check.sh "$tmp/unit") >"$tmp/uoomd.tap" 2>&1
rc=$?
uoom_tap_rows uoomd "$rc" <"$tmp/uoomd.tap" >"$tmp/uoomd.rows"
crash=$(awk -F'\t' '$3 == "FAIL" && $2 ~ /killed by signal 11 after 2 tests/' "$tmp/uoomd.rows")
if [[ $rc -ne 0 && -n $crash ]] && grep -q $'^uoomd\ttwo\tPASS' "$tmp/uoomd.rows" &&
	! grep -q '(plan)' "$tmp/uoomd.rows"; then
	ok "uoomd tests/check.sh: a segfaulting unit binary is a failed test (exit $rc), the stream's plan holds"
else
	not_ok "uoomd tests/check.sh with a segfaulting unit binary" "exit $rc" "$(cat "$tmp/uoomd.rows")"
fi
grep -q $'^uoomd\t.*printed no plan: it stopped after 2 tests, the last: two\tFAIL' "$tmp/uoomd.rows" &&
	ok "uoomd tests/check.sh: the unit binary's missing plan is a failed test" ||
	not_ok "uoomd tests/check.sh: missing unit plan" "$(cat "$tmp/uoomd.rows")"

# --- one row per patch ------------------------------------------------------------------
got=$(printf 'lint\tcheckpatch a\tPASS\t\nlint\tcheckpatch b\tPASS\t\nlint\tcheckpatch b\tPASS\t\n' |
	uoom_rows_exactly lint checkpatch.sh 0 "checkpatch a" "checkpatch b" "checkpatch c")
want=$(printf 'lint\tcheckpatch a\tPASS\t\nlint\tcheckpatch b\tPASS\t\nlint\tcheckpatch b\tFAIL\t2 rows from checkpatch.sh, want one\nlint\tcheckpatch c\tFAIL\tno result (checkpatch.sh exited rc=0)')
[[ $got == "$want" ]] && ok "checkpatch: a missing patch row and a doubled one fail" ||
	not_ok "checkpatch rows" "got:" "$got" "want:" "$want"
got=$(uoom_rows_exactly lint checkpatch.sh 1 "checkpatch a" </dev/null)
[[ $got == $'lint\tcheckpatch a\tFAIL\tno result (checkpatch.sh exited rc=1)' ]] &&
	ok "checkpatch: no rows at all fails every patch" || not_ok "checkpatch no rows" "$got"

# --- selftests/kunit-run: a suite's KTAP from debugfs as TAP ------------------------
# kunit DESC SUITE KTAP WANT: KTAP (printf %b, or - for no suite) as
# $tmp/kunit/SUITE/results, through kunit-run and uoom_tap_rows, with the
# exit status of kunit-run as the rc, must give exactly WANT.
kunit() {
	local desc=$1 suite=$2 got want krc
	mkdir -p "$tmp/kunit"
	[[ $3 == - ]] || { mkdir -p "$tmp/kunit/$suite" && printf '%b' "$3" >"$tmp/kunit/$suite/results"; }
	got=$(KUNIT_DEBUGFS=$tmp/kunit sh "$top/selftests/kunit-run" "$suite" >"$tmp/kunit.tap"; krc=$?
		uoom_tap_rows s "$krc" <"$tmp/kunit.tap")
	want=$(printf '%b' "$4")
	[[ $got == "$want" ]] && ok "$desc" || not_ok "$desc" "got:" "$got" "want:" "$want"
}
kunit "kunit-run: each failed case gets its own reason, held past KTAP's result line" ctx \
	'KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: ctx\n    1..3\n    ok 1 a\n    # b: EXPECTATION FAILED at x.c:1\n    Expected left == 1, but\n        left == 0\n    not ok 2 b\n    # c: EXPECTATION FAILED at x.c:2\n    not ok 3 c\nnot ok 1 ctx\n' \
	's\ta\tPASS\t\ns\tb\tFAIL\tb: EXPECTATION FAILED at x.c:1\ns\tc\tFAIL\tc: EXPECTATION FAILED at x.c:2'
kunit "kunit-run: a suite that is not there fails" gone - \
	"s\\tgone\\tFAIL\\tno $tmp/kunit/gone/results: is CONFIG_KUNIT_DEBUGFS set and the suite built in?"
kunit "kunit-run: fewer cases than planned fail" short '    1..2\n    ok 1 a\n' \
	's\ta\tPASS\t\ns\t(plan)\tFAIL\tplanned 2, ran 1: missing after a\ns\t(exit)\tFAIL\texited rc=1'

# --- tools/summary.sh ----------------------------------------------------------------
mkdir -p "$tmp/r"
printf 'lib\ta\tPASS\t\nvm\tt1\tFLAKY\tfirst run: timeout\nvm\tt1\tPASS\t\ncontrol/oomh\tt2\tPASS\t\nlib\tb\tSKIP\tno x\n' >"$tmp/r/x.tsv"
out=$("$top/tools/summary.sh" "$tmp/r")
src=$?
if [[ $src -eq 0 && $(tail -1 <<<"$out") == "3 passed, 0 failed, 1 skipped" &&
	$(tail -2 <<<"$out" | head -1) == "1 flaky" && $out == *"Flaky (first run failed):"*"first run: timeout"* &&
	$out == *"Negative control (unpatched base kernel):"*"control/oomh"* ]]; then
	ok "summary: flaky listed and counted apart, the negative control in its own table, exit 0"
else
	not_ok "summary with flaky and control rows" "exit $src" "$out"
fi
printf 'lib\ta\tPASS\t\nlib\tb\tWEIRD\t\n' >"$tmp/r/x.tsv"
out=$("$top/tools/summary.sh" "$tmp/r")
src=$?
[[ $src -ne 0 && $(tail -1 <<<"$out") == "1 passed, 1 failed, 0 skipped" ]] &&
	ok "summary: an unknown status counts as failed, exit non-zero" || not_ok "summary unknown status" "exit $src" "$out"
: >"$tmp/r/x.tsv"
out=$("$top/tools/summary.sh" "$tmp/r")
src=$?
[[ $src -ne 0 && $(tail -1 <<<"$out") == "0 passed, 0 failed, 0 skipped" ]] &&
	ok "summary: nothing passed exits non-zero" || not_ok "summary of nothing" "exit $src" "$out"

echo "# $n tests, $fails failed"
[[ $fails -eq 0 ]]
