#!/bin/sh
# rep_io.sh: rep outsb and rep insb on a fixed port, data pointer moving.
. "$(dirname "$0")/../lib.sh"

line=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-
i=0
: >"$T/expected"
while [ $i -lt 64 ]; do echo "$line" >>"$T/expected"; i=$((i + 1)); done
# 64 reads of the line-status register, each 0x60 (transmitter empty).
printf '%064d\n' 0 | tr 0 '`' >>"$T/expected"

run_kvmrun "$GUESTS/rep_io.bin"
expect_status 0
expect_stderr ""
cmp "$T/expected" "$OUT" || fail "rep outsb/insb output differs"
