#!/bin/sh
# seccomp_tty.sh: on a terminal (a pty from script(1)) the confined kvmrun
# still does what the console needs: the foreground check, raw mode, the
# keys, Ctrl-A x, the terminal put back; no call is blocked.
. "$(dirname "$0")/../lib.sh"

command -v script >/dev/null 2>&1 || { echo "no script(1) here"; exit 77; }
(sleep 1; printf '\001x') |
    script -qec "'$KVMRUN' '$GUESTS/hlt_loop.bin'" /dev/null >"$OUT" 2>&1
STATUS=$?
tr -d '\r' <"$OUT" >"$T/out" && mv "$T/out" "$OUT"
expect_status 0
grep -q '^kvmrun: stopped from the console (Ctrl-A x)$' "$OUT" ||
    fail "Ctrl-A x did not stop kvmrun on a terminal"
grep -q seccomp "$OUT" && fail "a system call was blocked on a terminal"
exit 0
