#!/bin/sh
# api_fd_limit.sh: at its descriptor limit kvmrun's control thread does
# not spin on the connections it cannot accept: clients beyond the limit
# get an error reply and are closed, the others are served, and kvmrun
# uses next to no CPU meanwhile (it used a whole CPU: poll reported the
# queued connection again and again).
. "$(dirname "$0")/../lib.sh"

S=$T/vm.sock

# cpu_ticks PID: the process's user + system time, in clock ticks.
cpu_ticks() {
    sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# How many descriptors kvmrun holds once running (with -c 2 and --api,
# below 64), so that the limit leaves room for two more.
start_kvmrun -c 2 --api "$S" "$GUESTS/hlt_loop.bin"
used=0
for fd in /proc/"$PID"/fd/*; do
    [ "${fd##*/}" -lt 64 ] && used=$((used + 1))
done
stop_kvmrun USR1
expect_status 0

limit=$((used + 2))
rm -f "$T/pid"
(ulimit -n "$limit" && exec "$KVMRUN" --pidfile "$T/pid" -c 2 --api "$S" \
    "$GUESTS/hlt_loop.bin") >"$OUT" 2>"$ERR" </dev/null &
PID=$!
wait_for_file "$T/pid" 20 || fail "kvmrun did not start with ulimit -n $limit"

# Eight clients at once: two fit, the others are over the limit. They
# stay connected 4 s while kvmrun's CPU time is read over 2 s.
"$BUILD/tests/kvm/paths_helper" clients "$S" 8 4 >"$T/clients" &
CLIENTS=$!
n=0
until grep -qs '^done$' "$T/clients"; do
    n=$((n + 1))
    [ "$n" -lt 100 ] || fail "the clients got no answer within 10 s"
    sleep 0.1
done
t0=$(cpu_ticks "$PID")
sleep 2
t1=$(cpu_ticks "$PID")
wait "$CLIENTS"
[ $((t1 - t0)) -lt 40 ] ||
    fail "kvmrun used $((t1 - t0)) clock ticks of CPU in 2 s at its fd limit"
grep -Ev '^[0-9] (ok|error 24 kvmrun is out of file descriptors \(Too many open files\): connection refused)$|^done$' \
    "$T/clients" && fail "a client was neither served nor refused"
grep -q ' ok$' "$T/clients" || fail "no client was served: $(cat "$T/clients")"
grep -q ' error 24 ' "$T/clients" || fail "no client reached the limit"

# Below the limit again, kvmrun serves as before.
"$KVMRUN" ctl "$S" status >/dev/null || fail "no service after the limit"
stop_kvmrun USR1
expect_status 0
expect_stderr "kvmrun: stopped by SIGUSR1"
exit 0
