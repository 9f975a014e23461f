#!/bin/sh
# linux_net_bridge.sh: two kvmrun VMs, each on its own tap, the taps on
# one bridge: they reach each other. Guest A (10.0.3.11, vhost=off) and
# guest B (10.0.3.12, vhost=on where /dev/vhost-net exists) ping each
# other, then A sends B 4 MiB over TCP (busybox nc) and B's md5 of what
# arrived equals A's of what it sent. The bridge has no address and no
# uplink, in a network namespace of the test's own: nothing leaves it.
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
linux_setup
net_setup

for t in kvmrunb0 kvmrunb1; do
    ip tuntap add dev $t mode tap 2>/dev/null ||
        busybox tunctl -t $t >/dev/null || fail "cannot make the tap $t"
done
if ! ip link add kvmrunbr type bridge 2>/dev/null; then
    busybox brctl addbr kvmrunbr || fail "cannot make the bridge kvmrunbr"
fi
for t in kvmrunb0 kvmrunb1; do
    ip link set $t master kvmrunbr 2>/dev/null ||
        busybox brctl addif kvmrunbr $t || fail "cannot put $t on kvmrunbr"
    ip link set $t up || fail "ip link set $t up"
done
ip link set kvmrunbr up || fail "ip link set kvmrunbr up"

# One script for both guests; the kernel command line says which.
cat >"$T/test.sh" <<'TEST'
fail() { echo "NET-FAIL $*"; exit 1; }
for w in $(cat /proc/cmdline); do
    case $w in
    net.role=*) role=${w#net.role=} ;;
    net.ip=*) ip=${w#net.ip=} ;;
    net.peer=*) peer=${w#net.peer=} ;;
    esac
done
mkdir -p /tmp
ifconfig eth0 "$ip" netmask 255.255.255.0 up || fail "ifconfig eth0"
# The other guest may still be booting: one ping at a time, bounded.
n=0
until ping -c 1 -w 2 "$peer" >/dev/null; do
    n=$((n + 1)); [ $n -le 150 ] || fail "ping $peer"
done
echo "NET-PEER-OK $peer"
if [ "$role" = b ]; then
    mkfifo /tmp/hold
    nc -l -p 5000 </tmp/hold >/tmp/in &
    listener=$!
    exec 3>/tmp/hold
    echo "NET-LISTENING"
    wait $listener || fail "nc -l"
    echo "NET-RECEIVED $(md5sum </tmp/in | cut -d' ' -f1) $(wc -c </tmp/in)"
else
    dd if=/dev/urandom of=/tmp/out bs=1M count=4 2>/dev/null
    echo "NET-SENDING $(md5sum </tmp/out | cut -d' ' -f1)"
    # B listens once its own ping got through: retry, bounded.
    n=0
    until nc "$peer" 5000 </tmp/out; do
        n=$((n + 1)); [ $n -le 60 ] || fail "nc $peer 5000"; sleep 1
    done
    echo "NET-SENT"
fi
sleep 600
TEST
"$ROOT/tests/linux/addfiles" "$LINUX_I" "$T/initrd" "$T/test.sh:test.sh"

vhost_b=off
[ -c /dev/vhost-net ] && vhost_b=on
# start_vm NAME TAP IP PEER MAC VHOST: a guest in the background, its
# console in $T/NAME.out.
start_vm() {
    : >"$T/$1.out"
    "$KVMRUN" -m 256M -k "$LINUX_K" -i "$T/initrd" \
        -a "console=ttyS0 quiet panic=-1 net.role=$1 net.ip=$3 net.peer=$4" \
        --net "tap=$2,mac=$5,vhost=$6" </dev/null >"$T/$1.out" \
        2>"$T/$1.err" &
}
start_vm a kvmrunb0 10.0.3.11 10.0.3.12 52:54:00:00:03:11 off
PID_A=$!
start_vm b kvmrunb1 10.0.3.12 10.0.3.11 52:54:00:00:03:12 $vhost_b
PID_B=$!

# wait_for NAME WHAT: waits until guest NAME's console has a line with
# WHAT, bounded; a failure line of either guest or an early end fails.
wait_for() {
    wf_n=0
    until grep -q "$2" "$T/$1.out"; do
        wf_n=$((wf_n + 1))
        if [ "$wf_n" -gt "$((${LINUX_TIMEOUT:-300} * 10))" ] ||
            grep -q "NET-FAIL\|KVMRUN-TEST-STATUS" "$T/a.out" "$T/b.out" ||
            ! kill -0 "$PID_A" "$PID_B" 2>/dev/null; then
            kill -KILL "$PID_A" "$PID_B" 2>/dev/null
            cp "$T/a.out" "$OUT"
            cat "$T/a.err" "$T/b.out" "$T/b.err" >"$ERR"
            fail "no $2 from guest $1 (A's console as stdout; B's and the errors as stderr)"
        fi
        sleep 0.1
    done
}
wait_for a "NET-PEER-OK 10.0.3.12"
wait_for b "NET-PEER-OK 10.0.3.11"
wait_for a "NET-SENT"
wait_for b "NET-RECEIVED"
kill -KILL "$PID_A" "$PID_B"
wait "$PID_A"
wait "$PID_B"
sent=$(tr -d '\r' <"$T/a.out" | sed -n 's/^NET-SENDING //p')
got=$(tr -d '\r' <"$T/b.out" | sed -n 's/^NET-RECEIVED //p')
[ -n "$sent" ] && [ "$got" = "$sent 4194304" ] ||
    fail "A sent $sent, B received $got"
for v in a b; do
    [ -z "$(grep -v "^kvmrun: virtio-net.0: rx" "$T/$v.err")" ] ||
        { cat "$T/$v.err" >"$ERR"; fail "guest $v's kvmrun reported errors"; }
done
