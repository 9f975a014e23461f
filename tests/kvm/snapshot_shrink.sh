#!/bin/sh
# snapshot_shrink.sh: a snapshot file truncated while kvmrun restores it
# (right after its size was taken, or while its memory pages are read)
# gives one line of error, never a crash or a VM from half a file
# (tests/kvm/snapshot_shrink.c).
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/snapshot_shrink" "$T" >"$OUT" 2>"$ERR" ||
    fail "snapshot_shrink"
cat "$OUT"
