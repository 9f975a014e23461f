#!/bin/sh
# triple_fault.sh: KVM_EXIT_SHUTDOWN is reported with registers, status 4.
. "$(dirname "$0")/../lib.sh"

run_kvmrun "$GUESTS/triple_fault.bin"
expect_status 4
expect_stderr_first "kvmrun: vcpu0: triple fault (KVM_EXIT_SHUTDOWN) at 0x1010"
grep -q '^  rip=0000000000001010 ' "$ERR" || fail "no register dump"
grep -q '^  cr0=0000000060000011 ' "$ERR" || fail "cr0 not dumped"
