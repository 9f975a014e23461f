#!/bin/sh
# pause_storm.sh: threads pause, resume and toggle one busy SMP VM at
# random through the library for a few seconds: no request times out, the
# target is the last request's, the vCPUs are frozen or moving to match.
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/pause_storm" 3 2 4 &&
    "$BUILD/tests/kvm/pause_storm" 2 4 3
