#!/bin/sh
# serial_stalled_reader.sh: the guest streams its lines (fifo_stream.S)
# into a pipe nobody reads (issue 11, item 2: the vCPU used to block in
# write(), so pause, snapshot and stop timed out and SIGTERM ended kvmrun
# with 6 after 10 s). No vCPU waits for the reader now: SIGUSR2 pauses
# and resumes at once, a snapshot succeeds, SIGTERM ends kvmrun with 143
# within 5 s, saying how many bytes it dropped; what reached the pipe is
# an exact prefix of the stream, read once kvmrun is gone.
. "$(dirname "$0")/../lib.sh"
TOOL=$BUILD/tests/kvm/stream_tool

mkfifo "$T/out.fifo"
exec 4<>"$T/out.fifo" # the reader: holds the pipe open, reads nothing yet
"$TOOL" shrink 4 || fail "cannot shrink the pipe"
"$KVMRUN" --pidfile "$T/pid" --api "$T/api" "$GUESTS/fifo_stream.bin" \
    >"$T/out.fifo" 2>"$ERR" &
PID=$!
wait_for_file "$T/pid" 20 || fail "kvmrun never started the guest"
"$TOOL" full 4 60 || fail "the pipe never filled"

kill -USR2 "$PID"
wait_stderr "kvmrun: paused (SIGUSR2 again resumes)" 3 ||
    fail "SIGUSR2 did not pause the VM within 3 s"
kill -USR2 "$PID"
wait_stderr "kvmrun: resumed" 3 || fail "SIGUSR2 did not resume the VM within 3 s"
"$KVMRUN" ctl "$T/api" snapshot "$T/snap" >"$T/ctl.out" 2>&1 ||
    { cat "$T/ctl.out"; fail "the snapshot failed"; }
[ -s "$T/snap" ] || fail "no snapshot file"

start=$(date +%s)
kill -TERM "$PID"
wait_bounded 5 "after SIGTERM"
expect_status 143
[ $(($(date +%s) - start)) -lt 5 ] || fail "SIGTERM took 5 s or more"
grep -qx "kvmrun: stopped by SIGTERM" "$ERR" || fail "no line for SIGTERM"
grep -Eqx "kvmrun: serial: [0-9]+ bytes of the guest's output dropped at exit: the reader took none for 1000 ms" "$ERR" ||
    fail "no line says how many bytes were dropped"

"$TOOL" drain 4 "$T/out"
lines=$("$TOOL" check "$T/out") || fail "the output is not a prefix of the stream"
[ "$lines" -ge 256 ] || fail "only $lines lines reached the pipe"
exit 0
