#!/bin/sh
# modes.sh: raw images in 32-bit protected and 64-bit long mode, on 1, 2
# and 4 vCPUs: each vCPU checks its mode, its CPUID APIC ID (leaf 1 and
# 0xB) against its index, the hypervisor bit and fw_cfg's CPU count and
# RAM size; long mode checks the identity mapping up to the last byte of
# RAM, above 4 GiB too. The VMM's area is refused to images.
. "$(dirname "$0")/../lib.sh"

# check_lines MODE N MIB: the sorted output is N "ok" lines.
check_lines() {
    : >"$T/want"
    i=0
    while [ $i -lt "$2" ]; do
        echo "vcpu $i of $2: $1 mode, apic id $i, fw_cfg $2 cpus $3 MiB: ok" \
            >>"$T/want"
        i=$((i + 1))
    done
    sort "$OUT" | cmp -s "$T/want" - || fail "$1 mode, $2 vCPUs: wrong lines"
}

for n in 1 2 4; do
    run_kvmrun --mode protected --load 0x100000 -c $n "$GUESTS/mode32.bin"
    expect_status 0
    check_lines protected $n 128
    run_kvmrun --mode long --load 0x100000 -c $n "$GUESTS/mode64.bin"
    expect_status 0
    check_lines long $n 128
done

run_kvmrun --mode long -m 5G --load 0x100000 -c 2 "$GUESTS/mode64.bin"
expect_status 0
check_lines long 2 5120

run_kvmrun --mode protected --load 0x6f000 "$GUESTS/mode32.bin"
expect_status 2
expect_stderr "kvmrun: $GUESTS/mode32.bin: 0x6f000-0x$(printf %x $((0x6f000 + $(wc -c <"$GUESTS/mode32.bin")))) overlaps the VMM's GDT, TSS and page tables at 0x60000-0x77000 (protected and long mode)"

run_kvmrun --mode virtual86 "$GUESTS/mode32.bin"
expect_status 2
expect_stderr "kvmrun: --mode: 'virtual86' is not a CPU mode (real, protected or long)"
