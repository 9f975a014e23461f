#!/bin/sh
# multiboot_smp.sh: a multiboot kernel on 1, 2 and 4 vCPUs: the APs wait
# in KVM until the guest wakes them with INIT/SIPI through its local APIC
# (trampoline at 0x8000); each prints its APIC ID; the BSP checks fw_cfg's
# CPU count and RAM size against multiboot's and exits through the
# debug-exit port with 0x20 | CPUs: status ((0x20 | N) << 1) | 1.
. "$(dirname "$0")/../lib.sh"

for n in 1 2 4; do
    run_kvmrun -c $n --kernel "$GUESTS/mb_smp.elf"
    expect_status $((((0x20 | n) << 1) | 1))
    {
        echo "BSP: apic id 0, fw_cfg $n cpus, 128 MiB, multiboot agrees"
        i=1
        while [ $i -lt $n ]; do echo "AP: apic id $i"; i=$((i + 1)); done
        echo "BSP: $n CPUs up"
    } | sort >"$T/want"
    sort "$OUT" | cmp -s "$T/want" - || fail "$n vCPUs: wrong lines"
    [ "$(tail -n 1 "$OUT")" = "BSP: $n CPUs up" ] || fail "BSP not last"
done
