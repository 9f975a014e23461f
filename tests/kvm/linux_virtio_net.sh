#!/bin/sh
# linux_virtio_net.sh: Debian's kernel with its virtio_net driver on a
# --net tap device, with 1 and 2 vCPUs, without and with vhost-net
# (vhost=on: where /dev/vhost-net exists; the test VM loads vhost_net): the guest (10.0.2.15) and the
# host's side of the tap (10.0.2.1) ping each other, then a TCP transfer
# each way (busybox nc; NET_MB MiB, 16 by default) arrives with the
# sender's md5. In a network namespace of its own inside the test VM
# (which has no network device): nothing leaves it. nc, ping and tunctl
# are busybox's (this host may have none).
. "$(dirname "$0")/../netns.sh"
. "$(dirname "$0")/../lib.sh"
linux_setup
net_setup
MB=${NET_MB:-16}

if ! ip tuntap add dev kvmrunt0 mode tap 2>/dev/null; then
    busybox tunctl -t kvmrunt0 >/dev/null || fail "cannot make the tap kvmrunt0"
fi
ifconfig kvmrunt0 10.0.2.1 netmask 255.255.255.0 up || fail "ifconfig kvmrunt0"
dd if=/dev/urandom of="$T/h2g" bs=1M count="$MB" 2>/dev/null
h2g=$(md5sum <"$T/h2g" | cut -d' ' -f1)

cat >"$T/test.sh" <<TEST
fail() { echo "NET-FAIL \$*"; exit 1; }
mkdir -p /tmp
ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up || fail "ifconfig eth0"
ping -c 3 -w 60 10.0.2.1 >/dev/null || fail "ping 10.0.2.1"
echo "NET-PING-OK"
# nc's stdin: a fifo held open and never written, so that it half-closes
# only when the sender does (at EOF of /dev/null it would at once).
mkfifo /tmp/hold
nc -l -p 5000 </tmp/hold >/tmp/h2g &
listener=\$!
exec 3>/tmp/hold
echo "NET-READY"
wait \$listener || fail "nc -l"
exec 3>&-
echo "NET-H2G \$(md5sum </tmp/h2g | cut -d' ' -f1) \$(wc -c </tmp/h2g)"
rm -f /tmp/h2g
dd if=/dev/urandom of=/tmp/g2h bs=1M count=$MB 2>/dev/null
echo "NET-G2H-MD5 \$(md5sum </tmp/g2h | cut -d' ' -f1)"
nc 10.0.2.1 5001 </tmp/g2h || fail "nc 10.0.2.1 5001"
echo "NET-G2H-SENT"
sleep 600
TEST
"$ROOT/tests/linux/addfiles" "$LINUX_I" "$T/initrd" "$T/test.sh:test.sh"

# wait_line WHAT: waits for a console line starting with WHAT (or a
# failure), bounded.
wait_line() {
    wl_n=0
    until grep -q "^$1\|NET-FAIL\|KVMRUN-TEST-STATUS" "$OUT"; do
        wl_n=$((wl_n + 1))
        [ "$wl_n" -le "$((${LINUX_TIMEOUT:-300} * 10))" ] || {
            kill -KILL "$PID"
            fail "vhost=$vhost, $cpus vCPUs: no $1 in ${LINUX_TIMEOUT:-300} s"
        }
        kill -0 "$PID" 2>/dev/null || fail "vhost=$vhost, $cpus vCPUs: kvmrun ended early"
        sleep 0.1
    done
    grep NET-FAIL "$OUT" && { kill -KILL "$PID"; fail "vhost=$vhost, $cpus vCPUs: the guest's checks failed"; }
    return 0
}

runs="off:1 off:2"
if [ -c /dev/vhost-net ]; then
    runs="$runs on:1 on:2"
elif [ "${KVMRUN_SANDBOX:-0}" = 1 ]; then
    fail "no /dev/vhost-net in the test VM (tests/sandbox/run loads vhost_net)"
fi
for run in $runs; do
    vhost=${run%:*} cpus=${run#*:}
    rm -f "$T/g2h"
    # Emptied here, not by the redirection below: that one happens in the
    # child, and wait_line could meanwhile find the last run's lines (the
    # host then pinged a guest still booting, and gave up).
    : >"$OUT"
    "$KVMRUN" -c "$cpus" -m 256M -k "$LINUX_K" -i "$T/initrd" \
        -a "console=ttyS0 quiet panic=-1" \
        --net tap=kvmrunt0,mac=52:54:00:12:34:56,vhost=$vhost \
        </dev/null >"$OUT" 2>"$ERR" &
    PID=$!
    wait_line NET-PING-OK
    busybox ping -c 3 -w 60 10.0.2.15 >/dev/null ||
        fail "vhost=$vhost, $cpus vCPUs: ping 10.0.2.15 (the tap: $(grep kvmrunt0 /proc/net/dev))"
    wait_line NET-READY
    timeout 300 busybox nc 10.0.2.15 5000 <"$T/h2g" ||
        fail "vhost=$vhost, $cpus vCPUs: sending to the guest"
    # Its stdin held open, as the guest's listener's (test.sh).
    rm -f "$T/hold"
    mkfifo "$T/hold"
    timeout 300 busybox nc -l -p 5001 <"$T/hold" >"$T/g2h" &
    LISTENER=$!
    exec 3>"$T/hold"
    wait_line NET-G2H-SENT
    wait "$LISTENER" || fail "vhost=$vhost, $cpus vCPUs: receiving from the guest"
    exec 3>&-
    kill -KILL "$PID"
    wait "$PID"
    tr -d '\r' <"$OUT" >"$T/out2" && mv "$T/out2" "$OUT"
    grep -qx "NET-H2G $h2g $((MB * 1048576))" "$OUT" ||
        fail "vhost=$vhost, $cpus vCPUs: host to guest: the guest's md5 or size differs (want $h2g)"
    want=$(sed -n 's/^NET-G2H-MD5 //p' "$OUT")
    [ "$(md5sum <"$T/g2h" | cut -d' ' -f1)" = "$want" ] ||
        fail "vhost=$vhost, $cpus vCPUs: guest to host: the md5 differs from the guest's"
    [ -z "$(grep -v "^kvmrun: virtio-net.0: rx" "$ERR")" ] ||
        fail "vhost=$vhost, $cpus vCPUs: kvmrun reported errors"
done
