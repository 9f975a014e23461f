#!/bin/sh
# gdb_break.sh: --gdb --gdb-wait on the dbg64 ELF: gdb stops at _start
# before anything ran, a hardware breakpoint at dbg_tick stops there with
# the argument in rdi and counter still 0, stepi moves the pc one
# instruction at a time, a software breakpoint (int3) stops at the next
# call, and after detach the guest runs on to its normal end.
. "$(dirname "$0")/../lib.sh"

gdb_start --gdb-wait -k "$GUESTS/dbg64.elf"
gdb_run -ex 'p/x $pc' -ex 'hbreak dbg_tick' -ex 'set var go = 1' \
    -ex continue -ex 'p $rdi' -ex 'p counter' -ex 'p/x $pc' \
    -ex stepi -ex 'p/x $pc' -ex stepi -ex 'p/x $pc' -ex delete \
    -ex 'break dbg_tick' -ex continue -ex 'p n' -ex 'x/1xb dbg_tick' \
    -ex delete -ex detach
wait_bounded 20 "kvmrun after gdb detached"
expect_gdb '^\$1 = 0x100000$'
expect_gdb '^Breakpoint 1, dbg_tick \(n=n@entry=1\)'
expect_gdb '^\$2 = 1$'
expect_gdb '^\$3 = 0$'
# Three different pcs: the breakpoint's, then one per stepi.
pcs=$(sed -n 's/^\$[456] = \(0x[0-9a-f]*\)$/\1/p' "$T/gdb.out" | sort -u | wc -l)
[ "$pcs" = 3 ] || { cat "$T/gdb.out"; fail "stepi did not move the pc"; }
expect_gdb '^Breakpoint 2, dbg_tick \(n=n@entry=2\)'
# gdb sees the guest's byte, not the int3 in its place.
expect_gdb "^0x[0-9a-f]* <dbg_tick>:	0x$(od -An -tx1 -j$((0x30)) -N1 "$GUESTS/dbg64.bin" | tr -d ' ')\$"
expect_gdb 'Inferior 1 \(Remote target\) detached'
expect_status 0
expect_stdout 'dbg64: counter 100'
