#!/bin/sh
# gdb_modes.sh: gdb reads registers in every mode the guest starts in:
# 32-bit protected mode (the i386 description: eip, cr0.PE set) and real
# mode (i8086: eip at the 0x1000 entry, cr0.PE clear); detach lets each
# guest run to its end.
. "$(dirname "$0")/../lib.sh"

gdb_start --gdb-wait -k "$GUESTS/mode32.elf"
GDB_ELF="$GUESTS/mode32.elf" gdb_run -ex 'show architecture' \
    -ex 'p/x $eip' -ex 'p/x $cr0 & 1' -ex 'p/x $rip' -ex detach
wait_bounded 20 "mode32 after gdb detached"
expect_gdb 'target architecture is set to "auto" \(currently "i386"\)'
expect_gdb "^\\\$1 = 0x$(readelf -h "$GUESTS/mode32.elf" | sed -n 's/.*Entry point address: *0x//p')\$"
expect_gdb '^\$2 = 0x1$'
expect_gdb '^\$3 = void$' # no rip in i386
expect_status 0

gdb_start --gdb-wait "$GUESTS/hello.bin"
GDB_ELF= gdb_run -ex 'show architecture' -ex 'p/x $eip' -ex 'p/x $cr0 & 1' \
    -ex detach
wait_bounded 20 "hello after gdb detached"
expect_gdb 'currently "i8086"'
expect_gdb '^\$1 = 0x1000$'
expect_gdb '^\$2 = 0x0$'
expect_status 0
expect_stdout 'hello from a raw guest'
