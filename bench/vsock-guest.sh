#!/bin/sh
# bench/vsock-guest.sh: bench/vsock's /test.sh in the guest (the init of
# tests/linux/mkinitramfs runs it once the vsock modules are loaded):
# /bin/vsock-tool serves on port 5000 (bench/vsock-tool.c), "VSOCK-READY"
# once it listens; the host measures against it and ends the VM. Nothing
# goes to the console meanwhile: every byte through the UART is an exit.
fail() { echo "VSOCK-FAIL $*"; exit 1; }
mkdir -p /tmp
/bin/vsock-tool serve 5000 >/tmp/serve.log 2>&1 &
server=$!
n=0
until grep -q listening /tmp/serve.log; do
    n=$((n + 1))
    [ "$n" -le 300 ] || fail "the server does not listen: $(cat /tmp/serve.log)"
    kill -0 "$server" 2>/dev/null ||
        fail "the server ended: $(cat /tmp/serve.log)"
    sleep 0.1
done
echo "VSOCK-READY"
wait "$server"
fail "the server ended: $(tail -n 5 /tmp/serve.log)"
