#!/bin/sh
# triple_fault.sh: KVM_EXIT_SHUTDOWN is reported with registers, status 4.
. "$(dirname "$0")/../lib.sh"

run_kvmrun "$GUESTS/triple_fault.bin"
expect_status 4
grep -q '^  rip=' "$ERR" || fail "no register dump"
# Intel keeps the faulting state; on AMD, KVM resets the vCPU after a
# shutdown intercept, and kvmrun says so rather than print the reset vector.
case $(head -n 1 "$ERR") in
"kvmrun: vcpu0: triple fault (KVM_EXIT_SHUTDOWN) at 0x1010")
    grep -q '^  cr0=0000000060000011 ' "$ERR" || fail "cr0 not dumped" ;;
"kvmrun: vcpu0: triple fault (KVM_EXIT_SHUTDOWN); the faulting address is lost: KVM reset the vCPU")
    grep -q '^  rip=000000000000fff0 ' "$ERR" || fail "not the reset state" ;;
*)
    fail "no triple-fault report" ;;
esac
