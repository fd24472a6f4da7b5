#!/usr/bin/env bash
# make check: every test uoom has, then one summary.
#
#   tools/check.sh [--debug]
#
# Stages: lint (shellcheck, checkpatch --strict on the series), the library's
# unit tests (cmocka, ASan+UBSan, on the host), a short run of the libFuzzer
# targets (tools/fuzz.sh --short), and the VM tests on the normal
# kernel (our selftests + the kernel's own memcg selftests); --debug adds the
# same VM tests on the debug kernel (lockdep, KASAN, kmemleak, DEBUG_VM).
# A failing stage does not stop the others. Ends with "N passed, N failed".
set -uo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

debug=0
[[ ${1:-} == --debug ]] && debug=1
results=$UOOM_TOP/build/results
rm -rf "$results"
mkdir -p "$results"

"$UOOM_TOP/tools/deps.sh" || die "could not install the build dependencies"

# A TAP stream on stdin becomes rows of SUITE's tsv.
tap_to_tsv() {
	local suite=$1 line desc
	while IFS= read -r line; do
		[[ $line =~ ^(not\ )?ok\ [0-9]+\ (-\ )?(.*)$ ]] || continue
		desc=${BASH_REMATCH[3]}
		if [[ -n ${BASH_REMATCH[1]} ]]; then
			printf '%s\t%s\tFAIL\t\n' "$suite" "${desc%% #*}"
		elif [[ $desc == *"# SKIP"* ]]; then
			printf '%s\t%s\tSKIP\t%s\n' "$suite" "${desc%% #*}" "${desc#*# SKIP}"
		else
			printf '%s\t%s\tPASS\t\n' "$suite" "${desc%% #*}"
		fi
	done
}

# 1. Lint.
step "lint: shellcheck, checkpatch --strict"
{
	for f in "$UOOM_TOP"/tools/*.sh "$UOOM_TOP"/tools/*/*.sh "$UOOM_TOP"/tools/vm/* "$UOOM_TOP"/tools/demo/scenario \
		"$UOOM_TOP"/selftests/upstream-run "$UOOM_TOP"/.ci/run; do
		if out=$(shellcheck -x "$f" 2>&1); then
			printf 'lint\tshellcheck %s\tPASS\t\n' "${f#"$UOOM_TOP"/}"
		else
			printf 'lint\tshellcheck %s\tFAIL\t%s\n' "${f#"$UOOM_TOP"/}" "$(head -3 <<<"$out" | tr '\n\t' '  ')"
		fi
	done
} >"$results/lint.tsv"
"$UOOM_TOP/tools/checkpatch.sh" >>"$results/lint.tsv"

# 2. Library unit tests.
if [[ -f $UOOM_TOP/lib/Makefile ]]; then
	step "unit tests: make -C lib check (ASan + UBSan)"
	make -C "$UOOM_TOP/lib" check >"$results/lib.log" 2>&1
	rc=$?
	tap_to_tsv lib <"$results/lib.log" >"$results/lib.tsv"
	if [[ $rc -ne 0 ]] && ! grep -q FAIL "$results/lib.tsv"; then
		tail -20 "$results/lib.log" >&2
		printf 'lib\tmake -C lib check\tFAIL\texit %s (log: %s)\n' "$rc" "$results/lib.log" >>"$results/lib.tsv"
	fi
	step "unit tests: $(grep -c PASS "$results/lib.tsv") passed, $(grep -c FAIL "$results/lib.tsv") failed"
fi

# 2a. The libFuzzer targets of every parser, 10 s each (make fuzz runs long).
if [[ -d $UOOM_TOP/lib/fuzz ]]; then
	step "fuzz: tools/fuzz.sh --short"
	"$UOOM_TOP/tools/fuzz.sh" --short --tsv "$results/fuzz.tsv" >"$results/fuzz.log" 2>&1
	rc=$?
	if [[ $rc -ne 0 ]] && ! grep -q FAIL "$results/fuzz.tsv" 2>/dev/null; then
		tail -20 "$results/fuzz.log" >&2
		printf 'fuzz\ttools/fuzz.sh --short\tFAIL\texit %s (log: %s)\n' "$rc" "$results/fuzz.log" >>"$results/fuzz.tsv"
	fi
	grep '^not ok\|^#   ' "$results/fuzz.log" >&2 || true
	step "fuzz: $(grep -c PASS "$results/fuzz.tsv") passed, $(grep -c FAIL "$results/fuzz.tsv") failed ($(tail -1 "$results/fuzz.log" | tr -d '#'))"
fi

# 2b. Each tool's own tests (tools/NAME/Makefile "check": TAP on stdout).
for d in "$UOOM_TOP"/tools/*/; do
	d=${d%/}
	name=${d##*/}
	grep -q '^check:' "$d/Makefile" 2>/dev/null || continue
	step "unit tests: make -C tools/$name check"
	make -C "$d" check >"$results/$name.log" 2>&1
	rc=$?
	tap_to_tsv "$name" <"$results/$name.log" >"$results/$name.tsv"
	if [[ $rc -ne 0 ]] && ! grep -q FAIL "$results/$name.tsv"; then
		tail -20 "$results/$name.log" >&2
		printf '%s\tmake -C tools/%s check\tFAIL\texit %s (log: %s)\n' "$name" "$name" "$rc" "$results/$name.log" >>"$results/$name.tsv"
	fi
	step "unit tests ($name): $(grep -c PASS "$results/$name.tsv") passed, $(grep -c FAIL "$results/$name.tsv") failed"
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

# 4. VM tests. A run that dies before recording its failures still fails.
vm_stage() {
	local v=$1
	"$UOOM_TOP/tools/vm-test.sh" -d "$v" -r "$results" && return 0
	grep -q 'FAIL' "$results/vm-$v.tsv" 2>/dev/null ||
		printf 'vm	tools/vm-test.sh -d %s	FAIL	exited early (output above)
' "$v" >>"$results/vm-$v.tsv"
}
vm_stage normal
[[ $debug -eq 1 ]] && vm_stage debug

"$UOOM_TOP/tools/summary.sh" "$results"
