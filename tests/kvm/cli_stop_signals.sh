#!/bin/sh
# cli_stop_signals.sh: SIGTERM, SIGINT and SIGHUP stop the VM cleanly with
# status 128 + signal number and one line naming the signal.
. "$(dirname "$0")/../lib.sh"

for sig in TERM:143 INT:130 HUP:129; do
    name=${sig%:*}
    want=${sig#*:}
    start_kvmrun "$GUESTS/hlt_loop.bin"
    sleep_ms "$(random_ms 20)"
    stop_kvmrun "$name"
    expect_status "$want"
    expect_stderr "kvmrun: stopped by SIG$name"
done
