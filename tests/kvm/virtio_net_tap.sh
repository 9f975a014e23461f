#!/bin/sh
# virtio_net_tap.sh: a freestanding guest (tests/guests/virtio_net64.c)
# drives a virtio-net device on a tap by hand: its ARP request for
# 10.0.2.1 reaches the host's kernel through the tap and the reply comes
# back into its receive buffers (one without MRG_RXBUF; spread over
# several 32-byte buffers with it, num_buffers set); hostile transmits
# (hdr_len past the frame, a GSO type not offered, NEEDS_CSUM without
# CSUM, a 70000-byte frame, a chain shorter than the header) are each
# dropped, counted and reported, kvmrun stays up and the device still
# works. In a network namespace of its own: the frames never leave it.
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
need_iproute2

host_tap kvmrunt0

# A hang shows what the tap saw (the guest's frames and the replies).
WB_HANG='grep kvmrunt0 /proc/net/dev; ip -s link show kvmrunt0'
run_kvmrun_bounded 60 -k "$GUESTS/virtio_net64.elf" \
    --net tap=kvmrunt0,mac=52:54:00:12:34:56
expect_status 0
expect_stdout "virtio-net: mac 52:54:0:12:34:56
virtio-net: arp reply from 10.0.2.1
virtio-net: hdr_len past the frame: dropped
virtio-net: UDP GSO: dropped
virtio-net: NEEDS_CSUM without CSUM: dropped
virtio-net: a frame of 70000 bytes: dropped
virtio-net: a chain shorter than the header: dropped
virtio-net: arp reply after the hostile frames
virtio-net: arp reply in 2 buffers of 32 bytes
virtio-net: ok"
expect_stderr "kvmrun: virtio-net.0: tx: frame dropped (1 so far): hdr_len past the frame
kvmrun: virtio-net.0: tx: frame dropped (2 so far): GSO type not offered
kvmrun: virtio-net.0: tx: frame dropped (3 so far): NEEDS_CSUM without CSUM negotiated
kvmrun: virtio-net.0: tx: frame dropped (4 so far): longer than 64 KiB
kvmrun: virtio-net.0: tx: frame dropped (5 so far): shorter than the virtio-net header"
