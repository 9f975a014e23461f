#!/bin/sh
# vsock_bad_input.sh: --vsock with a CID below 3 or above 2^32 - 2, not a
# number, another key, or given twice, and (where the host has no
# vhost-vsock) a missing /dev/vhost-vsock: one line, status 2, the guest
# never runs. (A CID in use: tests/kvm/linux_virtio_vsock.sh.)
. "$(dirname "$0")/../lib.sh"

for cid in 0 1 2 4294967295 99999999999; do
    expect_refused "kvmrun: --vsock: cid $cid: a guest's is 3 to 4294967294 (0-2 are the hypervisor's, the local and the host's)" \
        --vsock cid=$cid
done
expect_refused "kvmrun: --vsock: 'x3': not a number" --vsock cid=x3
expect_refused "kvmrun: --vsock: '-5': not a number" --vsock cid=-5
expect_refused "kvmrun: --vsock: 'port=3': not cid=N" --vsock port=3
expect_refused "kvmrun: --vsock: given twice (one vsock device)" \
    --vsock cid=3 --vsock cid=4
if [ ! -e /dev/vhost-vsock ]; then
    expect_refused "kvmrun: virtio-vsock.0: vsock: /dev/vhost-vsock: No such file or directory (load vhost_vsock)" \
        --vsock cid=3
fi
