#!/usr/bin/env bash
# make check: every test uoom has, then one summary.
#
#   tools/check.sh [--debug | --no-vm]
#
# Stages: lint (shellcheck, checkpatch --strict on the series), the library's
# unit tests (cmocka, ASan+UBSan, on the host), a short run of the libFuzzer
# targets (tools/fuzz.sh --short), each tool's own tests, make install, the
# harness's test of its own counting, the VM tests on the normal kernel
# (our selftests + the kernel's own memcg selftests), and the negative
# control: the series' tests on the unpatched base kernel, where each must
# fail. --debug adds the VM tests on the debug kernel (PREEMPT, lockdep,
# PROVE_RCU, DEBUG_LIST, KASAN, kmemleak, DEBUG_VM, hung-task, soft-lockup
# and RCU-stall detection). Every VM has 2 vCPUs.
# --no-vm runs the host stages only (no kernel is built or booted).
# A failing stage does not stop the others. Every TAP stream is counted by
# tools/tap.sh (its plan against what ran, its exit status), one per producer.
# Ends with "N passed, N failed, N skipped" (tools/summary.sh).
set -uo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tools/tap.sh
. "$(dirname "$0")/tap.sh"

debug=0
novm=0
for arg in "$@"; do
	case $arg in
	--debug) debug=1 ;;
	--no-vm) novm=1 ;;
	*) die "usage: tools/check.sh [--debug | --no-vm]" ;;
	esac
done
[[ $debug -eq 1 && $novm -eq 1 ]] && die "--debug runs the VM tests on the debug kernel; --no-vm runs none"
results=$UOOM_TOP/build/results
rm -rf "$results"
mkdir -p "$results"

"$UOOM_TOP/tools/deps.sh" || die "could not install the build dependencies"

# counts TSV: "N passed, N failed" of a stage's rows.
counts() {
	awk -F'\t' '{ n[$3]++ } END { printf "%d passed, %d failed\n", n["PASS"], n["FAIL"] }' "$1"
}
# show_fails TSV: a stage's failures, on stderr while the run goes on.
show_fails() {
	awk -F'\t' '$3 == "FAIL" { printf "  FAIL %s: %s  %s\n", $1, $2, $4 }' "$1" >&2
}

# 1. Lint.
step "lint: shellcheck, checkpatch --strict"
{
	for f in "$UOOM_TOP"/tools/*.sh "$UOOM_TOP"/tools/*/*.sh "$UOOM_TOP"/tools/*/tests/*.sh \
		"$UOOM_TOP"/tools/vm/* "$UOOM_TOP"/tools/demo/scenario \
		"$UOOM_TOP"/selftests/upstream-run "$UOOM_TOP"/.ci/run; do
		if out=$(shellcheck -x "$f" 2>&1); then
			printf 'lint\tshellcheck %s\tPASS\t\n' "${f#"$UOOM_TOP"/}"
		else
			printf 'lint\tshellcheck %s\tFAIL\t%s\n' "${f#"$UOOM_TOP"/}" "$(head -3 <<<"$out" | tr '\n\t' '  ')"
		fi
	done
} >"$results/lint.tsv"
# checkpatch: exactly one row per patch of the series, whatever the script did.
nobuild=()
[[ $novm -eq 1 ]] && nobuild=(--no-build)
"$UOOM_TOP/tools/checkpatch.sh" "${nobuild[@]}" >"$results/checkpatch.rows"
rc=$?
if ! patches=$(uoom_series 2>&1); then
	printf 'lint\tkernel-patches/series\tFAIL\t%s\n' "$(tr '\n\t' '  ' <<<"$patches")" >>"$results/lint.tsv"
elif [[ -z $patches ]]; then
	printf 'lint\tkernel-patches/series\tFAIL\tlists no patch\n' >>"$results/lint.tsv"
else
	want=()
	while IFS= read -r p; do want+=("checkpatch ${p##*/}"); done <<<"$patches"
	uoom_rows_exactly lint tools/checkpatch.sh "$rc" "${want[@]}" \
		<"$results/checkpatch.rows" >>"$results/lint.tsv"
fi
show_fails "$results/lint.tsv"

