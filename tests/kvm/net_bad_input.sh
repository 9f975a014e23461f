#!/bin/sh
# net_bad_input.sh: --net given a missing tap, a tun (not a tap), a
# non-tun interface, a tap another kvmrun (or another --net) holds, a tap
# owned by another user without CAP_NET_ADMIN, a bad MAC, an unknown key,
# or vhost=on: one line naming the tap or value and
# the reason, status 2, and the guest never runs (hello.bin prints
# nothing). In a network namespace of its own: the host's network is
# never touched.
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
need_iproute2

ip tuntap add dev kvmrunt0 mode tap || fail "ip tuntap add (tap)"
ip tuntap add dev kvmrunt1 mode tun || fail "ip tuntap add (tun)"

expect_refused "kvmrun: virtio-net.0: tap kvmrunt9: no such network interface (make it with ip tuntap add dev kvmrunt9 mode tap)" \
    --net tap=kvmrunt9
expect_refused "kvmrun: virtio-net.0: tap kvmrunt1: not a tap device" \
    --net tap=kvmrunt1
expect_refused "kvmrun: virtio-net.0: tap lo: not a tap device" --net tap=lo
expect_refused "kvmrun: virtio-net.1: tap kvmrunt0: in use by another process or another --net" \
    --net tap=kvmrunt0 --net tap=kvmrunt0
expect_refused "kvmrun: --net tap=kvmrunt0,mac=01:00:5e:00:00:01: mac '01:00:5e:00:00:01': a multicast address (the first byte is odd)" \
    --net tap=kvmrunt0,mac=01:00:5e:00:00:01
expect_refused "kvmrun: --net tap=kvmrunt0,mac=52:54:00:12:34: mac '52:54:00:12:34': not six hex bytes like 52:54:00:12:34:56" \
    --net tap=kvmrunt0,mac=52:54:00:12:34
expect_refused "kvmrun: --net tap=kvmrunt0,mac=00:00:00:00:00:00: mac '00:00:00:00:00:00': all zeros" \
    --net tap=kvmrunt0,mac=00:00:00:00:00:00
expect_refused "kvmrun: --net tap=kvmrunt0,queues=2: unknown option 'queues=2' (known: tap=IFNAME, mac=MAC, vhost=on|off)" \
    --net tap=kvmrunt0,queues=2
expect_refused "kvmrun: --net mac=52:54:00:12:34:56: 'mac=52:54:00:12:34:56': no tap=IFNAME" \
    --net mac=52:54:00:12:34:56
expect_refused "kvmrun: --net tap=kvmrunt0,vhost=maybe: vhost 'maybe': not on or off" \
    --net tap=kvmrunt0,vhost=maybe
expect_refused "kvmrun: --net tap=a-name-too-long-for-linux: tap 'a-name-too-long-for-linux': longer than 15 bytes (an interface name)" \
    --net tap=a-name-too-long-for-linux
# A tap owned by another user, attached without CAP_NET_ADMIN (root with
# it dropped from the bounding set): the kernel says EPERM.
ip tuntap add dev kvmrunt2 mode tap user 65534 || fail "ip tuntap add (owned)"
if command -v setpriv >/dev/null; then
    printf '#!/bin/sh\nexec setpriv --bounding-set=-net_admin "%s" "$@"\n' \
        "$KVMRUN" >"$T/kvmrun-noadmin"
    chmod +x "$T/kvmrun-noadmin"
    saved=$KVMRUN
    KVMRUN=$T/kvmrun-noadmin
    expect_refused "kvmrun: virtio-net.0: tap kvmrunt2: not permitted (the tap's owner or group, or CAP_NET_ADMIN, may attach it)" \
        --net tap=kvmrunt2
    KVMRUN=$saved
fi
if [ ! -e /dev/vhost-net ]; then
    expect_refused "kvmrun: virtio-net.0: tap kvmrunt0: vhost=on: /dev/vhost-net: No such file or directory (load vhost_net, or use vhost=off)" \
        --net tap=kvmrunt0,vhost=on
fi

# A tap another kvmrun holds (its guest waits in hlt): refused, and the
# first one goes on until stopped; then the tap is free.
start_kvmrun --net tap=kvmrunt0 "$GUESTS/hlt_loop.bin"
first=$PID
expect_refused "kvmrun: virtio-net.0: tap kvmrunt0: in use by another process or another --net" \
    --net tap=kvmrunt0
PID=$first
kill -0 "$PID" || fail "the first kvmrun ended"
stop_kvmrun USR1
expect_status 0
run_kvmrun_bounded 20 --net tap=kvmrunt0 "$GUESTS/hello.bin"
expect_status 0
expect_stdout "hello from a raw guest"
