#!/bin/sh
# elf.sh: ELF32 and ELF64 executables, detected or forced, as IMAGE or
# --kernel: started in protected or long mode at e_entry on the boot vCPU;
# the other vCPUs wait for INIT/SIPI (they never run here). Bad ELF files
# are refused with one line naming the file.
. "$(dirname "$0")/../lib.sh"

run_kvmrun --kernel "$GUESTS/mode32.elf"
expect_status 0
expect_stdout "vcpu 0 of 1: protected mode, apic id 0, fw_cfg 1 cpus 128 MiB: ok"

run_kvmrun "$GUESTS/mode64.elf"
expect_status 0
expect_stdout "vcpu 0 of 1: long mode, apic id 0, fw_cfg 1 cpus 128 MiB: ok"

# Two vCPUs: only the boot vCPU runs; vCPU 1 waits for a SIPI (no exits).
start_kvmrun --stats -c 2 --kernel "$GUESTS/mode64.elf"
n=0
until grep -q 'vcpu 0 of 2' "$OUT"; do
    n=$((n + 1)); [ $n -lt 2000 ] || fail "the boot vCPU did not report"
    sleep 0.01
done
stop_kvmrun USR1
expect_status 0
grep -q '^kvmrun: stats: vcpu1: 0 exits (none), ' "$ERR" ||
    fail "vcpu1 ran although nothing woke it"

head -c 100 "$GUESTS/mode64.elf" >"$T/short.elf"
run_kvmrun --kernel "$T/short.elf"
expect_status 2
grep -q "^kvmrun: $T/short.elf: " "$ERR" || fail "no error naming the file"
[ "$(wc -l <"$ERR")" -eq 1 ] || fail "more than one line for a bad ELF"

run_kvmrun --format elf "$GUESTS/hello.bin"
expect_status 2
grep -q "^kvmrun: $GUESTS/hello.bin: .*ELF" "$ERR" || fail "forced ELF accepted"

run_kvmrun --kernel "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: $GUESTS/hello.bin: not a Linux bzImage, multiboot kernel or ELF executable (raw code is given as IMAGE)"

run_kvmrun --load 0x1000 "$GUESTS/mode32.elf"
expect_status 2
expect_stderr "kvmrun: --load applies to raw images only; $GUESTS/mode32.elf is elf"
