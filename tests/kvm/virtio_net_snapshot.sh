#!/bin/sh
# virtio_net_snapshot.sh: a guest exchanging ARP with the host's kernel
# through a tap without pause (tests/guests/virtio_net_loop64.c) is saved
# mid-way; restored with the same tap (and another mac=, which the saved
# MAC overrides: the guest checks its device's MAC every round) it goes
# on exchanging, its queues where they were; without --net the restore is
# refused naming the device. In a network namespace of its own.
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
need_iproute2

host_tap kvmrunt0

# wait_round N: waits (bounded) for the guest's "round N" line.
wait_round() {
    n=0
    until grep -qx "virtio-net: round $1" "$OUT"; do
        n=$((n + 1))
        [ "$n" -le 300 ] || { kill -KILL "$PID"; fail "no round $1 in 30 s"; }
        kill -0 "$PID" 2>/dev/null || fail "kvmrun ended before round $1"
        sleep 0.1
    done
}

start_kvmrun --api "$T/api" -k "$GUESTS/virtio_net_loop64.elf" \
    --net tap=kvmrunt0,mac=52:54:00:12:34:56
wait_round 32
"$KVMRUN" ctl "$T/api" snapshot "$T/vm.snap" >"$T/ctl.out" 2>&1 ||
    { kill -KILL "$PID"; cat "$T/ctl.out"; fail "the snapshot failed"; }
stop_kvmrun USR1
expect_status 0
saved=$(grep -c "virtio-net: round" "$OUT")

# The restored guest counts on from where it was saved.
start_kvmrun --restore "$T/vm.snap" --net tap=kvmrunt0,mac=52:54:00:aa:bb:cc
wait_round $(((saved + 4) * 16))
stop_kvmrun USR1
expect_status 0
grep -q "check" "$OUT" && fail "a check failed after the restore"
grep -qx "virtio-net: round 16" "$OUT" &&
    fail "the restored guest started over"

run_kvmrun_bounded 20 --restore "$T/vm.snap"
expect_status 2
expect_stdout ""
expect_stderr "kvmrun: $T/vm.snap: a section for device virtio-net.0, which this machine does not have (restore with the device options the VM was started with)"
