#!/bin/sh
# snapshot_usr2.sh: SIGUSR2 while a snapshot holds a running VM paused is
# the user's pause (SIGUSR2 toggles what the user asked for, not what the
# vCPUs do): kvmrun goes on, the snapshot completes and releases its own
# hold only, so the VM stays paused until the next SIGUSR2. The vCPU
# thread is held stopped (ptrace, from tests/kvm/hold_thread.c), so the
# snapshot waits for its pause until the test lets it go: SIGUSR2 lands
# while the snapshot waits.
. "$(dirname "$0")/../lib.sh"

"$KVMRUN" --api "$T/api" "$GUESTS/rep_stream.bin" >/dev/null 2>"$ERR" &
PID=$!
n=0
until [ -S "$T/api" ]; do
    n=$((n + 1))
    [ "$n" -le 500 ] || { kill -KILL "$PID"; fail "no control socket"; }
    sleep 0.01
done
hold_vcpu
"$KVMRUN" ctl "$T/api" snapshot "$T/snap" >"$T/ctl.out" 2>&1 &
CTL=$!
# The snapshot waits for the vCPU to pause: its (control) thread sleeps
# on a condition variable instead of polling the socket.
n=0
until for t in /proc/"$PID"/task/*; do
    [ "$(cat "$t/comm")" = control ] && grep -q futex "$t/wchan" && break
done; do
    n=$((n + 1))
    [ "$n" -le 1000 ] || { kill -KILL "$PID"; fail "the snapshot never waited for the pause"; }
    sleep 0.01
done
kill -USR2 "$PID"
sleep 0.5
kill -0 "$PID" 2>/dev/null || {
    rm -f "$T/hold"; wait "$PID"; STATUS=$?; wait "$CTL"
    fail "kvmrun ended on SIGUSR2 during a snapshot (status $STATUS)"
}
rm -f "$T/hold" # the vCPU goes on, acknowledges the pause
wait "$HOLDER" || fail "hold_thread failed"
wait "$CTL" || { kill -KILL "$PID"; cat "$T/ctl.out"; fail "the snapshot failed"; }
[ -s "$T/snap" ] || fail "no snapshot file"
n=0
until grep -q '^kvmrun: paused (SIGUSR2 again resumes)$' "$ERR"; do
    n=$((n + 1))
    [ "$n" -le 1000 ] || { kill -KILL "$PID"; fail "no pause line for the SIGUSR2"; }
    sleep 0.01
done
# The snapshot released its hold, not the user's: the VM stays paused.
"$KVMRUN" ctl "$T/api" status >"$T/ctl.out" 2>&1 || fail "ctl status failed"
grep -q "^state: paused" "$T/ctl.out" && grep -q "^vcpus: 1 (paused)" "$T/ctl.out" ||
    { cat "$T/ctl.out"; fail "the user's pause did not outlast the snapshot"; }
# The next SIGUSR2 resumes: it runs (and streams) until stopped.
kill -USR2 "$PID"
n=0
until grep -q '^kvmrun: resumed$' "$ERR"; do
    n=$((n + 1))
    [ "$n" -le 1000 ] || { kill -KILL "$PID"; fail "no resume"; }
    sleep 0.01
done
"$KVMRUN" ctl "$T/api" status >"$T/ctl.out" 2>&1 || fail "ctl status failed"
grep -q "^state: running" "$T/ctl.out" || { cat "$T/ctl.out"; fail "the VM is not running after SIGUSR2"; }
kill -USR1 "$PID"
wait_bounded 10 "after SIGUSR1"
expect_status 0
