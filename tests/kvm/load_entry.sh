#!/bin/sh
# load_entry.sh: --load and --entry place and start a raw image; above
# 64 KiB the real-mode segments take the address's upper bits.
. "$(dirname "$0")/../lib.sh"

# hello.bin is linked at offset 0x1000: at 0x21000 it runs with CS = DS =
# SS = 0x2000 and IP = 0x1000.
run_kvmrun --load 0x21000 "$GUESTS/hello.bin"
expect_status 0
expect_stdout "hello from a raw guest"

# An explicit entry equal to the load address changes nothing.
run_kvmrun --load 0x1000 --entry 0x1000 "$GUESTS/hello.bin"
expect_status 0
expect_stdout "hello from a raw guest"

# Entering 3 bytes in skips hello's first instruction (mov $msg, %si):
# SI stays 0 and the guest prints the empty string at 0:0 instead.
run_kvmrun --entry 0x1003 "$GUESTS/hello.bin"
expect_status 0
[ ! -s "$OUT" ] || fail "--entry ignored: the greeting was printed"
