#!/bin/sh
# stop_during_io.sh: SIGUSR1 lands while the guest streams rep outsb to the
# UART: the output up to the stop is an exact prefix of 0, 1, ..., 255
# repeated: no byte lost or duplicated. Many rounds, random moments.
. "$(dirname "$0")/../lib.sh"

# 256 bytes 0..255, doubled up to 4 MiB.
i=0
while [ $i -lt 256 ]; do
    printf "\\$(printf %03o $i)"
    i=$((i + 1))
done >"$T/pattern"
i=0
while [ $i -lt 14 ]; do
    cat "$T/pattern" "$T/pattern" >"$T/p2" && mv "$T/p2" "$T/pattern"
    i=$((i + 1))
done

ROUNDS=${ROUNDS:-20}
i=0
while [ $i -lt "$ROUNDS" ]; do
    i=$((i + 1))
    start_kvmrun --serial "$T/out" "$GUESTS/rep_stream.bin"
    sleep_ms "$(random_ms 30)"
    stop_kvmrun USR1
    expect_status 0
    expect_stderr "kvmrun: stopped by SIGUSR1"
    size=$(wc -c <"$T/out")
    [ "$size" -le 4194304 ] || fail "more output than the pattern covers"
    cmp -n "$size" "$T/out" "$T/pattern" >/dev/null ||
        fail "round $i: output is not a prefix of the stream ($size bytes)"
done
