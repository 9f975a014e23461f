#!/bin/sh
# image_too_big.sh: images that do not fit in guest memory are refused.
. "$(dirname "$0")/../lib.sh"

head -c 2097152 /dev/zero >"$T/big.bin"
run_kvmrun --mem 1M "$T/big.bin"
expect_status 2
expect_stderr "kvmrun: $T/big.bin: 2097152 bytes do not fit in guest memory (1 MiB)"

head -c 8192 /dev/zero >"$T/8k.bin"
run_kvmrun --mem 1M --load 0xff000 "$T/8k.bin"
expect_status 2
expect_stderr "kvmrun: $T/8k.bin: 8192 bytes at 0xff000 do not fit in guest memory (1 MiB)"

# An image ending on the last byte of RAM fits: 4 KiB at 0xff000 of 1 MiB
# starting with mov $0x2a, %al; out %al, $0xf4 (debug exit: status 85).
{ printf '\260\052\346\364'; head -c 4092 /dev/zero; } >"$T/last4k.bin"
run_kvmrun --mem 1M --load 0xff000 "$T/last4k.bin"
expect_status 85

: >"$T/empty.bin"
run_kvmrun "$T/empty.bin"
expect_status 2
expect_stderr "kvmrun: $T/empty.bin: empty image"
