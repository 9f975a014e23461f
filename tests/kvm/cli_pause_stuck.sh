#!/bin/sh
# cli_pause_stuck.sh: SIGUSR2 while the vCPU is stuck outside KVM_RUN: the
# pause times out after 5 s with one line naming the vCPU, and kvmrun goes
# on; the pause stays requested (status: paused, the vCPU still running)
# and takes effect once the vCPU is free; the next SIGUSR2 resumes. The
# vCPU thread is held stopped (hold_vcpu in tests/lib.sh: ptrace) until
# the test lets it go. (pause_stuck.c tests the same in the library, with
# a device of its own that holds the vCPU.)
. "$(dirname "$0")/../lib.sh"

S=$T/api
trap 'kill -KILL "$PID" "${HOLDER:-}" 2>/dev/null; rm -rf "$T"' EXIT

# ctl_status REGEX: `kvmrun ctl status` has a line matching REGEX.
ctl_status() {
    "$KVMRUN" ctl "$S" status >"$T/ctl.out" 2>&1 && grep -q "$1" "$T/ctl.out"
}

# wait_line REGEX WHAT: waits (at most 15 s) for a stderr line.
wait_line() {
    n=0
    until grep -q "$1" "$ERR"; do
        n=$((n + 1))
        [ "$n" -le 1500 ] || fail "$2"
        sleep 0.01
    done
}

"$KVMRUN" --api "$S" "$GUESTS/rep_stream.bin" >/dev/null 2>"$ERR" &
PID=$!
hold_vcpu
kill -USR2 "$PID"
wait_line '^kvmrun: pause: vcpu0 did not ' \
    "no line for the pause that timed out"
sleep 0.2
grep -q '^State:[[:space:]]*[RSD]' "/proc/$PID/status" ||
    { wait "$PID"; STATUS=$?; fail "kvmrun ended on a pause timeout (status $STATUS)"; }
ctl_status '^state: paused' && ctl_status '^vcpus: 1 (running)' ||
    fail "after the timeout: $(cat "$T/ctl.out")"
rm -f "$T/hold" # the vCPU goes on, acknowledges the pause
wait "$HOLDER" || fail "hold_thread failed"
n=0
until ctl_status '^vcpus: 1 (paused)'; do
    n=$((n + 1))
    [ "$n" -le 500 ] || fail "the vCPU did not pause once free: $(cat "$T/ctl.out")"
    sleep 0.02
done
kill -USR2 "$PID"
wait_line '^kvmrun: resumed$' "no resume"
ctl_status '^state: running' || fail "after SIGUSR2: $(cat "$T/ctl.out")"
kill -USR1 "$PID"
wait_bounded 10 "after SIGUSR1"
expect_status 0
[ "$(wc -l <"$ERR")" = 3 ] || fail "more than one line for each signal"
