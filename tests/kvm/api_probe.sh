#!/bin/sh
# api_probe.sh: --api PATH takes a socket already there for stale only
# when connecting to it is refused, and finds out without waiting: a live
# server that never accepts (its backlog full) is refused at once, not
# waited for (kvmrun ctl gives up on it after its --timeout); a socket
# kvmrun may not connect to (another user's: EACCES)
# is refused and left in place; a stale one is replaced.
. "$(dirname "$0")/../lib.sh"

H=$BUILD/tests/kvm/paths_helper
S=$T/vm.sock

# listen PATH [full]: a server that never accepts, until killed.
listen() {
    rm -f "$T/listening"
    "$H" listen "$@" >"$T/listening" &
    LISTENER=$!
    wait_for_file "$T/listening" 10 || fail "no socket server at $1"
}

unlisten() {
    kill "$LISTENER"
    wait "$LISTENER" 2>/dev/null
}

# A live server with its backlog full: a blocking connect() would wait
# for it to accept, forever, with SIGTERM ignored.
listen "$S" full
run_kvmrun_bounded 10 --api "$S" "$GUESTS/hlt_loop.bin"
expect_status 2
expect_stdout ""
expect_stderr "kvmrun: --api $S: another process serves it"
[ -S "$S" ] || fail "the live socket was removed"
# kvmrun ctl gives up on it after its --timeout, saying why.
timeout 30 "$KVMRUN" ctl --timeout=2 "$S" status >"$OUT" 2>"$ERR"
STATUS=$?
expect_status 2
expect_stderr "kvmrun ctl: $S: not accepting connections: no room in 2 s (a kvmrun that no longer serves its socket?)"
unlisten
"$KVMRUN" ctl --timeout=0 "$S" status >"$OUT" 2>"$ERR"
STATUS=$?
expect_status 2
expect_stderr "kvmrun ctl: --timeout: '0' is not a number of seconds from 1 to 86400"

# The server gone, its socket is stale: replaced, served, removed.
[ -S "$S" ] || fail "the stale socket is gone already"
start_kvmrun --api "$S" "$GUESTS/hlt_loop.bin"
"$KVMRUN" ctl "$S" status >/dev/null || fail "the stale socket was not replaced"
stop_kvmrun USR1
expect_status 0
[ ! -e "$S" ] || fail "the socket was left behind"

# Another user's live socket (root's, mode 0755: connect() gets EACCES),
# in a directory where that user may remove it. kvmrun runs as uid 65534
# on a KVM device node of its own.
if [ "$(id -u)" != 0 ]; then
    echo "not root: cannot run kvmrun as another user"
    exit 0
fi
mkdir -m 777 "$T/shared"
chmod 711 "$T"
mknod -m 666 "$T/shared/kvm" c 10 232 || fail "mknod of a KVM device node"
cp "$KVMRUN" "$T/shared/kvmrun"
chmod 755 "$T/shared/kvmrun"
listen "$T/shared/root.sock"
KVMRUN_DEVICE=$T/shared/kvm "$H" as-nobody "$T/shared/kvmrun" \
    --api "$T/shared/root.sock" >"$OUT" 2>"$ERR" </dev/null &
PID=$!
wait_bounded 10 "kvmrun --api on another user's socket"
expect_status 2
expect_stdout ""
expect_stderr "kvmrun: --api $T/shared/root.sock: cannot tell whether another process serves it (connect: Permission denied): not replaced"
[ -S "$T/shared/root.sock" ] || fail "kvmrun removed root's live socket"
unlisten
exit 0