# 2. Library unit tests: each binary's TAP and exit status, counted apart.
if [[ -f $UOOM_TOP/lib/Makefile ]]; then
	step "unit tests: make -C lib check (ASan + UBSan)"
	make -C "$UOOM_TOP/lib" check TAPDIR="$results/lib" >"$results/lib.log" 2>&1
	rc=$?
	for src in "$UOOM_TOP"/lib/tests/test_*.c; do
		t=${src##*/}
		t=${t%.c}
		if [[ -f $results/lib/$t.rc ]]; then
			uoom_tap_rows lib "$(cat "$results/lib/$t.rc")" "$t" <"$results/lib/$t.tap"
		else
			printf 'lib\t%s (exit)\tFAIL\tdid not run (make -C lib check exited %s; log: %s)\n' \
				"$t" "$rc" "$results/lib.log"
		fi
	done >"$results/lib.tsv"
	if [[ $rc -ne 0 ]] && ! awk -F'\t' '$3 == "FAIL" { f = 1 } END { exit !f }' "$results/lib.tsv"; then
		printf 'lib\tmake -C lib check\tFAIL\texit %s (log: %s)\n' "$rc" "$results/lib.log" >>"$results/lib.tsv"
	fi
	[[ $rc -eq 0 ]] || tail -20 "$results/lib.log" >&2
	show_fails "$results/lib.tsv"
	step "unit tests: $(counts "$results/lib.tsv")"
fi

# 2a. The libFuzzer targets of every parser, 10 s each (make fuzz runs long).
if [[ -d $UOOM_TOP/lib/fuzz ]]; then
	step "fuzz: tools/fuzz.sh --short"
	"$UOOM_TOP/tools/fuzz.sh" --short >"$results/fuzz.log" 2>&1
	rc=$?
	uoom_tap_rows fuzz "$rc" tools/fuzz.sh <"$results/fuzz.log" >"$results/fuzz.tsv"
	[[ $rc -eq 0 ]] || tail -20 "$results/fuzz.log" >&2
	grep '^not ok\|^#   ' "$results/fuzz.log" >&2 || true
	step "fuzz: $(counts "$results/fuzz.tsv") ($(tail -1 "$results/fuzz.log" | tr -d '#'))"
fi

# 2b. Each tool's own tests (tools/NAME/Makefile "check": TAP on stdout).
for d in "$UOOM_TOP"/tools/*/; do
	d=${d%/}
	name=${d##*/}
	grep -q '^check:' "$d/Makefile" 2>/dev/null || continue
	step "unit tests: make -C tools/$name check"
	make -C "$d" check >"$results/$name.log" 2>&1
	rc=$?
	uoom_tap_rows "$name" "$rc" "make check" <"$results/$name.log" >"$results/$name.tsv"
	[[ $rc -eq 0 ]] || tail -20 "$results/$name.log" >&2
	show_fails "$results/$name.tsv"
	step "unit tests ($name): $(counts "$results/$name.tsv")"
done

# 3. make install, pkg-config, and every example built against the result.
if [[ -f $UOOM_TOP/lib/Makefile ]]; then
	step "install: make install, pkg-config, examples/ against the installed library"
	dest=$results/destdir
	{
		if make -s -C "$UOOM_TOP/lib" install DESTDIR="$dest" PREFIX=/usr >"$results/install.log" 2>&1; then
			printf 'install\tmake -C lib install DESTDIR PREFIX=/usr\tPASS\t\n'
		else
			printf 'install\tmake -C lib install\tFAIL\tlog: %s\n' "$results/install.log"
		fi
		pc() { PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$dest/usr/lib/pkgconfig pkg-config "$@"; }
		if flags=$(pc --cflags --libs uoom 2>&1); then
			printf 'install\tpkg-config --cflags --libs uoom\tPASS\t\n'
		else
			printf 'install\tpkg-config --cflags --libs uoom\tFAIL\t%s\n' "$flags"
		fi
		for ex in "$UOOM_TOP"/examples/*.c; do
			name=${ex##*/}
			lines=$(wc -l <"$ex")
			# shellcheck disable=SC2086 # flags are words
			if out=$(cc -Wall -Wextra -Werror -o "$results/${name%.c}" "$ex" $flags 2>&1) &&
				[[ $lines -le 80 ]]; then
				printf 'install\texample %s (%s lines)\tPASS\t\n' "$name" "$lines"
			else
				printf 'install\texample %s (%s lines)\tFAIL\t%s\n' "$name" "$lines" "$(head -2 <<<"$out" | tr '\n\t' '  ')"
			fi
		done
	} >"$results/install.tsv"
fi

# 3a. The harness's own counting: synthetic streams through tools/tap.sh.
step "harness: tools/tests/test-counting.sh"
"$UOOM_TOP/tools/tests/test-counting.sh" >"$results/harness.log" 2>&1
rc=$?
uoom_tap_rows harness "$rc" test-counting.sh <"$results/harness.log" >"$results/harness.tsv"
show_fails "$results/harness.tsv"
step "harness: $(counts "$results/harness.tsv")"

# 4. VM tests. A run that dies before recording its failures still fails.
vm_stage() {
	local v=$1
	"$UOOM_TOP/tools/vm-test.sh" -d "$v" -r "$results" && return 0
	grep -q 'FAIL' "$results/vm-$v.tsv" 2>/dev/null ||
		printf 'vm	tools/vm-test.sh -d %s	FAIL	exited early (output above)
' "$v" >>"$results/vm-$v.tsv"
}
if [[ $novm -eq 0 ]]; then
	vm_stage normal
	# The negative control: the series' tests on the unpatched kernel,
	# where each must fail (selftests/control.list).
	vm_stage base
	[[ $debug -eq 1 ]] && vm_stage debug
fi

"$UOOM_TOP/tools/summary.sh" "$results"
