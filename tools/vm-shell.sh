#!/usr/bin/env bash
# make vm: the patched kernel in QEMU with a shell on this terminal; the
# test binaries are in PATH (uoom-run NAME runs one of selftests/tests.list).
#   tools/vm-shell.sh [normal|debug]
exec "$(dirname "$0")/vm-test.sh" -s -d "${1:-normal}" -r "$(dirname "$0")/../build/vm-shell"
