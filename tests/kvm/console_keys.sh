#!/bin/sh
# console_keys.sh: on a terminal (tests/kvm/pty_drive's pty), Ctrl-A h
# lists the console's keys, as QEMU's C-a h does, and kvmrun goes on;
# Ctrl-A x then quits with status 0 and the terminal is put back.
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/pty_drive" -t 20 -o "$OUT" -- \
    "$KVMRUN" --pidfile "$T/pid" "$GUESTS/hlt_loop.bin" 2>"$ERR" <<'SCRIPT' ||
sleep 500
send \x01h
expect kvmrun: console keys (after Ctrl-A):
expect Ctrl-A x       quit kvmrun (status 0)
expect Ctrl-A h       this help
expect Ctrl-A Ctrl-A  send Ctrl-A to the guest
sleep 200
send \x01x
expect kvmrun: stopped from the console (Ctrl-A x)
exit 0
SCRIPT
    fail "pty_drive: $(cat "$ERR")"
grep -q seccomp "$OUT" && fail "a system call was blocked"
exit 0
