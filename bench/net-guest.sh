#!/bin/sh
# bench/net-guest.sh: bench/net's /test.sh in the guest (the init of
# tests/linux/mkinitramfs runs it once the virtio modules are loaded).
# Mounts the tools disk (Debian's iperf3 and its libraries, read-only) at
# /tools, brings eth0 up as 10.0.2.15/24, starts iperf3's server and
# says "NET-READY" once it listens; the host then pings the guest and
# runs iperf3's client against it, and ends the VM. Nothing goes to the
# console meanwhile: every byte through the UART is an exit.
fail() { echo "NET-FAIL $*"; exit 1; }
mkdir -p /tools /tmp
for d in /sys/block/vd*; do
    [ -e "$d" ] || continue
    mount -t ext4 -o ro "/dev/${d##*/}" /tools 2>/dev/null && break
done
[ -x /tools/run ] || fail "no tools disk ($(ls /sys/block))"
ifconfig lo 127.0.0.1 up
ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up || fail "ifconfig eth0"
# iperf3's pages come from the tools disk now, not during the first run.
/tools/run iperf3 --version >/dev/null || fail "iperf3 does not run"
cat /tools/bin/iperf3 /tools/lib/* >/dev/null
# iperf3 makes its buffers' files in /tmp (the initramfs: RAM).
cd /tmp || fail "no /tmp"
/tools/run iperf3 -s >/tmp/iperf3.log 2>&1 &
server=$!
# Listening on port 5201 (0x1451, state 0A), IPv4 or IPv6.
n=0
until cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    grep -q ":1451 0*:0000 0A"; do
    n=$((n + 1))
    [ "$n" -le 300 ] || fail "iperf3 -s does not listen: $(cat /tmp/iperf3.log)"
    kill -0 "$server" 2>/dev/null ||
        fail "iperf3 -s ended: $(cat /tmp/iperf3.log)"
    sleep 0.1
done
echo "NET-READY"
wait "$server"
fail "iperf3 -s ended: $(tail -n 5 /tmp/iperf3.log)"
