#!/bin/sh
# linux_vsock_restore.sh: a guest's vsock server holds a connection from
# the host (idle) when the VM is saved; the restored guest is told that
# its connections are gone (kvmrun's transport reset event): the
# server's read ends (EOF, or ECONNRESET) within 60 s, instead of waiting
# on a peer that no longer exists until its 120 s receive timeout.
# Afterwards a new connection carries data both ways. In the test VM
# (vhost-vsock).
. "$(dirname "$0")/../lib.sh"
linux_setup
vsock_setup
CID=43

cat >"$T/test.sh" <<'TEST'
mkdir -p /tmp
/bin/vsock_tool serve 1234 0 0 >/tmp/s1 2>&1 &
n=0
until grep -q listening /tmp/s1; do n=$((n + 1)); [ $n -le 100 ] || break; sleep 0.1; done
echo "VSOCK-READY"
wait
echo "VSOCK-FIRST $(sed -n 2p /tmp/s1)"
/bin/vsock_tool serve 1235 65536 5 >/tmp/s2 2>&1 &
n=0
until grep -q listening /tmp/s2; do n=$((n + 1)); [ $n -le 100 ] || break; sleep 0.1; done
echo "VSOCK-READY2"
wait
sed 's/^/VSOCK-SECOND /' /tmp/s2
sleep 600
TEST
"$ROOT/tests/linux/addfiles" "$LINUX_I" "$T/initrd" "$T/test.sh:test.sh" \
    "$TOOL:bin/vsock_tool"

# wait_line WHAT: a console line starting with WHAT, bounded.
wait_line() {
    wl_n=0
    : >>"$OUT"
    until grep -q "^$1" "$OUT"; do
        wl_n=$((wl_n + 1))
        [ "$wl_n" -le "$((${2:-${LINUX_TIMEOUT:-300}} * 10))" ] ||
            { kill -KILL "$PID"; fail "no $1 in ${2:-${LINUX_TIMEOUT:-300}} s"; }
        kill -0 "$PID" 2>/dev/null || fail "kvmrun ended before $1"
        sleep 0.1
        tr -d '\r' <"$OUT.raw" >"$OUT"
    done
}

"$KVMRUN" --api "$T/api" -m 256M -k "$LINUX_K" -i "$T/initrd" \
    -a "console=ttyS0 quiet panic=-1" --vsock cid=$CID \
    </dev/null >"$OUT.raw" 2>"$ERR" &
PID=$!
wait_line VSOCK-READY
"$TOOL" hold $CID 1234 100 >"$T/hold" 2>&1 &
HOLDER=$!
n=0
until grep -q connected "$T/hold"; do
    n=$((n + 1))
    [ $n -le 300 ] || { kill -KILL "$PID" "$HOLDER"; fail "hold: $(cat "$T/hold")"; }
    sleep 0.1
done
"$KVMRUN" ctl "$T/api" snapshot "$T/vm.snap" >"$T/ctl.out" 2>&1 ||
    { kill -KILL "$PID" "$HOLDER"; fail "the snapshot failed: $(cat "$T/ctl.out")"; }
kill -KILL "$PID" "$HOLDER"
wait "$PID"
wait "$HOLDER"

: >"$OUT.raw" # not the first run's lines meanwhile (wait_line)
: >"$OUT"
"$KVMRUN" --restore "$T/vm.snap" --vsock cid=$CID \
    </dev/null >"$OUT.raw" 2>"$ERR" &
PID=$!
wait_line VSOCK-FIRST 60
grep -q "^VSOCK-FIRST received 0 \|^VSOCK-FIRST vsock_tool: read: Connection reset by peer" "$OUT" ||
    { kill -KILL "$PID"; fail "the held connection was not reset: $(grep VSOCK-FIRST "$OUT")"; }
wait_line VSOCK-READY2
timeout 120 "$TOOL" send $CID 1235 65536 9 >"$T/client" 2>&1 ||
    { kill -KILL "$PID"; fail "after the restore: $(cat "$T/client")"; }
wait_line "VSOCK-SECOND sent"
kill -KILL "$PID"
wait "$PID"
[ "$(sed -n 's/^received //p' "$T/client")" = "$(sed -n 's/^VSOCK-SECOND sent //p' "$OUT")" ] ||
    fail "guest to host after the restore: checksums differ"
[ "$(sed -n 's/^sent //p' "$T/client")" = "$(sed -n 's/^VSOCK-SECOND received //p' "$OUT")" ] ||
    fail "host to guest after the restore: checksums differ"
