#!/bin/sh
# gdb_options.sh: --gdb's spellings and refusals; a Unix socket (mode
# 0600, a stale one replaced) that gdb connects to by its path; gdb's
# kill ends kvmrun with status 0, saying so.
. "$(dirname "$0")/../lib.sh"

run_kvmrun --gdb 1234 "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: --gdb: '1234' is neither tcp:[HOST:]PORT nor unix:PATH"
run_kvmrun --gdb tcp:70000 "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: --gdb tcp:70000: '70000' is not a port (0-65535)"
run_kvmrun --gdb tcp:example.org:1234 "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: --gdb tcp:example.org:1234: 'example.org' is not an IPv4 address"
run_kvmrun --gdb-wait "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: --gdb-wait: needs --gdb (where gdb connects)"
: >"$T/file"
run_kvmrun --gdb "unix:$T/file" "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: --gdb unix:$T/file: the file exists (and is not a stale socket)"

command -v gdb >/dev/null || { echo "SKIP: no gdb (apt-get install gdb)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3 for a stale socket"; exit 77; }
# A stale socket (nobody listens) is replaced.
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/gdb.sock"
"$KVMRUN" --gdb "unix:$T/gdb.sock" --gdb-wait -k "$GUESTS/dbg64.elf" \
    >"$OUT" 2>"$ERR" </dev/null &
PID=$!
wait_stderr "kvmrun: gdb: listening on unix:$T/gdb.sock (--gdb-wait: the guest runs once gdb continues)" 20 ||
    fail "no listening line"
[ "$(stat -c %a "$T/gdb.sock")" = 600 ] || fail "socket mode $(stat -c %a "$T/gdb.sock")"
timeout 60 gdb -batch -nx -ex "target remote $T/gdb.sock" -ex 'p/x $pc' \
    -ex kill "$GUESTS/dbg64.elf" >"$T/gdb.out" 2>&1
wait_bounded 20 "kvmrun after gdb's kill"
expect_gdb '^\$1 = 0x100000$'
expect_gdb 'Inferior 1 .* killed'
expect_status 0
expect_stderr "kvmrun: gdb: listening on unix:$T/gdb.sock (--gdb-wait: the guest runs once gdb continues)
kvmrun: killed by gdb"
[ ! -e "$T/gdb.sock" ] || fail "the socket was not removed"
