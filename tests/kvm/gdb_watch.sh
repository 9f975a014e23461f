#!/bin/sh
# gdb_watch.sh: a watchpoint on counter (a debug register, Z2) stops at
# the first write with the old and new values. KVMs that do not report
# data breakpoints to user space (this development host's kvm_pvm: QEMU's
# never fire there either) let the guest run to its end: skipped, saying
# so.
. "$(dirname "$0")/../lib.sh"

gdb_start --gdb-wait -k "$GUESTS/dbg64.elf"
gdb_run -ex 'watch counter' -ex 'set var go = 1' -ex continue \
    -ex 'p counter' -ex delete -ex detach
wait_bounded 20 "kvmrun after gdb detached"
if grep -q 'exited normally' "$T/gdb.out"; then
    echo "SKIP: this host's KVM never reported the data breakpoint" \
        "(KVM_GUESTDBG_USE_HW_BP with DR7 write watch): the guest ran to its end"
    exit 77
fi
expect_gdb '^Hardware watchpoint 1: counter'
expect_gdb '^Old value = 0$'
expect_gdb '^New value = 1$'
expect_status 0
expect_stdout 'dbg64: counter 100'
