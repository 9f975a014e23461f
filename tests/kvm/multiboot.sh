#!/bin/sh
# multiboot.sh: a multiboot kernel (ELF, detected by its header) started as
# QEMU's -kernel starts it: EAX magic, information block with memory sizes,
# command line "<path> <append>", module 0 page-aligned with its path as
# string, the memory map; fw_cfg agrees. Bad multiboot input is refused.
. "$(dirname "$0")/../lib.sh"

K=$GUESTS/mb_info.elf
printf 'hello module payload\n' >"$T/module.txt"

run_kvmrun --kernel "$K" --append "console=ttyS0 hello" --initrd "$T/module.txt"
expect_status 0
expect_stdout "multiboot: eax 2badb002, flags 4d, mem_lower 639 KiB, mem_upper 130048 KiB
cmdline: $K console=ttyS0 hello
mods: 1
mod 0: $T/module.txt, 21 bytes, starts \"hello module pay\"
mmap: 0x0 +0x9fc00 type 1
mmap: 0x9fc00 +0x60400 type 2
mmap: 0x100000 +0x7f00000 type 1
fw_cfg: 1 cpus, 128 MiB"

# No --append, no module, RAM above 4 GiB, two vCPUs (the AP sleeps).
run_kvmrun -m 5G -c 2 "$K"
expect_status 0
expect_stdout "multiboot: eax 2badb002, flags 4d, mem_lower 639 KiB, mem_upper 3144704 KiB
cmdline: $K
mods: 0
mmap: 0x0 +0x9fc00 type 1
mmap: 0x9fc00 +0x60400 type 2
mmap: 0x100000 +0xbff00000 type 1
mmap: 0x100000000 +0x80000000 type 1
fw_cfg: 2 cpus, 5120 MiB"

# A module that fits in RAM, but not in what the kernel leaves of it.
head -c $((1536 * 1024)) /dev/zero >"$T/big.mod"
run_kvmrun -m 2M --kernel "$K" --module "$T/big.mod"
expect_status 2
grep -q "^kvmrun: $K: module 0: " "$ERR" || fail "no module error"
[ "$(wc -l <"$ERR")" -eq 1 ] || fail "more than one line"

run_kvmrun --kernel "$K" --initrd "$T/missing.mod"
expect_status 2
expect_stderr "kvmrun: $T/missing.mod: No such file or directory"

run_kvmrun --append "x" "$GUESTS/mode32.elf"
expect_status 2
expect_stderr "kvmrun: --append applies to Linux and multiboot kernels only; $GUESTS/mode32.elf is elf"
