#!/bin/sh
# serial_backpressure.sh: the guest (fifo_lines.S: 8,000 lines of 16
# bytes, each written as one FIFO load once LSR says THRE) streams into a
# reader that stalls and resumes three times. While the reader stalls
# kvmrun's output buffer fills and the UART's transmitter stays busy (LSR
# THRE clear, as --verbose's pause report shows); the guest waits, and
# SIGUSR2 still pauses and resumes it at once (issue 11, item 2: the vCPU
# used to block in write() until the reader came back). In the end every
# line arrives once, in order, and nothing was dropped.
. "$(dirname "$0")/../lib.sh"
TOOL=$BUILD/tests/kvm/stream_tool
STALL=$T/stall

touch "$STALL"
{ "$KVMRUN" -v --pidfile "$T/pid" "$GUESTS/fifo_lines.bin" 2>"$ERR"
  echo $? >"$T/status"; } | "$TOOL" read -s "$STALL" "$T/out" &
READER=$!
wait_for_file "$T/pid" 20 || fail "kvmrun never started the guest"
PID=$(cat "$T/pid")

# stalled: waits until the reader finds its pipe full, or kvmrun ended.
stalled() {
    n=0
    until [ -e "$STALL.full" ] || [ -e "$T/status" ]; do
        n=$((n + 1))
        [ "$n" -le 6000 ] || { kill -KILL "$PID"; fail "the pipe never filled"; }
        sleep 0.01
    done
}

# pause_resume N: SIGUSR2 twice; the Nth pause report and resume line
# come within 3 s each. UART is the UART's line of that pause report.
pause_resume() {
    kill -USR2 "$PID"
    n=0
    until [ "$(grep -c '^kvmrun: serial: ' "$ERR")" -ge "$1" ]; do
        n=$((n + 1))
        [ "$n" -le 300 ] || { kill -KILL "$PID"; fail "SIGUSR2 did not pause the VM within 3 s"; }
        sleep 0.01
    done
    kill -USR2 "$PID"
    n=0
    until [ "$(grep -c '^kvmrun: resumed$' "$ERR")" -ge "$1" ]; do
        n=$((n + 1))
        [ "$n" -le 300 ] || { kill -KILL "$PID"; fail "SIGUSR2 did not resume the VM within 3 s"; }
        sleep 0.01
    done
    UART=$(grep '^kvmrun: serial: ' "$ERR" | sed -n "$1p")
}

# Stall 1: until the buffer is full and the transmitter busy (20 s at
# most), pausing and resuming every half second meanwhile.
stalled
pauses=0
while :; do
    pauses=$((pauses + 1))
    pause_resume "$pauses"
    case $UART in *" bytes of output not yet written, transmitter busy") break ;; esac
    [ "$pauses" -lt 40 ] || fail "the transmitter never got busy: $UART"
    sleep 0.5
done
# Stalls 2 and 3: until the pipe is full, a moment more, then on.
for round in 2 3; do
    rm -f "$STALL" "$STALL.full"
    sleep_ms 200
    touch "$STALL"
    stalled
    sleep_ms 300
done
rm -f "$STALL" "$STALL.full"
PID=$READER
wait_bounded 60 "the stream"
[ "$(cat "$T/status")" = 0 ] || fail "kvmrun's status is $(cat "$T/status"), not 0"
"$TOOL" check "$T/out" 8000 >/dev/null || fail "the output is not the whole stream"
grep -q dropped "$ERR" && fail "bytes were dropped"
exit 0
