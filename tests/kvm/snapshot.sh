#!/bin/sh
# snapshot.sh: snapshots of the counter guest, taken while running and
# while paused, with 1 and 2 vCPUs, restored: the output continues with no
# gap and no repeat (tests/kvm/snapshot.c).
. "$(dirname "$0")/../lib.sh"

TMPDIR=$T "$BUILD/tests/kvm/snapshot" || fail "snapshot scenarios failed"
