#!/bin/sh
# gdb_qemu.sh: the same gdb script against QEMU's stub (-S, KVM) and
# kvmrun's (--gdb-wait) on the same multiboot ELF gives the same stop
# address, registers and memory: a hardware breakpoint at dbg_tick, its
# argument and counter, eflags, two stepi and esp. QEMU's stub describes
# an x86-64 target for this 32-bit guest, so the values are printed in a
# form that does not depend on the description. Skipped without QEMU.
. "$(dirname "$0")/../lib.sh"

command -v qemu-system-x86_64 >/dev/null ||
    { echo "SKIP: no qemu-system-x86_64 to compare with"; exit 77; }
# qboot when installed: SeaBIOS takes 15 s to get there on a slow KVM.
QBIOS=
[ -f /usr/share/qemu/qboot.rom ] && QBIOS="-bios /usr/share/qemu/qboot.rom"
cat >"$T/cmds" <<'G'
hbreak dbg_tick
continue
p/x $pc
p *(unsigned int *)($sp + 4)
p counter
p/x $eflags
stepi
p/x $pc
stepi
p/x $pc
p/x $sp
delete
detach
G
# values FILE: the $N = lines of a transcript.
values() { grep -E '^\$[0-9]+ = ' "$1"; }

timeout 60 qemu-system-x86_64 $QBIOS -accel kvm -nographic -nodefaults -m 128M \
    -serial "file:$T/qemu.serial" -kernel "$GUESTS/mb_dbg.elf" -S \
    -gdb "unix:$T/qemu.sock,server=on,wait=off" 2>"$T/qemu.err" &
QPID=$!
n=0
until [ -S "$T/qemu.sock" ]; do
    n=$((n + 1))
    [ $n -gt 1000 ] && fail "QEMU never made its gdb socket: $(cat "$T/qemu.err")"
    kill -0 $QPID 2>/dev/null ||
        { echo "SKIP: QEMU does not run here: $(cat "$T/qemu.err")"; exit 77; }
    sleep 0.01
done
timeout 60 gdb -batch -nx -ex 'set architecture i386:x86-64' \
    -ex "target remote $T/qemu.sock" -x "$T/cmds" "$GUESTS/mb_dbg.elf" \
    >"$T/qemu.gdb" 2>&1
kill $QPID 2>/dev/null # the comparison is done: not its slow power-off
wait $QPID
grep -q 'Breakpoint 1, dbg_tick' "$T/qemu.gdb" ||
    { echo "SKIP: QEMU's stub did not stop at the hardware breakpoint:"; cat "$T/qemu.gdb"; exit 77; }

gdb_start --gdb-wait -k "$GUESTS/mb_dbg.elf"
GDB_ELF="$GUESTS/mb_dbg.elf" gdb_run -x "$T/cmds"
wait_bounded 20 "kvmrun after gdb detached"
expect_gdb '^Breakpoint 1, dbg_tick \(n=1\)'
values "$T/qemu.gdb" >"$T/qemu.values"
values "$T/gdb.out" >"$T/kvmrun.values"
[ "$(wc -l <"$T/kvmrun.values")" = 7 ] || fail "not 7 values: $(cat "$T/gdb.out")"
cmp -s "$T/qemu.values" "$T/kvmrun.values" ||
    fail "QEMU and kvmrun differ: $(diff "$T/qemu.values" "$T/kvmrun.values")"
expect_status 0
expect_stdout 'mb_dbg: counter 100'
