#!/bin/sh
# pause_stuck.sh: a pause that times out on a vCPU held in a device
# handler leaves the pause requested and the VM running; a waiting pause
# is superseded by a resume; the stuck vCPU pauses once released; the
# control socket replies ETIMEDOUT and goes on (pause_stuck.c).
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/pause_stuck"
