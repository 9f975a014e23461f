#!/bin/sh
# note_immediate_exit.sh: the note's first demo: KVM_RUN with
# immediate_exit = 1 returns -EINTR at once; a spinning guest is kicked out.
. "$(dirname "$0")/../lib.sh"

"$EXAMPLES/immediate_exit" >"$OUT" 2>"$ERR" || fail "status $?"
grep -q '^KVM_RUN with immediate_exit=1 returned -EINTR at once.*rip is still 0x1000$' "$OUT" ||
    fail "no immediate -EINTR"
[ "$(tail -n 1 "$OUT")" = "immediate_exit: ok" ] || fail "not ok"
