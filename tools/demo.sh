#!/usr/bin/env bash
# make demo: boot the patched kernel in QEMU and play one scenario twice:
# a leaking job drives its cgroup to OOM next to a protected service (a
# heartbeat that measures its own stalls) and a batch job; first uoomd
# (tools/demo/uoomd.conf) logs a snapshot and kills the leaker before the
# kernel would, then the kernel OOM killer alone. Prints a side-by-side
# summary; fails if uoomd did not act before the kernel killer.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

out=$UOOM_TOP/build/demo
bin=$out/bin
rm -rf "$bin"
mkdir -p "$bin"
"$UOOM_TOP/tools/deps.sh"
step "building the demo programs (uoomd itself is built by tools/vm-test.sh)"
gcc -O2 -Wall -Wextra -static -o "$bin/heartbeat" "$UOOM_TOP/tools/demo/heartbeat.c"
gcc -O2 -Wall -static -o "$bin/leak" "$UOOM_TOP/tools/demo/leak.c"
install -m 0755 "$UOOM_TOP/tools/demo/scenario" "$bin/scenario"
install -m 0644 "$UOOM_TOP/tools/demo/uoomd.conf" "$bin/demo-uoomd.conf"
cat >"$out/demo.list" <<'LIST'
demo.uoomd        512M  90  -  scenario uoomd
demo.kernel-only  512M  90  -  scenario kernel
LIST
"$UOOM_TOP/tools/vm-test.sh" -r "$out" -l "$out/demo.list" -x "$bin" || true
res=$out/results-normal-512M.log
[[ -f $res ]] || die "the VM produced no results: see $out/console-normal-512M.log"
for m in uoomd kernel; do
	grep -a "^log\[$m\] " "$res" | sed "s/^log\[$m\] //" >"$out/logs-$m.txt" || true
done
grep -a '^log\[uoomd\] uoomd.log: ' "$res" | sed 's/^log\[uoomd\] uoomd.log: //' >"$out/uoomd.log" || true

echo
echo "uoom demo: a leaking job in a 64M cgroup, next to a protected service and a batch job"
printf '%-54s | %s\n' "uoomd (the kernel waits up to 2 s for it)" "kernel OOM killer alone"
printf '%-54s-+-%s\n' "$(printf '%054d' 0 | tr 0 -)" "------------------------------------------------------"
paste -d'|' <(grep -a '^demo\[uoomd\]' "$res" | grep -v oom_notify | sed 's/^demo\[uoomd\]: //' | awk '{printf "%-55s\n", $0}') \
	<(grep -a '^demo\[kernel\]' "$res" | grep -v oom_notify | sed 's/^demo\[kernel\]: / /')
grep -a '^demo\[uoomd\]: memory.oom_notify' "$res" | sed 's/^demo\[uoomd\]: /  uoomd run, leak /' || true
echo "  uoomd's record: $(grep -a 'uoomd: episode=' "$out/uoomd.log" | head -1 | sed 's/.*uoomd: //')"
echo
echo "Full logs: $out/uoomd.log (uoomd: snapshot + episode record),"
echo "           $out/logs-{uoomd,kernel}.txt, $res (scenario), $out/dmesg-normal-512M.log (kernel)"
grep -aq '^demo\[kernel\]: leak memory.events oom_kill=[1-9]' "$res" ||
	die "the kernel-only run saw no kernel OOM kill (see $res)"
if ! grep -aq '^demo\[uoomd\]: killed by: uoomd' "$res" ||
	! grep -aq '^demo\[uoomd\]: leak memory.events oom_kill=0' "$res"; then
	die "uoomd did not act before the kernel killer (see $res and $out/uoomd.log)"
fi
