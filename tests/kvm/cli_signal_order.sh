#!/bin/sh
# cli_signal_order.sh: control signals that arrive together (sent while
# kvmrun is stopped, so its main thread reads them in one go) are acted on
# in the documented order, not by signal number: SIGTERM, then SIGINT,
# SIGHUP, SIGUSR1; any of them over SIGUSR2, which is then dropped (the
# VM is not paused on its way out). The exit status does not depend on
# which signal has the lower number.
. "$(dirname "$0")/../lib.sh"

trap 'kill -KILL "$PID" 2>/dev/null; rm -rf "$T"' EXIT

# together WANT_STATUS WANT_NAME SIGNAL...: sends the signals to a
# stopped kvmrun, continues it and checks which one ended it.
together() {
    want=$1 name=$2
    shift 2
    start_kvmrun "$GUESTS/hlt_loop.bin"
    kill -STOP "$PID"
    n=0
    until grep -q '^State:[[:space:]]*T' "/proc/$PID/status"; do
        n=$((n + 1))
        [ "$n" -le 500 ] || fail "kvmrun never stopped on SIGSTOP"
        sleep 0.01
    done
    for sig; do
        kill -s "$sig" "$PID"
    done
    kill -CONT "$PID"
    wait_bounded 10 "after SIG$*"
    [ "$STATUS" = "$want" ] || fail "SIG$* together: status $STATUS, not $want"
    expect_stderr "kvmrun: stopped by SIG$name"
}

together 143 TERM HUP TERM
together 143 TERM USR1 TERM
together 143 TERM INT TERM
together 130 INT HUP INT
together 130 INT USR1 INT
together 129 HUP USR1 HUP
together 143 TERM HUP INT USR1 TERM
together 143 TERM USR2 TERM
together 0 USR1 USR2 USR1
