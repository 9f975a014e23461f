#!/bin/sh
# virtio_blk_hostile.sh: a freestanding guest (tests/guests/virtio_blk64.c)
# drives the virtio-blk disk's registers by hand: a sector written and
# flushed reaches the image, one the host wrote reads back in the guest;
# a notify before setup, a looping chain, buffers outside RAM, a
# zero-length and a huge buffer and a descriptor table outside RAM each
# put the device in DEVICE_NEEDS_RESET with one report line, kvmrun
# stays up, and the disk works again after a reset. Both engines.
. "$(dirname "$0")/../lib.sh"

for engine in io_uring sync; do
    img=$T/disk-$engine.img
    # Sector 0: the host's pattern for the guest to read; the rest zeros.
    awk 'BEGIN { for (i = 0; i < 32; i++) printf "host sector 0 .." }' >"$img"
    truncate -s 1M "$img"
    run_kvmrun_bounded 30 -k "$GUESTS/virtio_blk64.elf" \
        --disk "$img,engine=$engine,serial=hostile"
    expect_status 0
    expect_stdout "virtio-blk: looping chain: needs reset
virtio-blk: buffer outside RAM: needs reset
virtio-blk: zero-length buffer: needs reset
virtio-blk: huge length: needs reset
virtio-blk: descriptor table outside RAM: needs reset
virtio-blk: ok"
    # One line for each, in order; the engine fell back to nothing.
    expect_stderr "kvmrun: vda: notify of queue 0, which is not ready: ignored
kvmrun: vda: needs reset: queue 0: descriptor 0: chain longer than its table (a loop)
kvmrun: vda: needs reset: queue 0: descriptor 0: buffer not in guest RAM
kvmrun: vda: needs reset: queue 0: descriptor 0: zero-length buffer
kvmrun: vda: needs reset: queue 0: descriptor 0: buffer not in guest RAM
kvmrun: vda: needs reset: queue 0: descriptor table at 0xf0000000 (128 bytes) is not in guest RAM"
    # The guest's sector 1, twice written (before and after the hostile
    # chains), is in the image.
    want=$(awk 'BEGIN { for (i = 0; i < 32; i++) printf "kvmrun sector 1 " }')
    got=$(dd if="$img" bs=512 skip=1 count=1 2>/dev/null)
    [ "$got" = "$want" ] || fail "$engine: sector 1 of the image is not the guest's"
    [ "$(stat -c %s "$img")" = 1048576 ] || fail "$engine: the image changed size"
done
