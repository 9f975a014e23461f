#!/bin/sh
# default_console.sh: a Linux guest whose command line names no console gets
# console=ttyS0 (as kvmtool gives it; without one Linux prints nowhere a
# user sees); a console= of the user's is left alone
# (tests/kvm/default_console.c, a crafted vmlinux read back from memory).
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/default_console" "$T" >"$OUT" 2>"$ERR" ||
    fail "default_console"
exit 0
