#!/bin/sh
# gdb_protocol.sh: the stub survives what a broken client sends: noise,
# a bad checksum (NAK), an overlong packet, then answers a good '?';
# a second client while one is attached hears E10 and is closed; the
# first one dropping lets the --gdb-wait guest run to its end.
. "$(dirname "$0")/../lib.sh"

command -v bash >/dev/null || { echo "SKIP: no bash for /dev/tcp"; exit 77; }
gdb_start --gdb-wait "$GUESTS/hello.bin"
long=$(head -c 6000 /dev/zero | tr '\0' a)
GDB_PORT=$GDB_PORT LONG=$long timeout 20 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/$GDB_PORT
    printf "garbage\$g#00\$$LONG#00\$?#3f" >&3
    sleep 1
    exec 4<>/dev/tcp/127.0.0.1/$GDB_PORT
    timeout 2 cat <&4 >"$0.second"
    timeout 1 cat <&3 >"$0.first"
    exec 3<&-' "$T/reply" || true
grep -q 'T05thread:1;' "$T/reply.first" || fail "no stop reply: $(cat "$T/reply.first")"
grep -q -- '-' "$T/reply.first" || fail "no NAK for a bad checksum"
grep -qF '$E10#a6' "$T/reply.second" || fail "second client: $(cat "$T/reply.second")"
wait_bounded 20 "kvmrun after its client dropped"
expect_status 0
expect_stdout 'hello from a raw guest'
