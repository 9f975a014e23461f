#!/bin/sh
# cli_sigusr1.sh: kvmrun running the note's guest stops on SIGUSR1 sent by
# another process at random moments: one line, status 0, every time.
. "$(dirname "$0")/../lib.sh"

ROUNDS=${ROUNDS:-15}
for mode in "" --no-irqchip; do
    i=0
    while [ $i -lt "$ROUNDS" ]; do
        i=$((i + 1))
        rm -f "$T/pid"
        "$KVMRUN" $mode --pidfile "$T/pid" "$GUESTS/hlt_loop.bin" \
            >"$OUT" 2>"$ERR" &
        pid=$!
        wait_for_file "$T/pid" 20 || fail "no pidfile ($mode)"
        [ "$(cat "$T/pid")" = "$pid" ] || fail "pidfile holds the wrong pid"
        sleep_ms "$(random_ms 40)"
        kill -USR1 $pid
        wait $pid
        STATUS=$?
        expect_status 0
        expect_stderr "kvmrun: stopped by SIGUSR1"
        [ ! -e "$T/pid" ] || fail "pidfile left behind"
    done
done
