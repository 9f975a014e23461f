#!/bin/sh
# seccomp_patch.sh: the filters compiled at build time get the real action
# and kvmrun's pid at run time, in the process filter and the vCPU filter:
# refusals give EPERM, SIGSYS or death as asked, and tgkill works within
# kvmrun only.
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/seccomp_patch"
