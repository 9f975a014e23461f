#!/bin/sh
# cli_pause_storm.sh: a SIGUSR2 storm (the main thread toggles pause and
# resume) against socket pauses and resumes from two clients at once (the
# control thread), on a busy two-vCPU guest: kvmrun never exits, every
# request succeeds (none times out: pause and resume are idempotent, and
# one superseded by a later request is answered at once), each SIGUSR2
# read gets one line saying what it did, and after the storm `ctl status`
# agrees with the last request.
. "$(dirname "$0")/../lib.sh"

S=$T/vm.sock
REQUESTS=100
[ "${KVMRUN_SANDBOX:-0}" = 1 ] && REQUESTS=30
trap 'kill -KILL "$PID" 2>/dev/null; rm -rf "$T"' EXIT

# client N: REQUESTS random pauses and resumes; failures go to $T/bad.
client() {
    c=0
    while [ "$c" -lt "$REQUESTS" ]; do
        op=resume
        [ "$(random_ms 2)" = 0 ] && op=pause
        "$KVMRUN" ctl --json "$S" "$op" >"$T/reply.$1" 2>&1 ||
            echo "client $1: $op: $(cat "$T/reply.$1")" >>"$T/bad"
        grep -q '"superseded":true' "$T/reply.$1" && echo >>"$T/superseded"
        c=$((c + 1))
    done
    : >"$T/done.$1"
}

# True while a SIGUSR2 sent to kvmrun waits to be read: bit 11 of the
# process's pending mask (16 hex digits, bits 8-11 in the 14th).
usr2_pending() {
    case $(sed -n 's/^ShdPnd:[[:space:]]*//p' "/proc/$PID/status" | cut -c14) in
    [89a-f]) return 0 ;;
    esac
    return 1
}

# What kvmrun says for each SIGUSR2 it reads.
USR2_LINE='^kvmrun: (paused \(SIGUSR2 again resumes\)|resumed|pause superseded by a later resume|resume superseded by a later pause)$'

start_kvmrun -c 2 --api "$S" "$GUESTS/counters.bin"
client 1 &
C1=$!
client 2 &
C2=$!
# SIGUSR2 as fast as kvmrun reads them (more merge into one pending).
i=0
until [ -e "$T/done.1" ] && [ -e "$T/done.2" ]; do
    kill -USR2 "$PID" 2>/dev/null || break
    i=$((i + 1))
    [ $((i % 8)) = 0 ] && sleep 0.001
done
wait "$C1" "$C2"
# Running, not a zombie: kvmrun may have exited before anyone waited.
alive() {
    grep -qs '^State:[[:space:]]*[RSD]' "/proc/$PID/status"
}
alive || { wait "$PID"; STATUS=$?; fail "kvmrun exited (status $STATUS) during the storm"; }
[ ! -s "$T/bad" ] || fail "requests failed: $(head -n 5 "$T/bad")"
# Quiet: the last SIGUSR2 was read and acted on once none is pending and
# the main thread sleeps in poll() again.
n=0
while alive && { usr2_pending || ! grep -qs poll "/proc/$PID/task/$PID/wchan"; }; do
    n=$((n + 1))
    [ "$n" -le 1000 ] || fail "kvmrun never went back to its poll() after the storm"
    sleep 0.01
done
alive || { wait "$PID"; STATUS=$?; fail "kvmrun exited (status $STATUS) after the storm"; }
grep -vqE "$USR2_LINE" "$ERR" && fail "stderr has lines other than SIGUSR2's"
echo "$i SIGUSR2 sent, $(grep -cE "$USR2_LINE" "$ERR") read" \
    "($(grep -c superseded "$ERR") superseded);" \
    "$(cat "$T/superseded" 2>/dev/null | wc -l) of $((2 * REQUESTS))" \
    "requests superseded"

# The storm is over: the last request decides, each way.
for op in pause resume pause; do
    "$KVMRUN" ctl "$S" "$op" >"$T/ctl.out" 2>&1 || fail "final $op: $(cat "$T/ctl.out")"
    state=running
    [ "$op" = pause ] && state=paused
    "$KVMRUN" ctl "$S" status >"$T/ctl.out" 2>&1 || fail "ctl status failed"
    grep -qx "state: $state" "$T/ctl.out" && grep -qx "vcpus: 2 ($state, $state)" "$T/ctl.out" ||
        fail "after a final $op: $(cat "$T/ctl.out")"
done
stop_kvmrun USR1
expect_status 0
