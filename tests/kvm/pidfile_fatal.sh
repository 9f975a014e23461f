#!/bin/sh
# pidfile_fatal.sh: a --pidfile kvmrun cannot write ends it with status 2
# before any vCPU runs, as QEMU's -pidfile does, so a supervisor waiting
# for the file is told at once: the guest never runs (debug_exit.bin
# would print a line and exit 85; --stats would report the vCPUs' start),
# one line names the file and why, and the control socket made before it
# is removed.
. "$(dirname "$0")/../lib.sh"

for target in "$T/none/pid" "$T"; do
    case $target in
    "$T") why="is a directory; only a regular file is replaced" ;;
    *) why="No such file or directory" ;;
    esac
    run_kvmrun_bounded 10 --stats --api "$T/vm.sock" --pidfile "$target" \
        "$GUESTS/debug_exit.bin"
    expect_status 2
    expect_stdout ""
    expect_stderr "kvmrun: --pidfile $target: $why"
    [ ! -e "$T/vm.sock" ] || fail "the control socket was left at $T/vm.sock"
done
exit 0
