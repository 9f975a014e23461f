#!/bin/sh
# linux_control.sh: the vCPU controls during a Linux boot. A 2-vCPU guest
# paused (SIGUSR2) at a random point of its boot for 25 s, longer than the
# kernel's soft-lockup (20 s) and RCU-stall (21 s) thresholds, then
# resumed: it reaches userspace, echoes the typed line and powers off, and
# no lockup or stall is reported (KVM_KVMCLOCK_CTRL told it it was
# paused). Then stops during boots or at the shell: SIGUSR1 (status 0),
# SIGTERM (143).
. "$(dirname "$0")/../lib.sh"
linux_setup

linux_start "$OUT" 2
sleep_ms $((300 + $(random_ms 2500)))
kill -USR2 "$PID"
sleep 25
grep -q "KVMRUN-LINUX-UP" "$OUT" && echo "note: the pause came after the boot"
kill -USR2 "$PID"
linux_wait
grep -q "kvmrun: paused" "$ERR" || fail "kvmrun did not report the pause"
grep -q "kvmrun: resumed" "$ERR" || fail "kvmrun did not report the resume"
grep -qx "cpus: 2" "$OUT" || fail "no 'cpus: 2' line after the resume"
grep -qx "echo: typed at the console" "$OUT" ||
    fail "the typed line did not come back after the resume"
if grep -Eqi "soft lockup|rcu.*stall|hung task|watchdog" "$OUT"; then
    fail "the guest reported a lockup or stall after the pause"
fi
expect_status 0

# kvmrun.action=shell: the guest ends only when kvmrun is stopped (its
# shell reads a console the typer holds open), so the signal cannot come
# after a power-off however fast the boot.
for sig in USR1 TERM; do
    linux_start "$OUT" 1 kvmrun.action=shell
    sleep_ms $((200 + $(random_ms 3000)))
    kill -"$sig" "$PID"
    linux_wait
    grep -q "kvmrun: stopped by SIG$sig" "$ERR" ||
        fail "no 'stopped by SIG$sig' line"
    [ "$sig" = USR1 ] && expect_status 0
    [ "$sig" = TERM ] && expect_status 143
done
exit 0
