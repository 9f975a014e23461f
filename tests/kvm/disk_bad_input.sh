#!/bin/sh
# disk_bad_input.sh: --disk given a missing, unreadable or oddly sized
# image, a directory, an unknown key or a bad value, or an image another
# kvmrun holds: one line naming the file and the reason, status 2, and
# the guest never runs (hello.bin prints nothing).
. "$(dirname "$0")/../lib.sh"

truncate -s 1M "$T/disk.img"
expect_refused "kvmrun: virtio-blk.0: $T/none.img: No such file or directory" \
    --disk "$T/none.img"
expect_refused "kvmrun: virtio-blk.0: $T: is a directory; a disk is a regular file or a block device" \
    --disk "$T"
expect_refused "kvmrun: --disk $T/disk.img,size=2: unknown option 'size=2' (known: ro, serial=ID, cache=none|writeback, engine=io_uring|sync)" \
    --disk "$T/disk.img,size=2"
expect_refused "kvmrun: --disk $T/disk.img,cache=maybe: cache 'maybe': not none or writeback" \
    --disk "$T/disk.img,cache=maybe"
truncate -s 1000 "$T/odd.img"
expect_refused "kvmrun: virtio-blk.1: $T/odd.img: size 1000 bytes is not a multiple of 512 (a sector)" \
    --disk "$T/disk.img" --disk "$T/odd.img"
# The same image twice in one VM: the second open conflicts too.
expect_refused "kvmrun: virtio-blk.1: $T/disk.img: in use by another process (locked)" \
    --disk "$T/disk.img" --disk "$T/disk.img"
if [ "$(id -u)" != 0 ]; then # root reads anything
    truncate -s 1M "$T/secret.img"
    chmod 000 "$T/secret.img"
    expect_refused "kvmrun: virtio-blk.0: $T/secret.img: Permission denied" \
        --disk "$T/secret.img"
fi

# An image another kvmrun holds (its guest waits in hlt): refused, and
# the first one goes on until stopped.
start_kvmrun --disk "$T/disk.img" "$GUESTS/hlt_loop.bin"
first=$PID
expect_refused "kvmrun: virtio-blk.0: $T/disk.img: in use by another process (locked)" \
    --disk "$T/disk.img"
# Read-only users share the image, but not with a writer.
expect_refused "kvmrun: virtio-blk.0: $T/disk.img: in use by another process (locked)" \
    --disk "$T/disk.img,ro"
PID=$first
kill -0 "$PID" || fail "the first kvmrun ended"
stop_kvmrun USR1
expect_status 0
# Once it is gone the image is free.
run_kvmrun_bounded 20 --disk "$T/disk.img" "$GUESTS/hello.bin"
expect_status 0
