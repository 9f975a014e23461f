#!/bin/sh
# linux_boot.sh: Debian's stock cloud kernel with a busybox initramfs, on 1
# and 2 vCPUs: its init prints the CPU count (ACPI's MADT) and `uname -r`,
# reads a line typed into the serial console (interrupt-driven 16550: IRQ
# 4, RX and TX) and echoes it, then powers off through ACPI (status 0) or
# reboots (the FADT's reset register, the i8042: status 8). With acpi=off
# the guest still ends through reboot (this kernel has no MP-table parser,
# CONFIG_X86_MPPARSE is off, so it then sees one CPU whatever the table).
# The same kernel uncompressed (the vmlinux ELF inside the bzImage) boots
# through its 64-bit entry too; one that does not fit is refused.
. "$(dirname "$0")/../lib.sh"
linux_setup

# boot N APPEND...: boots with N vCPUs and types a line at the init's
# prompt; leaves the output in $OUT and the status in $STATUS.
boot() {
    linux_start "$OUT" "$@"
    linux_wait
}

check_boot() {
    grep -qx "cpus: $1" "$OUT" || fail "$1 vCPUs: no 'cpus: $1' line"
    grep -q '^uname: [0-9][^ ]*-cloud-amd64$' "$OUT" || fail "no uname line"
    grep -qx "echo: typed at the console" "$OUT" ||
        fail "the line typed at the console did not come back"
    expect_status "$2"
}

for n in 1 2; do
    boot $n
    check_boot $n 0
done
boot 1 kvmrun.action=reboot
check_boot 1 8
boot 1 acpi=off kvmrun.action=reboot
check_boot 1 8

# The uncompressed kernel, entered at startup_64 (tests/linux/stage).
LINUX_K=$BUILD/linux/vmlinux
[ -f "$LINUX_K" ] || fail "no $LINUX_K (tests/linux/stage extracts it)"
boot 2
check_boot 2 0
run_kvmrun -m 32M -k "$LINUX_K"
expect_status 2
grep -q "^kvmrun: $LINUX_K: .*do not fit in guest memory (32 MiB)$" "$ERR" ||
    fail "a vmlinux too big for RAM: no clear refusal"
