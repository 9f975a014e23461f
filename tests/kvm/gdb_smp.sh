#!/bin/sh
# gdb_smp.sh: two vCPUs are two gdb threads; a breakpoint only vCPU 1
# reaches (dbg_other) reports thread 2, whose registers gdb then shows
# (rdi = its index, 1); after detach the guest ends normally.
. "$(dirname "$0")/../lib.sh"

gdb_start --gdb-wait --mode long --load 0x100000 -c 2 "$GUESTS/dbg64.bin"
gdb_run -ex 'info threads' -ex 'hbreak dbg_other' -ex continue \
    -ex 'thread 2' -ex 'info registers rdi' -ex 'delete' \
    -ex 'set var go = 1' -ex detach
wait_bounded 20 "kvmrun after gdb detached"
expect_gdb '^\* 1 +Thread 1 '
expect_gdb '^  2 +Thread 2 '
expect_gdb '^Thread 2 .*hit Breakpoint 1, dbg_other \(vcpu=1\)'
expect_gdb '^rdi +0x1 +1$'
expect_status 0
expect_stdout 'dbg64: counter 100'
