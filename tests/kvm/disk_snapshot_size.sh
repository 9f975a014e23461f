#!/bin/sh
# disk_snapshot_size.sh: a VM with a disk and the rng is saved; a restore
# with the same --disk and --rng continues it, but one whose image grew
# or shrank since is refused (one line naming the image and both sizes,
# status 2, the guest never runs), as is one without the devices.
. "$(dirname "$0")/../lib.sh"

truncate -s 1M "$T/disk.img"
start_kvmrun --api "$T/api" --disk "$T/disk.img" --rng "$GUESTS/seq64.bin" \
    --mode long --load 0x100000
"$KVMRUN" ctl "$T/api" snapshot "$T/vm.snap" >"$T/ctl.out" 2>&1 ||
    { kill -KILL "$PID"; cat "$T/ctl.out"; fail "the snapshot failed"; }
stop_kvmrun USR1
expect_status 0
[ -s "$T/vm.snap" ] || fail "no snapshot file"

# The same devices: it runs on (seq64 counts forever) until stopped.
start_kvmrun --restore "$T/vm.snap" --disk "$T/disk.img" --rng
sleep 0.2
stop_kvmrun USR1
expect_status 0

# refused LINE ARGS...: status 2, exactly LINE, no guest output.
refused() {
    want=$1
    shift
    run_kvmrun_bounded 20 --restore "$T/vm.snap" "$@"
    expect_status 2
    expect_stdout ""
    expect_stderr "$want"
}

truncate -s 2M "$T/disk.img"
refused "kvmrun: $T/vm.snap: virtio-blk.0 section: disk $T/disk.img: 2097152 bytes now, 1048576 when the snapshot was taken; restore refused" \
    --disk "$T/disk.img" --rng
truncate -s 512K "$T/disk.img"
refused "kvmrun: $T/vm.snap: virtio-blk.0 section: disk $T/disk.img: 524288 bytes now, 1048576 when the snapshot was taken; restore refused" \
    --disk "$T/disk.img" --rng
truncate -s 1M "$T/disk.img"
refused "kvmrun: $T/vm.snap: a section for device virtio-blk.0, which this machine does not have (restore with the device options the VM was started with)" \
    --rng
