#!/bin/sh
# tools/uoomd/tests/check.sh TEST_BINARY: uoomd's host tests as one TAP
# stream: the unit tests, then --check exit codes, systemd-analyze verify
# of the unit and the man pages' lint. Run from tools/uoomd (make check).
# UOOMD: the uoomd binary to test.
# The unit binary's own plan (tap.h prints it last) is checked here: a binary
# that crashes or stops early is a failed test of this stream, whose one plan
# comes at the end. Exit status: 0 only when every test passed.
set -u
bin=$1
uoomd=${UOOMD:-build/uoomd}
tmp=$(mktemp -d /tmp/uoomd-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# Not through a pipe: sh has no pipefail, and "| tee" would hide the exit status.
"$bin" . >"$tmp/unit.tap" 2>&1
urc=$?
grep -v '^1\.\.[0-9]' "$tmp/unit.tap"
n=$(grep -c '^\(not \)\?ok ' "$tmp/unit.tap")
fails=$(grep -c '^not ok ' "$tmp/unit.tap")
uplan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$tmp/unit.tap" | tail -1)
uran=$n

# A message of several lines (a command's output) is one test line and "# "
# diagnostics: a bare line of it could read as a test ("ok ...") or a plan.
line1() { printf '%s\n' "$2" | { IFS= read -r first; echo "$1 - $first"; sed 's/^/# /'; }; }
ok() { n=$((n + 1)); line1 "ok $n" "$*"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); line1 "not ok $n" "$*"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

why=$(grep -m1 -E 'ERROR: [A-Za-z]*Sanitizer|runtime error' "$tmp/unit.tap" | sed 's/^==[0-9]*==//')
last=$(grep '^\(not \)\?ok ' "$tmp/unit.tap" | tail -1 | sed 's/^\(not \)\?ok [0-9]* - //')
if [ "$urc" -gt 128 ] && [ "$urc" -le 192 ]; then
	nok "$bin killed by signal $((urc - 128)) after $uran tests${why:+: $why}"
elif [ "$urc" -ne 0 ] && [ "$fails" -eq 0 ]; then
	nok "$bin exited $urc with no failed test${why:+: $why}"
fi
if [ -z "$uplan" ]; then
	nok "$bin printed no plan: it stopped after $uran tests${last:+, the last: $last}"
elif [ "$uplan" -ne "$uran" ]; then
	nok "$bin planned $uplan tests, ran $uran"
fi

# --check: 0 for a valid file, 1 with FILE:LINE messages for a bad one, 2 for usage
if out=$("$uoomd" --check -c uoomd.conf 2>&1); then ok "--check uoomd.conf exits 0 ($out)"; else nok "--check uoomd.conf: $out"; fi
printf '[watch a]\ncgroup = /x\ndelay = 70s\n' >"$tmp/bad.conf"
"$uoomd" --check -c "$tmp/bad.conf" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "^$tmp/bad.conf:3: key 'delay': value '70s' is out of range 0..60s$" "$tmp/out"; then
	ok "--check of a bad file exits 1 and names file:line"
else
	nok "--check of a bad file: rc $rc: $(cat "$tmp/out")"
fi
"$uoomd" --check -c "$tmp/none.conf" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "none.conf: cannot open" "$tmp/out"; then ok "--check of a missing file exits 1"; else nok "--check missing file: rc $rc"; fi
"$uoomd" --bogus >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "an unknown option exits 2"; else nok "unknown option: rc $rc"; fi
# a bad config is refused at start too
"$uoomd" -f -c "$tmp/bad.conf" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "not valid, not starting" "$tmp/out"; then ok "uoomd refuses to start with a bad config"; else nok "start with bad config: rc $rc"; fi

# the systemd unit (ExecStart pointed at the built binary: verify checks it exists)
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|/usr/sbin/uoomd|$(pwd)/$uoomd|" uoomd.service >"$tmp/uoomd.service"
	# Documentation=man:... is checked too: put our pages on MANPATH
	mkdir -p "$tmp/man/man8" "$tmp/man/man5"
	cp uoomd.8 "$tmp/man/man8/" && cp uoomd.conf.5 "$tmp/man/man5/"
	if out=$(MANPATH=$tmp/man systemd-analyze verify "$tmp/uoomd.service" 2>&1) && [ -z "$out" ]; then
		ok "systemd-analyze verify uoomd.service"
	else
		nok "systemd-analyze verify uoomd.service: $out"
	fi
else
	skip "systemd-analyze verify uoomd.service" "systemd-analyze not installed"
fi
# the man pages
for m in uoomd.8 uoomd.conf.5; do
	if command -v groff >/dev/null 2>&1; then
		if out=$(groff -man -ww -z "$m" 2>&1) && [ -z "$out" ]; then ok "groff -man -ww: $m"; else nok "groff -man -ww $m: $out"; fi
	else
		skip "groff -man -ww: $m" "groff not installed"
	fi
	if command -v man >/dev/null 2>&1; then
		if out=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null) && [ -z "$out" ]; then ok "man --warnings -l $m"; else nok "man --warnings $m: $out"; fi
	else
		skip "man --warnings -l $m" "man not installed"
	fi
done
echo "1..$n"
[ "$fails" -eq 0 ]
