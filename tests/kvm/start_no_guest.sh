#!/bin/sh
# start_no_guest.sh: kvmrun_vm_start() without a guest set up to start is
# refused with -EINVAL and a clear message, nothing started; once booted
# the VM runs (tests/kvm/start_no_guest.c).
. "$(dirname "$0")/../lib.sh"

KVMRUN_BUILD=$BUILD "$BUILD/tests/kvm/start_no_guest" >"$OUT" 2>"$ERR" ||
    fail "start_no_guest"
exit 0
