#!/bin/sh
# serial_output.sh: UART output reaches stdout, or the --serial file only.
. "$(dirname "$0")/../lib.sh"

run_kvmrun "$GUESTS/hello.bin"
expect_status 0
expect_stdout "hello from a raw guest"
expect_stderr ""

echo "stale content that must be truncated" >"$T/serial.txt"
run_kvmrun --serial "$T/serial.txt" "$GUESTS/hello.bin"
expect_status 0
[ ! -s "$OUT" ] || fail "output leaked to stdout with --serial"
printf 'hello from a raw guest\n' | cmp -s - "$T/serial.txt" ||
    fail "--serial file does not hold exactly the guest's output"

run_kvmrun --serial "$T/no/such/dir/out.txt" "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: --serial $T/no/such/dir/out.txt: No such file or directory"
