#!/bin/sh
# internal_error.sh: fetching code past RAM is a KVM emulation failure:
# reported with the suberror and registers, status 4.
. "$(dirname "$0")/../lib.sh"

run_kvmrun --mem 1M "$GUESTS/wild_jump.bin"
expect_status 4
expect_stderr_first "kvmrun: vcpu0: KVM internal error, suberror 1 (instruction emulation failed) at 0x100000"
grep -q '^  rip=0000000000000010 ' "$ERR" || fail "no register dump"
