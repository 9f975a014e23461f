#!/bin/sh
# seccomp_violation.sh: once confined, a system call outside the filters
# is stopped: reported and status 159 (kvmrun's SIGSYS handler), killed by
# SIGSYS, or refused with EPERM; what kvmrun needs keeps working.
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/seccomp_violation"
