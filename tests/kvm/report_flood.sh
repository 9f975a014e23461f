#!/bin/sh
# report_flood.sh: a guest that makes kvmrun report as fast as it can (300
# unclaimed ports, then 100,000 power-offs with an unsupported sleep type)
# gets a bounded number of lines on stderr: at most 10 every 5 s, plus
# one counting those suppressed. Every report is printed or counted.
. "$(dirname "$0")/../lib.sh"

start=$(date +%s)
"$KVMRUN" "$GUESTS/report_flood.bin" >"$OUT" 2>"$ERR" &
PID=$!
wait_bounded 120 "the flooding guest"
secs=$(($(date +%s) - start))
expect_status 0
expect_stdout ""
lines=$(wc -l <"$ERR")
# 10 lines and a count per 5 s interval begun, and the count at the end.
[ "$lines" -le $((11 * (secs / 5 + 1) + 1)) ] ||
    fail "$lines lines on stderr in $secs s"
[ "$(head -n 1 "$ERR")" = "kvmrun: vcpu0: unclaimed port 0x100 read (1 byte): ignored, reads as all ones" ] ||
    fail "the first report is not the first unclaimed port"
tail -n 1 "$ERR" |
    grep -Eqx 'kvmrun: [0-9]+ more reports caused by the guest suppressed \(at most 10 every 5 s\)' ||
    fail "the last line does not count the suppressed reports"
printed=$(grep -vc ' suppressed ' "$ERR")
counted=$(sed -n 's/^kvmrun: \([0-9]*\) more reports caused by the guest suppressed .*/\1/p' "$ERR" |
    awk '{ n += $1 } END { print n + 0 }')
# 256 ports, "more than 256 unclaimed port addresses", 100,000 writes.
[ $((printed + counted)) -eq 100257 ] ||
    fail "$printed reports printed and $counted counted, not 100257"
exit 0
