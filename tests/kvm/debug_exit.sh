#!/bin/sh
# debug_exit.sh: a write of v to port 0xf4 ends the VM with (v << 1) | 1.
. "$(dirname "$0")/../lib.sh"

run_kvmrun "$GUESTS/debug_exit.bin"
expect_status 85
expect_stdout "exiting with 0x2a"
expect_stderr ""

run_kvmrun --verbose "$GUESTS/debug_exit.bin"
expect_status 85
expect_stderr "kvmrun: guest wrote 0x2a to the debug-exit port: exit status 85"
