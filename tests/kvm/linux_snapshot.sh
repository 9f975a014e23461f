#!/bin/sh
# linux_snapshot.sh: a Linux guest saved through the control socket while
# its shell waits at the serial console, then stopped; restored from the
# file by a new kvmrun (kvmrun --restore), its shell runs a command typed
# there (a sleep first), prints the result and powers off (status 0):
# registers, memory, kvmclock, the irqchip, the LAPIC timer and the UART
# all came back.
. "$(dirname "$0")/../lib.sh"
linux_setup

mkfifo "$T/in1" "$T/in2"
"$KVMRUN" -v --api "$T/api" -m 256M -k "$LINUX_K" -i "$LINUX_I" \
    -a "console=ttyS0 quiet panic=-1 kvmrun.action=shell" \
    <"$T/in1" >"$OUT" 2>"$ERR" &
PID=$!
exec 3>"$T/in1" # kvmrun's console stays open, and quiet
i=0
until grep -qF '(kvmrun demo) # ' "$OUT"; do
    i=$((i + 1))
    [ "$i" -le 2400 ] || { kill -KILL "$PID"; fail "no prompt in 240 s"; }
    kill -0 "$PID" 2>/dev/null || fail "kvmrun ended before the prompt"
    sleep 0.1
done
# kvmrun ctl gives up on a reply after 120 s; the wait below is bounded too.
"$KVMRUN" ctl "$T/api" snapshot "$T/linux.snap" >"$T/ctl.out" 2>&1 ||
    { kill -KILL "$PID"; cat "$T/ctl.out"; fail "the snapshot failed"; }
"$KVMRUN" ctl "$T/api" stop >"$T/ctl.out" 2>&1 ||
    { kill -KILL "$PID"; cat "$T/ctl.out"; fail "ctl stop failed"; }
wait_bounded 30 "after ctl stop"
exec 3>&-
expect_status 0
[ -s "$T/linux.snap" ] || fail "no snapshot file"

# The restored guest is still at its shell prompt: type a command now.
"$KVMRUN" -v --restore "$T/linux.snap" <"$T/in2" >"$OUT" 2>"$ERR" &
PID=$!
exec 3>"$T/in2"
sleep 1
# sleep: the restored guest's timer fires (the TSC deadline is set again
# after the LAPIC).
echo 'sleep 1; echo "restored: $((6 * 7))"; poweroff -f' >&3
wait_bounded 120 "the restored guest"
exec 3>&-
tr -d '\r' <"$OUT" >"$T/out2" && mv "$T/out2" "$OUT"
grep -qx "restored: 42" "$OUT" ||
    fail "the restored guest's shell did not run the command"
expect_status 0
