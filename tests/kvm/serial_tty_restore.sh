#!/bin/sh
# serial_tty_restore.sh: kvmrun on a terminal (a pty from script(1)) puts
# it in raw mode; its output goes to a pipe nobody reads. The terminal's
# settings (stty -g) after kvmrun are those before it, whichever way it
# ends: SIGTERM (status 143; issue 11, item 2: the vCPU sat in write(),
# the stop timed out and kvmrun left through _exit() with the terminal
# raw, status 6) and SIGALRM, which kills it (status 142; not SIGQUIT:
# a background job of sh starts with it ignored).
. "$(dirname "$0")/../lib.sh"
TOOL=$BUILD/tests/kvm/stream_tool

command -v script >/dev/null 2>&1 || { echo "no script(1) here"; exit 77; }
mkfifo "$T/out.fifo"
exec 4<>"$T/out.fifo" # the reader, reading nothing while kvmrun runs
"$TOOL" shrink 4 || fail "cannot shrink the pipe"
for sig in TERM:143 ALRM:142; do
    name=${sig%:*}
    want=${sig#*:}
    rm -f "$T/pid" "$T/before" "$T/after" "$T/status"
    script -qec "stty -g >'$T/before';
        '$KVMRUN' --pidfile '$T/pid' '$GUESTS/fifo_stream.bin' \
            >'$T/out.fifo' 2>'$ERR'; echo \$? >'$T/status';
        stty -g >'$T/after'" /dev/null </dev/null >"$OUT" 2>&1 &
    SCRIPT=$!
    wait_for_file "$T/pid" 20 || fail "kvmrun never started the guest"
    PID=$(cat "$T/pid")
    "$TOOL" full 4 60 || fail "the pipe never filled"
    [ "$(stty -g <"/proc/$PID/fd/0")" != "$(cat "$T/before")" ] ||
        fail "kvmrun did not put the terminal in raw mode"
    kill -s "$name" "$PID"
    PID=$SCRIPT
    wait_bounded 15 "script(1) after SIG$name"
    [ "$(cat "$T/status")" = "$want" ] ||
        fail "SIG$name: kvmrun's status is $(cat "$T/status"), not $want"
    [ -s "$T/before" ] && [ -s "$T/after" ] || fail "no stty -g output"
    cmp -s "$T/before" "$T/after" ||
        fail "SIG$name: the terminal was $(cat "$T/before"), is $(cat "$T/after")"
    grep -q seccomp "$ERR" && fail "SIG$name: a system call was blocked"
    "$TOOL" drain 4 "$T/out"
done
exit 0
