#!/bin/sh
# pause_resume.sh: 1,000 pause/resume cycles while each vCPU increments its
# own counter in guest memory: frozen while paused, moving after resume,
# never backwards; with 1, 2 and 4 vCPUs (200 cycles in the TCG test VM).
. "$(dirname "$0")/../lib.sh"

cycles=1000
[ "${KVMRUN_SANDBOX:-0}" = 1 ] && cycles=200
"$BUILD/tests/kvm/pause_resume" "$cycles" 1 2 4
