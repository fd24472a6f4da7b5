#!/usr/bin/env bash
# shellcheck disable=SC2015 # ok/not_ok always succeed: A && ok || not_ok is if-then-else
# uoomctl's host tests on fixture cgroup trees; TAP on stdout, the plan last
# (a run that stops early prints none). Exit status: 0 when every test passed.
#   tests/run.sh BUILD/uoomctl
# Each test runs on a fresh copy of tests/fixtures (set writes to it).
# UOOMCTL_REGEN=1 rewrites the golden files from the current output.
set -uo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	fails=$((fails + 1))
	echo "not ok $n - $1"
	shift
	[[ $# -gt 0 ]] && printf '%s\n' "$@" | sed 's/^/# /'
}
fresh() {
	rm -rf "$tmp/fx"
	cp -a "$here/fixtures" "$tmp/fx"
}
# run ROOT ARGS...: sets out, err, rc. A crash is a failed test of its own:
# some tests compare only the output, which a crash after printing can match.
run() {
	local root=$1
	shift
	out=$("$bin" --cgroup-root "$tmp/fx/$root" "$@" 2>"$tmp/err")
	rc=$?
	err=$(sed "s|$tmp/fx|FX|g" "$tmp/err")
	if [[ $rc -gt 128 ]]; then
		not_ok "uoomctl $* killed by signal $((rc - 128))" "$err"
	fi
}
# edit SEDEXPR FILE: in place, same inode (uoomctl keeps memory.events open).
edit() {
	local c
	c=$(sed "$1" "$2")
	printf '%s\n' "$c" >"$2"
}
sum() { find "$tmp/fx" -type f -exec md5sum {} + | sort; }
golden() {
	local name=$1 got=$2 file=$here/golden/$1
	if [[ ${UOOMCTL_REGEN:-} == 1 ]]; then
		printf '%s\n' "$got" >"$file"
	fi
	if [[ $got == "$(cat "$file")" ]]; then
		ok "golden $name"
	else
		not_ok "golden $name" "$(diff <(printf '%s\n' "$got") "$file")"
	fi
}
# expect_err DESC RC MESSAGE ARGS... (on "patched"; nothing may change)
expect_err() {
	local desc=$1 want_rc=$2 want=$3 before
	shift 3
	fresh
	before=$(sum)
	run patched "$@"
	if [[ $rc -eq $want_rc && $err == "$want" && $(sum) == "$before" ]]; then
		ok "$desc: exit $want_rc, exact message, files unchanged"
	else
		not_ok "$desc" "rc=$rc (want $want_rc)" "got:  $err" "want: $want" \
			"$([[ $(sum) == "$before" ]] || echo 'files CHANGED')"
	fi
}

# --- status -----------------------------------------------------------------
fresh
run patched
[[ $rc -eq 0 ]] && ok "status exits 0" || not_ok "status exits 0" "rc=$rc" "$err"
golden status.txt "$out"
run patched status -j
golden status.json "$out"
if command -v python3 >/dev/null; then
	if keys=$(python3 -c 'import json,sys; a=json.load(sys.stdin); print(len({tuple(o) for o in a}), len(a))' <<<"$out") &&
		[[ $keys == "1 4" ]]; then
		ok "status --json is one array of 4 objects with the same keys"
	else
		not_ok "status --json parses with stable keys" "$keys"
	fi
fi
run patched --json jobs
golden status-jobs.json "$out"
run patched status /service "$tmp/fx/patched/jobs/leak"
golden status-paths.txt "$out"
[[ $out != *nomem* ]] && ok "a cgroup without the memory controller is not listed" ||
	not_ok "nomem not listed" "$out"

# --- set ------------------------------------------------------------------------
fresh
run patched set /jobs/leak delay=1500 reserve=16M
d=$(cat "$tmp/fx/patched/jobs/leak/memory.oom_delay_millisecs")
r=$(cat "$tmp/fx/patched/jobs/leak/memory.oom_reserve_in_bytes")
if [[ $rc -eq 0 && $d == 1500 && $r == 16777216 ]]; then
	ok "set delay=1500 reserve=16M writes 1500 and 16777216"
else
	not_ok "set writes the files" "rc=$rc delay=$d reserve=$r" "$err"
fi
golden set.txt "$out"
run patched set jobs delay=2s
d=$(cat "$tmp/fx/patched/jobs/memory.oom_delay_millisecs")
[[ $rc -eq 0 && $d == 2000 ]] && ok "set delay=2s writes 2000" || not_ok "delay=2s" "rc=$rc d=$d"
run patched set "$tmp/fx/patched/service" delay=250ms reserve=64k
d=$(cat "$tmp/fx/patched/service/memory.oom_delay_millisecs")
r=$(cat "$tmp/fx/patched/service/memory.oom_reserve_in_bytes")
[[ $rc -eq 0 && $d == 250 && $r == 65536 ]] && ok "set by full path: 250ms, 64k" ||
	not_ok "set by full path" "rc=$rc d=$d r=$r" "$err"

expect_err "delay above 60 s" 1 \
	"uoomctl: delay=61s: 61000 ms is out of range (memory.oom_delay_millisecs takes 0..60000 ms)" \
	set jobs/leak delay=61s
expect_err "delay not a duration" 1 \
	"uoomctl: delay=1min: not a duration (use milliseconds or a ms/s suffix: 500ms, 2s)" \
	set jobs/leak delay=1min
expect_err "negative delay" 1 \
	"uoomctl: delay=-1: not a duration (use milliseconds or a ms/s suffix: 500ms, 2s)" \
	set jobs/leak delay=-1
expect_err "reserve=max" 1 \
	'uoomctl: reserve=max: the reserve must be a size, "max" is not allowed (e.g. reserve=8M)' \
	set jobs/leak reserve=max
expect_err "reserve with a bad suffix" 1 \
	"uoomctl: reserve=8X: not a size (use bytes or a K, M, G suffix: 8M)" \
	set jobs/leak reserve=8X
expect_err "reserve overflowing 64 bits" 1 \
	"uoomctl: reserve=99999999999T: too large (use bytes or a K, M, G suffix: 8M)" \
	set jobs/leak reserve=99999999999T
expect_err "a bad second setting writes nothing" 1 \
	'uoomctl: reserve=max: the reserve must be a size, "max" is not allowed (e.g. reserve=8M)' \
	set jobs/leak delay=1s reserve=max
expect_err "reserve below what is charged (EBUSY)" 1 \
	"uoomctl: reserve=512K: 1048576 bytes of the reserve are charged by the OOM episode in progress (reserve_charged in memory.oom_notify); the kernel refuses a lower reserve (EBUSY): retry when the episode has ended" \
	set jobs/leak reserve=512K
expect_err "unknown key" 1 \
	"uoomctl: limit=1G: unknown setting 'limit' (use delay=DURATION or reserve=SIZE)" \
	set jobs/leak limit=1G
expect_err "no =" 1 \
	"uoomctl: delay: expected KEY=VALUE (delay=1s, reserve=8M)" \
	set jobs/leak delay
expect_err "no such cgroup" 1 \
	"uoomctl: /nope: no such cgroup (FX/patched/nope does not exist)" \
	set /nope delay=1s
expect_err "cgroup without the uoom files" 1 \
	"uoomctl: nomem: FX/patched/nomem/memory.oom_notify does not exist: enable the memory controller for it (+memory in its parent's cgroup.subtree_control)" \
	set nomem delay=1s
expect_err "status of a missing PATH" 1 \
	"uoomctl: /nope: no such cgroup (FX/patched/nope does not exist)" \
	status /nope
expect_err ".. in a path" 1 \
	"uoomctl: jobs/../..: '..' is not allowed in a cgroup path" \
	set jobs/../.. delay=1s

# The kernel's errno is named: a directory where the file should be.
fresh
rm "$tmp/fx/patched/service/memory.oom_delay_millisecs"
mkdir "$tmp/fx/patched/service/memory.oom_delay_millisecs"
run patched set service delay=1s
want='uoomctl: writing "1000" to FX/patched/service/memory.oom_delay_millisecs: Is a directory (EISDIR)'
if [[ $rc -eq 1 && $(head -1 <<<"$err") == "$want" ]]; then
	ok "a failed write names the file, the value and the errno"
else
	not_ok "failed write message" "rc=$rc" "got:  $err" "want: $want"
fi

# --- kernels and mounts that cannot ----------------------------------------------
fresh
run unpatched
want="uoomctl: this kernel ($(uname -r)) has no uoom patches: FX/unpatched/memory.oom_notify does not exist; see kernel-patches/ in the uoom sources (apply the series, enable CONFIG_MEMCG_OOM_HANDLER)"
[[ $rc -eq 2 && $err == "$want" && -z $out ]] && ok "unpatched kernel: exit 2, says so" ||
	not_ok "unpatched kernel" "rc=$rc" "got:  $err" "want: $want"
run unpatched watch --count 1
[[ $rc -eq 2 && $err == "$want" ]] && ok "unpatched kernel: watch exits 2 too" ||
	not_ok "unpatched watch" "rc=$rc" "$err"
run nocgroup2 set / delay=1s
want="uoomctl: cgroup v2 is not mounted at FX/nocgroup2 (FX/nocgroup2/cgroup.controllers does not exist): mount it with 'mount -t cgroup2 none FX/nocgroup2', or give --cgroup-root"
[[ $rc -eq 2 && $err == "$want" ]] && ok "no cgroup v2: exit 2, says so" ||
	not_ok "no cgroup v2" "rc=$rc" "got:  $err" "want: $want"

# --- watch --------------------------------------------------------------------------
# watch_bg ARGS...: uoomctl watch on the patched fixture, polling every 20 ms,
# in the background (pid in $pid), output in watch.out and watch.err.
watch_bg() {
	"$bin" --cgroup-root "$tmp/fx/patched" watch --interval 20 "$@" \
		>"$tmp/watch.out" 2>"$tmp/watch.err" &
	pid=$!
}
fresh
leak=$tmp/fx/patched/jobs/leak
watch_bg --count 3 --timeout 10 jobs
sleep 0.5
edit 's/^oom_episodes 7/oom_episodes 8/' "$leak/memory.oom_notify"
sleep 0.2
edit 's/^oom_fallback 1/oom_fallback 2/' "$leak/memory.oom_notify"
edit 's/^oom_kill 2/oom_kill 3/' "$leak/memory.events.local"
wait $pid
rc=$?
lines=$(sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z //' "$tmp/watch.out")
want='/jobs/leak episode started (7 -> 8) handlers 1 under_oom 1
/jobs/leak fallback: the kernel OOM killer ran (1 -> 2) handlers 1 under_oom 1
/jobs/leak oom_kill (2 -> 3) handlers 1 under_oom 1'
if [[ $rc -eq 0 && $lines == "$want" ]]; then
	ok "watch --count 3 prints 3 timestamped changes and exits 0"
else
	not_ok "watch --count 3" "rc=$rc" "got: $(cat "$tmp/watch.out")" "want: $want" "$(cat "$tmp/watch.err")"
fi
grep -q 'not registered as a handler' "$tmp/watch.err" && ok "watch says it does not register" ||
	not_ok "watch says read-only" "$(cat "$tmp/watch.err")"
[[ $(cat "$leak/memory.oom_notify") == *"handlers 1"* ]] && ok "watch wrote nothing" || not_ok "watch wrote nothing"

# A read caught mid-rewrite (empty, unparsable) loses no change: the cgroup
# stays watched with its old counters.
fresh
leak=$tmp/fx/patched/jobs/leak
watch_bg --count 1 --timeout 5 jobs
sleep 0.4
saved=$(cat "$leak/memory.oom_notify")
: >"$leak/memory.oom_notify"
sleep 0.3
printf '%s\n' "$saved" | sed 's/^oom_episodes 7/oom_episodes 8/' >"$leak/memory.oom_notify"
wait $pid
rc=$?
[[ $rc -eq 0 && $(cat "$tmp/watch.out") == *"/jobs/leak episode started (7 -> 8)"* ]] &&
	ok "watch keeps a cgroup whose file was unreadable for a while, and sees the change" ||
	not_ok "watch across an unparsable read" "rc=$rc" "got: $(cat "$tmp/watch.out")" "$(cat "$tmp/watch.err")"

start=$(date +%s%N)
run patched watch --count 1 --timeout 1 --interval 50
ms=$((($(date +%s%N) - start) / 1000000))
if [[ $rc -eq 1 && $err == *"timeout after 1 s with 0 of 1 events" && $ms -ge 900 && $ms -lt 3000 ]]; then
	ok "watch --timeout 1 without events: exit 1 after ${ms} ms"
else
	not_ok "watch --timeout" "rc=$rc ms=$ms" "$err"
fi

"$bin" --cgroup-root "$tmp/fx/patched" watch >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -TERM $pid
start=$(date +%s%N)
wait $pid
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[[ $rc -eq 0 && $ms -lt 1000 ]] && ok "watch exits 0 on SIGTERM (${ms} ms)" ||
	not_ok "watch on SIGTERM" "rc=$rc ms=$ms"

# New cgroups are picked up by the rescan.
fresh
watch_bg --count 1 --timeout 10
sleep 0.3
cp -a "$tmp/fx/patched/service" "$tmp/fx/patched/late"
sleep 1.5
edit 's/^oom_episodes 0/oom_episodes 1/' "$tmp/fx/patched/late/memory.oom_notify"
wait $pid
rc=$?
[[ $rc -eq 0 && $(cat "$tmp/watch.out") == *"/late episode started (0 -> 1)"* ]] &&
	ok "watch picks up a cgroup created after it started" ||
	not_ok "watch rescan" "rc=$rc" "$(cat "$tmp/watch.out")"

# --- usage and man page ------------------------------------------------------------
run patched --help
[[ $rc -eq 0 && $out == usage:* ]] && ok "--help" || not_ok "--help" "rc=$rc"
run patched watch --count 0
[[ $rc -eq 1 && $err == "uoomctl: --count 0: expected a whole number >= 1" ]] &&
	ok "--count 0 rejected" || not_ok "--count 0" "rc=$rc $err"
if command -v groff >/dev/null; then
	if lint=$(groff -man -ww -z "$here/../uoomctl.8" 2>&1) && [[ -z $lint ]]; then
		ok "groff -man -ww -z uoomctl.8: no warnings"
	else
		not_ok "groff lint of uoomctl.8" "$lint"
	fi
else
	echo "ok $((++n)) - groff lint of uoomctl.8 # SKIP groff not installed (tools/deps.sh)"
fi

# The shell tests that live outside tools/*/*.sh (tools/check.sh lints those).
for f in "$here/run.sh" "$here/../../../selftests/uoomctl_e2e" "$here/../../../selftests/examples_e2e"; do
	name=$(realpath --relative-to="$here/../../.." "$f")
	if ! command -v shellcheck >/dev/null; then
		echo "ok $((++n)) - shellcheck $name # SKIP shellcheck not installed"
	elif lint=$(shellcheck -x "$f" 2>&1); then
		ok "shellcheck $name"
	else
		not_ok "shellcheck $name" "$(head -5 <<<"$lint")"
	fi
done

echo "1..$n"
[[ $fails -eq 0 ]]
