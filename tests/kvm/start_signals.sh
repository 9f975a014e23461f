#!/bin/sh
# start_signals.sh: SIGTERM, SIGINT and SIGHUP end kvmrun at any step of
# its start, however slow that step: status 128 + N, one line, the start
# goes no further (no socket, no thread, no seccomp) and nothing is left
# behind. A step is made slow here by stopping kvmrun under ptrace as it
# opens a given file (tests/kvm/paths_helper signal-at), the signal sent
# meanwhile: a huge image or a slow disk, made deterministic.
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/snapshot" save "$T/c.snap" "$T/prefix" >/dev/null ||
    fail "could not make a snapshot"

# at FILE SIG STATUS ARGS...: kvmrun ARGS, SIG sent as it opens FILE.
at() {
    at_file=$1 at_sig=$2 at_status=$3
    shift 3
    "$BUILD/tests/kvm/paths_helper" signal-at "$at_file" "$at_sig" \
        "$KVMRUN" --api "$T/vm.sock" --pidfile "$T/pid" "$@" \
        >"$OUT" 2>"$ERR" </dev/null
    [ $? = 0 ] || fail "SIG$at_sig at the open of $at_file"
    expect_stdout "exit $at_status"
    expect_stderr "kvmrun: stopped by SIG$at_sig during start"
    for f in "$T"/*; do
        case ${f#"$T"/} in
        c.snap | prefix | serial | stdout | stderr | want) ;;
        *) fail "left behind: $f" ;;
        esac
    done
}

# While the guest image is read (the guest's load).
at "$GUESTS/hlt_loop.bin" TERM 143 "$GUESTS/hlt_loop.bin"
# While the KVM device is opened (the VM being built).
at "${KVMRUN_DEVICE:-/dev/kvm}" INT 130 "$GUESTS/hlt_loop.bin"
# While the --serial output is opened, the first step.
at "$T/serial" HUP 129 --serial "$T/serial" "$GUESTS/hlt_loop.bin"
# While a snapshot is read (--restore).
at "$T/c.snap" TERM 143 --restore "$T/c.snap"
exit 0
