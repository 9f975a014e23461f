#!/bin/sh
# path_targets.sh: a snapshot or a --pidfile never replaces what is not a
# regular file (a FIFO, a device, a directory, the control socket): one
# line naming the path and what it is, the target untouched; --pidfile
# then ends kvmrun with status 2 before the guest runs, as any pidfile it
# cannot write. A symbolic link is replaced itself, never what it points
# to. At exit kvmrun removes only the socket and the pidfile it made: a
# file put in their place since stays.
. "$(dirname "$0")/../lib.sh"

S=$T/vm.sock
mkfifo "$T/fifo"
mkdir "$T/dir"
# One "NAME TYPE" a line (a type may have spaces).
printf '%s\n' "fifo FIFO" "dir directory" "vm.sock socket" >"$T/list"
# A device node like /dev/null (as root; the test VM runs as root too).
if mknod "$T/null" c 1 3 2>/dev/null; then
    echo "null character device" >>"$T/list"
fi

# untouched NAME: the target is still what it was.
untouched() {
    case $1 in
    fifo) [ -p "$T/fifo" ] ;;
    dir) [ -d "$T/dir" ] && [ -z "$(ls -A "$T/dir")" ] ;;
    vm.sock) [ -S "$S" ] ;;
    null) [ -c "$T/null" ] && [ "$(stat -c %t:%T "$T/null")" = 1:3 ] ;;
    esac || fail "$T/$1 was replaced or changed"
}

start_kvmrun --api "$S" "$GUESTS/hlt_loop.bin"
while read -r name type; do
    "$KVMRUN" ctl "$S" snapshot "$T/$name" >"$T/ctl.out" 2>"$T/ctl.err"
    st=$?
    [ "$st" = 1 ] || fail "snapshot onto the $type $T/$name: status $st, not 1"
    expect_file "$T/ctl.err" "kvmrun ctl: snapshot $T/$name: is a $type; only a regular file is replaced" ||
        fail "snapshot onto the $type: $(cat "$T/ctl.err")"
    untouched "$name"
done <"$T/list"
"$KVMRUN" ctl "$S" status >/dev/null || fail "the control socket stopped serving"

# A symbolic link is replaced by the snapshot; what it points to is not.
ln -s fifo "$T/link"
"$KVMRUN" ctl "$S" snapshot "$T/link" >/dev/null ||
    fail "snapshot onto a symbolic link failed"
[ -f "$T/link" ] && [ ! -L "$T/link" ] || fail "$T/link is not the snapshot"
untouched fifo

# Files put in place of the socket and the pidfile are not kvmrun's.
echo other >"$T/other.sock"
mv "$T/other.sock" "$S"
echo 1 >"$T/other.pid"
mv "$T/other.pid" "$T/pid"
stop_kvmrun USR1
expect_status 0
[ "$(cat "$S" 2>/dev/null)" = other ] || fail "kvmrun removed the file at $S"
[ "$(cat "$T/pid" 2>/dev/null)" = 1 ] || fail "kvmrun removed the file at $T/pid"
rm "$S" "$T/pid" "$T/link"

# --pidfile onto each of them (a live socket): refused before the guest
# runs.
"$BUILD/tests/kvm/paths_helper" listen "$S" >"$T/listening" &
LISTENER=$!
wait_for_file "$T/listening" 10 || fail "no socket server at $S"
while read -r name type; do
    run_kvmrun_bounded 10 --pidfile "$T/$name" "$GUESTS/hello.bin"
    expect_status 2
    expect_stdout ""
    expect_stderr "kvmrun: --pidfile $T/$name: is a $type; only a regular file is replaced"
    untouched "$name"
done <"$T/list"
kill "$LISTENER"
wait "$LISTENER" 2>/dev/null
rm "$S" "$T/listening"

# A pidfile that cannot be written is as fatal.
run_kvmrun_bounded 10 --pidfile "$T/none/pid" "$GUESTS/hello.bin"
expect_status 2
expect_stdout ""
expect_stderr "kvmrun: --pidfile $T/none/pid: No such file or directory"

# Nothing else was left in $T (no temporary snapshot or pidfile).
ls "$T" | grep -Ev '^(fifo|dir|null|list|stdout|stderr|want|ctl\.(out|err))$' &&
    fail "left behind in $T: $(ls "$T")"
exit 0
