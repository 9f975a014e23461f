#!/bin/sh
# linux_virtio_vsock.sh: Debian's kernel with its virtio-vsock driver on
# --vsock (the kernel's vhost-vsock): a host client (build/tests/kvm/
# vsock_tool) and a guest server exchange VSOCK_MB MiB (16 by default)
# each way, each side's checksum of what it sent equal to the other's of
# what it received; connecting to a port nobody listens on fails cleanly
# on both sides (the guest to the host, CID 2; the host to the guest). A
# second kvmrun asking for the same CID is refused (one line, status 2).
# Loopback only: vsock traffic never leaves the machine.
. "$(dirname "$0")/../lib.sh"
linux_setup
vsock_setup
BYTES=$((${VSOCK_MB:-16} * 1048576))
CID=42

cat >"$T/test.sh" <<TEST
fail() { echo "VSOCK-FAIL \$*"; exit 1; }
mkdir -p /tmp
out=\$(/bin/vsock_tool connect 2 9999 2>&1) && fail "connect to the host's port 9999 succeeded"
echo "VSOCK-GUEST-REFUSED \$out"
/bin/vsock_tool serve 1234 $BYTES 7 >/tmp/serve.out 2>&1 &
server=\$!
n=0
until grep -q listening /tmp/serve.out; do
    n=\$((n + 1)); [ \$n -le 100 ] || fail "the server does not listen"; sleep 0.1
done
echo "VSOCK-READY"
wait \$server || fail "server: \$(cat /tmp/serve.out)"
sed 's/^/VSOCK-GUEST /' /tmp/serve.out
echo "VSOCK-DONE"
sleep 600
TEST
"$ROOT/tests/linux/addfiles" "$LINUX_I" "$T/initrd" "$T/test.sh:test.sh" \
    "$TOOL:bin/vsock_tool"

"$KVMRUN" -m 256M -k "$LINUX_K" -i "$T/initrd" -a "console=ttyS0 quiet panic=-1" \
    --vsock cid=$CID </dev/null >"$T/vm.out" 2>"$T/vm.err" &
PID=$!
first=$PID

# wait_line WHAT: a console line starting with WHAT, bounded.
wait_line() {
    wl_n=0
    until grep -q "^$1\|VSOCK-FAIL\|KVMRUN-TEST-STATUS" "$T/vm.out"; do
        wl_n=$((wl_n + 1))
        [ "$wl_n" -le "$((${LINUX_TIMEOUT:-300} * 10))" ] ||
            { kill -KILL "$first"; fail "no $1 in ${LINUX_TIMEOUT:-300} s"; }
        kill -0 "$first" 2>/dev/null || fail "kvmrun ended early"
        sleep 0.1
    done
    grep VSOCK-FAIL "$T/vm.out" && { kill -KILL "$first"; fail "the guest's checks failed"; }
    return 0
}

wait_line VSOCK-READY
# Nobody listens on the guest's port 4444: refused, cleanly.
"$TOOL" connect $CID 4444 >"$T/refused" 2>&1 &&
    { kill -KILL "$first"; fail "connect to the guest's port 4444 succeeded"; }
grep -q "^vsock_tool: connect: " "$T/refused" ||
    { kill -KILL "$first"; fail "connect to 4444: $(cat "$T/refused")"; }
# The same CID for a second VM: refused before it starts (its output in
# $OUT and $ERR, the first VM's in vm.out and vm.err).
run_kvmrun_bounded 20 --vsock cid=$CID "$GUESTS/hello.bin"
expect_status 2
expect_stdout ""
expect_stderr "kvmrun: virtio-vsock.0: vsock: cid $CID is in use (by another VM)"
PID=$first
timeout 600 "$TOOL" send $CID 1234 $BYTES 11 >"$T/client" 2>&1 ||
    { kill -KILL "$PID"; fail "the host's client: $(cat "$T/client")"; }
wait_line VSOCK-DONE
kill -KILL "$PID"
wait "$PID"
# The first VM's console and errors are the test's output from here.
tr -d '\r' <"$T/vm.out" >"$OUT"
cp "$T/vm.err" "$ERR"
grep -q "^VSOCK-GUEST-REFUSED vsock_tool: connect: " "$OUT" ||
    fail "the guest's connect to an unused host port did not fail cleanly"
hs=$(sed -n 's/^sent \(.*\)/\1/p' "$T/client")
hr=$(sed -n 's/^received \(.*\)/\1/p' "$T/client")
gs=$(sed -n 's/^VSOCK-GUEST sent \(.*\)/\1/p' "$OUT")
gr=$(sed -n 's/^VSOCK-GUEST received \(.*\)/\1/p' "$OUT")
[ -n "$hs" ] && [ "$hs" = "$gr" ] ||
    fail "host to guest: sent '$hs', the guest received '$gr'"
[ -n "$gs" ] && [ "$gs" = "$hr" ] ||
    fail "guest to host: sent '$gs', the host received '$hr'"
case $hs in "$BYTES "*) ;; *) fail "host sent '$hs', not $BYTES bytes" ;; esac
[ -z "$(cat "$ERR")" ] || fail "kvmrun reported: $(cat "$ERR")"
