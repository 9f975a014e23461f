#!/bin/sh
# kick_storm.sh: 100,000 kicks from 4 threads at random moments against a
# busy guest on 1, 2 and 4 vCPUs: every kick acknowledged, none lost (a lost
# kick needs a re-kick after 1 s while the vCPU keeps running its guest:
# kick_storm fails at once; a vCPU the loaded host did not schedule for
# that long is counted apart, as slow), no deadlock.
# In the TCG test VM, where a kick costs ~100x more, 5,000 per run.
. "$(dirname "$0")/../lib.sh"

kicks=100000
[ "${KVMRUN_SANDBOX:-0}" = 1 ] && kicks=5000
"$BUILD/tests/kvm/kick_storm" "$kicks" 4 1 2 4
