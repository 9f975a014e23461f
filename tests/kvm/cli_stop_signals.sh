#!/bin/sh
# cli_stop_signals.sh: SIGTERM, SIGINT and SIGHUP stop the VM cleanly with
# status 128 + signal number and one line naming the signal.
. "$(dirname "$0")/../lib.sh"

for sig in TERM:143 INT:130 HUP:129; do
    name=${sig%:*}
    want=${sig#*:}
    rm -f "$T/pid"
    "$KVMRUN" --pidfile "$T/pid" "$GUESTS/hlt_loop.bin" >"$OUT" 2>"$ERR" &
    pid=$!
    wait_for_file "$T/pid" 20 || fail "no pidfile"
    sleep_ms "$(random_ms 20)"
    kill -s "$name" $pid
    wait $pid
    STATUS=$?
    expect_status "$want"
    expect_stderr "kvmrun: stopped by SIG$name"
done
