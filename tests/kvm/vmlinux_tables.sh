#!/bin/sh
# vmlinux_tables.sh: a vmlinux whose segments would overwrite the ACPI or
# MP table or each other is refused naming them; one with 40 program
# headers is detected as Linux and loads (tests/kvm/vmlinux_tables.c).
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/vmlinux_tables" "$T" >"$OUT" 2>"$ERR" ||
    fail "vmlinux_tables"
