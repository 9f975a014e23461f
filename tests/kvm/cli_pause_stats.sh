#!/bin/sh
# cli_pause_stats.sh: SIGUSR2 pauses every vCPU (with --verbose, each one's
# state is shown), the next SIGUSR2 resumes; --stats reports per-vCPU
# exits by reason, kicks and time paused at exit, and how long each step
# of kvmrun's own start took.
. "$(dirname "$0")/../lib.sh"

start_kvmrun -c 2 --verbose --stats "$GUESTS/hlt_loop.bin"
kill -USR2 $PID
n=0
until grep -q '^kvmrun: vcpu1: paused' "$ERR"; do
    n=$((n + 1)); [ $n -lt 2000 ] || fail "no pause report"; sleep 0.01
done
kill -USR2 $PID
n=0
until grep -q '^kvmrun: resumed$' "$ERR"; do
    n=$((n + 1)); [ $n -lt 2000 ] || fail "no resume"; sleep 0.01
done
stop_kvmrun USR1
expect_status 0
[ "$(sed -n 1p "$ERR")" = "kvmrun: paused (SIGUSR2 again resumes)" ] ||
    fail "no pause line"
grep -q '^kvmrun: vcpu0: paused, rip 0x100[01], [0-9]* exits, [0-9]* kicks acknowledged$' "$ERR" ||
    fail "vcpu0's paused state not shown"
grep -q '^  rip=00000000000010' "$ERR" || fail "no register dump when paused"
grep -q '^kvmrun: stopped by SIGUSR1$' "$ERR" || fail "no stop line"
grep -q '^kvmrun: stats: start: vCPUs running [0-9.]* ms after main() (VM built [0-9.]*, guest loaded [0-9.]*, control socket and seccomp [0-9.]*, vCPU threads [0-9.]*)$' "$ERR" ||
    fail "no start-up stats line"
for v in 0 1; do
    grep -q "^kvmrun: stats: vcpu$v: [0-9]* exits (.*), [0-9]* KVM_RUN -EINTR, kicks 2 sent / 2 acknowledged / [0-9]* re-sent, paused 1 times for [0-9.]* s\$" "$ERR" ||
        fail "no stats line for vcpu$v"
done
