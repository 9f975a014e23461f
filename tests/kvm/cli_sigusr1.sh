#!/bin/sh
# cli_sigusr1.sh: kvmrun running the note's guest stops on SIGUSR1 sent by
# another process at random moments: one line, status 0, every time.
. "$(dirname "$0")/../lib.sh"

ROUNDS=${ROUNDS:-15}
for mode in "" --no-irqchip; do
    i=0
    while [ $i -lt "$ROUNDS" ]; do
        i=$((i + 1))
        start_kvmrun $mode "$GUESTS/hlt_loop.bin"
        sleep_ms "$(random_ms 40)"
        stop_kvmrun USR1
        expect_status 0
        expect_stderr "kvmrun: stopped by SIGUSR1"
        [ ! -e "$T/pid" ] || fail "pidfile left behind"
    done
done
