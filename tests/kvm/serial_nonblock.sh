#!/bin/sh
# serial_nonblock.sh: kvmrun's stdout is a pipe with O_NONBLOCK set (a
# shell or a supervisor can leave it so) and its reader is slow: it waits
# until the pipe is full, then takes 1 KiB every 2 ms. Issue 11, item 8:
# the first EAGAIN used to end all output ("cannot write output: Resource
# temporarily unavailable"). Now kvmrun waits for the pipe: every line of
# fifo_lines.S arrives, once and in order.
. "$(dirname "$0")/../lib.sh"
TOOL=$BUILD/tests/kvm/stream_tool

STALL=$T/stall
touch "$STALL"
{ "$TOOL" nonblock "$KVMRUN" "$GUESTS/fifo_lines.bin" 2>"$ERR"
  echo $? >"$T/status"; } | "$TOOL" read -s "$STALL" -b 1024 -i 2 "$T/out" &
PID=$!
n=0
until [ -e "$STALL.full" ]; do
    n=$((n + 1))
    [ "$n" -le 6000 ] || fail "the pipe never filled"
    sleep 0.01
done
rm -f "$STALL" "$STALL.full"
wait_bounded 60 "the stream"
[ "$(cat "$T/status")" = 0 ] || fail "kvmrun's status is $(cat "$T/status"), not 0"
expect_stderr ""
"$TOOL" check "$T/out" 8000 >/dev/null || fail "the output is not the whole stream"
exit 0
