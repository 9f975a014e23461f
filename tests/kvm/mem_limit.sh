#!/bin/sh
# mem_limit.sh: guest memory is at most KVMRUN_MAX_MEM (1 TiB), the most a
# snapshot holds: -m above it is refused naming the limit, and so is a
# library VM; a VM of exactly the limit is snapshotted and restored.
. "$(dirname "$0")/../lib.sh"

run_kvmrun -m 1025G "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: --mem: '1025G' is too large (at most 1T)"
run_kvmrun -m 1073741828K "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: --mem: '1073741828K' is too large (at most 1T)"

"$BUILD/tests/kvm/mem_limit" >"$OUT" 2>"$ERR" || fail "the library took it"

# Exactly 1 TiB: its RAM reaches 1 TiB + 1 GiB, past a host whose KVM has
# 40 address bits (QEMU's qemu64 CPU: the test VM); skip that part there.
S=$T/api
"$KVMRUN" -m 1T --api "$S" "$GUESTS/hlt_loop.bin" >"$OUT" 2>"$ERR" &
PID=$!
n=0
until [ -S "$S" ] || ! kill -0 "$PID" 2>/dev/null; do
    n=$((n + 1))
    [ "$n" -le 1000 ] || { kill -KILL "$PID"; fail "no control socket"; }
    sleep 0.01
done
if ! kill -0 "$PID" 2>/dev/null; then
    wait "$PID"
    STATUS=$?
    grep -q KVM_SET_USER_MEMORY_REGION "$ERR" ||
        fail "kvmrun -m 1T did not start"
    echo "this host's KVM does not take 1 TiB of RAM: $(cat "$ERR")"
    exit 0
fi
"$KVMRUN" ctl "$S" snapshot "$T/big.snap" >"$T/ctl" 2>&1 ||
    { kill -KILL "$PID"; fail "snapshot of 1 TiB: $(cat "$T/ctl")"; }
"$KVMRUN" ctl "$S" stop >/dev/null 2>&1
wait_bounded 20 "kvmrun -m 1T after stop"
expect_status 0

"$KVMRUN" --restore "$T/big.snap" --api "$S" >"$OUT" 2>"$ERR" &
PID=$!
n=0
until [ -S "$S" ] || ! kill -0 "$PID" 2>/dev/null; do
    n=$((n + 1))
    [ "$n" -le 1000 ] || { kill -KILL "$PID"; fail "no control socket"; }
    sleep 0.01
done
"$KVMRUN" ctl "$S" status >"$T/ctl" 2>&1 ||
    fail "the 1 TiB snapshot did not restore: $(cat "$T/ctl")"
grep -q '^memory: 1099511627776 bytes' "$T/ctl" ||
    fail "restored memory size: $(cat "$T/ctl")"
"$KVMRUN" ctl "$S" stop >/dev/null 2>&1
wait_bounded 20 "the restored 1 TiB VM after stop"
expect_status 0
