#!/bin/sh
# linux_boot.sh: Debian's stock cloud kernel with a busybox initramfs, on 1
# and 2 vCPUs: its init prints the CPU count (ACPI's MADT) and `uname -r`,
# reads a line typed into the serial console (interrupt-driven 16550: IRQ
# 4, RX and TX) and echoes it, then powers off through ACPI (status 0) or
# reboots (the FADT's reset register, the i8042: status 8). With acpi=off
# the guest still ends through reboot (this kernel has no MP-table parser,
# CONFIG_X86_MPPARSE is off, so it then sees one CPU whatever the table).
# Opt-in for now (KVMRUN_LINUX=1, in the test VM: make check SANDBOX=1):
# every boot here passes when run alone, but under tests/run the second
# boot in a row has hung (not yet understood). On this kind of host's
# nested /dev/kvm a Linux boot takes minutes (QEMU's too).
. "$(dirname "$0")/../lib.sh"

K=$BUILD/linux/vmlinuz
I=$BUILD/linux/initrd.gz
if [ ! -f "$K" ] || [ ! -f "$I" ]; then
    echo "no kernel or initramfs in $BUILD/linux (tests/check stages them)"
    exit 77
fi
if [ "${KVMRUN_LINUX:-0}" != 1 ]; then
    echo "opt-in: KVMRUN_LINUX=1 (see the comment at the top)"
    exit 77
fi

# boot N APPEND...: boots with N vCPUs and types a line at the init's
# prompt; leaves the output in $OUT and the status in $STATUS.
nboot=0
boot() {
    n=$1
    shift
    nboot=$((nboot + 1))
    OUT=$T/boot$nboot.out # fresh: the typer must not see an old prompt
    "$ROOT/tests/linux/type-at-prompt" "$OUT" |
        "$KVMRUN" -c "$n" -m 256M -k "$K" -i "$I" \
            -a "console=ttyS0 quiet panic=-1 $*" >"$OUT" 2>"$ERR"
    STATUS=$?
    tr -d '\r' <"$OUT" >"$T/out" && mv "$T/out" "$OUT"
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
