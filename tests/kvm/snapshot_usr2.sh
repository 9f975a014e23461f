#!/bin/sh
# snapshot_usr2.sh: SIGUSR2 (pause/resume) while a snapshot holds the VM
# paused is ignored with a message: kvmrun goes on, the snapshot completes
# and resumes the VM. The vCPU thread is held stopped (ptrace, from
# tests/kvm/hold_thread.c), so the snapshot waits for its pause until the
# test lets it go: SIGUSR2 lands while the snapshot waits.
. "$(dirname "$0")/../lib.sh"

"$KVMRUN" --api "$T/api" "$GUESTS/rep_stream.bin" >/dev/null 2>"$ERR" &
PID=$!
n=0
until [ -S "$T/api" ]; do
    n=$((n + 1))
    [ "$n" -le 500 ] || { kill -KILL "$PID"; fail "no control socket"; }
    sleep 0.01
done
# The vCPU thread (it names itself vcpu0 as it starts).
n=0
until VCPU=$(grep -lx vcpu0 /proc/"$PID"/task/*/comm 2>/dev/null); do
    n=$((n + 1))
    [ "$n" -le 500 ] || { kill -KILL "$PID"; fail "no vcpu0 thread"; }
    sleep 0.01
done
VCPU=${VCPU%/comm}
VCPU=${VCPU##*/}
touch "$T/hold"
"$BUILD/tests/kvm/hold_thread" "$VCPU" "$T/hold" >"$T/hold.out" &
HOLDER=$!
n=0
until grep -q held "$T/hold.out" 2>/dev/null; do
    n=$((n + 1))
    if ! kill -0 "$HOLDER" 2>/dev/null; then
        wait "$HOLDER"
        [ $? = 77 ] && { kill -KILL "$PID"; echo "ptrace is not allowed here"; exit 77; }
        kill -KILL "$PID"
        fail "hold_thread failed"
    fi
    [ "$n" -le 500 ] || { kill -KILL "$PID" "$HOLDER"; fail "the vCPU thread was never held"; }
    sleep 0.01
done
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
grep -q '^kvmrun: SIGUSR2 ignored: a snapshot is being written (the VM resumes after it)$' "$ERR" ||
    fail "no message for the ignored SIGUSR2"
# The snapshot resumed the VM: it runs (and streams) until stopped.
"$KVMRUN" ctl "$T/api" status >"$T/ctl.out" 2>&1 || fail "ctl status failed"
grep -q "^state: running" "$T/ctl.out" || { cat "$T/ctl.out"; fail "the VM is not running after the snapshot"; }
kill -USR1 "$PID"
wait_bounded 10 "after SIGUSR1"
expect_status 0
