#!/bin/sh
# linux_demo.sh: make demo-linux's run (tests/linux/demo) on a terminal
# (tests/kvm/pty_drive's pty): the busybox shell's prompt comes, a command
# typed at it runs and its output comes back, Ctrl-A x quits kvmrun with
# status 0 and the terminal is put back. With input from a pipe, its lines
# reach the shell, which then exits and the guest powers off (status 0).
# Boots Linux twice: in the test VM where this host's KVM crawls.
. "$(dirname "$0")/../lib.sh"
linux_setup

# The run on the terminal as the host side of the demo chose it.
KVMRUN_DEMO_MODE=tty "$BUILD/tests/kvm/pty_drive" -t "${LINUX_TIMEOUT:-240}" \
    -o "$OUT" -- "$ROOT/tests/linux/demo" "$KVMRUN" "$BUILD/linux" \
    2>"$ERR" <<'SCRIPT' || fail "on a terminal: $(cat "$ERR")"
expect kvmrun demo: a busybox shell
expect (kvmrun demo) # 
send echo "$((6 * 7)) from the guest's shell"\r
expect 42 from the guest's shell
expect (kvmrun demo) # 
send \x01x
expect kvmrun: stopped from the console (Ctrl-A x)
exit 0
SCRIPT

# Piped input, through the demo's host side (its test for a terminal,
# the input saved and typed once the prompt is there; this VM or the
# test VM already: tests/on-kvm runs it here).
printf 'echo "$((6 * 7)) piped"\nuname -r\n' |
    KVMRUN_LINUX_OK=1 "$ROOT/tests/linux/demo" "$KVMRUN" "$BUILD/linux" \
        >"$OUT" 2>"$ERR" &
PID=$!
wait_bounded "${LINUX_TIMEOUT:-240}" "the piped demo"
expect_status 0
tr -d '\r' <"$OUT" >"$T/out"
grep -qx '42 piped' "$T/out" || fail "the piped command did not run"
grep -q '^[0-9][0-9.]*-[0-9]*-cloud-amd64$' "$T/out" ||
    fail "no uname -r line from the guest"
grep -q '^(kvmrun demo) # exit$' "$T/out" || fail "the demo's exit was not typed"
ls "$BUILD/linux" | grep -q demo-input && fail "the input file was left"
exit 0
