#!/bin/sh
# kick_protocol_broken.sh: the storm must catch a broken protocol. The
# kick_storm_broken build clears immediate_exit after draining requests
# instead of before (-DKICK_TEST_CLEAR_AFTER_DRAIN): a kick that lands in
# between is lost, and the storm has to say so and fail.
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/kick_storm_broken" 100000 4 1 >"$OUT" 2>"$ERR"
STATUS=$?
expect_status 1
grep -q '^kick_storm: a kick to vcpu0 was lost: it ran its guest' "$ERR" ||
    fail "the broken protocol was not caught"
[ "$(tail -n 1 "$OUT")" = "kick_storm: LOST KICKS" ] || fail "no verdict"
