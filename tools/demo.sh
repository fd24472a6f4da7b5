#!/usr/bin/env bash
# make demo: boot the patched kernel in QEMU and play one scenario twice:
# a leaking job drives its cgroup to OOM next to a protected service and a
# batch job, first with the kernel OOM killer alone, then with a uoom
# handler (tools/demo/demo-handler.c) that logs memory.stat and kills the
# leaker before the kernel would. Prints a side-by-side summary.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

out=$UOOM_TOP/build/demo
bin=$out/bin
mkdir -p "$bin"
"$UOOM_TOP/tools/deps.sh"
step "building the demo handler"
gcc -O2 -Wall -static -o "$bin/demo-handler" "$UOOM_TOP/tools/demo/demo-handler.c"
gcc -O2 -Wall -static -o "$bin/leak" "$UOOM_TOP/tools/demo/leak.c"
install -m 0755 "$UOOM_TOP/tools/demo/scenario" "$bin/scenario"
cat >"$out/demo.list" <<'LIST'
demo.kernel-only  512M  90  scenario kernel
demo.uoom         512M  90  scenario uoom
LIST
"$UOOM_TOP/tools/vm-test.sh" -r "$out" -l "$out/demo.list" -x "$bin" || true
res=$out/results-normal-512M.log
[[ -f $res ]] || die "the VM produced no results: see $out/console-normal-512M.log"

echo
echo "uoom demo: a leaking job in a 64M cgroup, next to a service and a batch job"
printf '%-50s | %s\n' "kernel OOM killer alone" "uoom handler (2 s delay)"
paste -d'|' <(grep -a '^demo\[kernel\]' "$res" | sed 's/^demo\[kernel\]: //' | awk '{printf "%-50s\n", $0}') \
	<(grep -a '^demo\[uoom\]' "$res" | grep -v oom_notify | sed 's/^demo\[uoom\]: / /')
grep -a '^demo-handler:' "$res" | sed 's/^/  /' || true
grep -a '^demo\[uoom\]: memory.oom_notify' "$res" | sed 's/^demo\[uoom\]: /  /' || true
echo
echo "Full logs: $res (scenario output), $out/dmesg-normal-512M.log (kernel log)"
grep -aq '^demo\[kernel\]: leak memory.events oom_kill=[1-9]' "$res" ||
	die "the kernel-only run saw no kernel OOM kill (see $res)"
if ! grep -aq '^demo\[uoom\]: leak memory.events oom_kill=0' "$res" ||
	! grep -aq '^demo\[uoom\]: memory.oom_notify: .*oom_episodes [1-9]' "$res"; then
	die "the handler did not act before the kernel killer (see $res)"
fi
