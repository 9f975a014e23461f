#!/bin/sh
# note_signal_kick.sh: the note's second demo (examples/signal_kick): a
# hlt; jmp $-3 guest stopped by kill -USR1 from another process at random
# moments, with the in-kernel irqchip (HLT sleeps in KVM) and without it
# (every HLT exits to userspace).
. "$(dirname "$0")/../lib.sh"

ROUNDS=${ROUNDS:-15}
for mode in "" --no-irqchip; do
    i=0
    while [ $i -lt "$ROUNDS" ]; do
        i=$((i + 1))
        "$EXAMPLES/signal_kick" $mode >"$OUT" 2>"$ERR" &
        pid=$!
        wait_for_file "$OUT" 20 || fail "signal_kick $mode never got ready"
        sleep_ms "$(random_ms 40)"
        kill -USR1 $pid
        wait $pid
        STATUS=$?
        expect_status 0
        grep -q '^signal_kick: SIGUSR1 received; the vCPU left KVM_RUN' \
            "$OUT" || fail "round $i $mode: no acknowledgement"
        rm -f "$OUT"
    done
done
