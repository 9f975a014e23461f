#!/bin/sh
# unclaimed.sh: unclaimed port and MMIO accesses read all ones, are
# reported once per address, and the guest goes on.
. "$(dirname "$0")/../lib.sh"

run_kvmrun --mem 1M "$GUESTS/unclaimed.bin"
expect_status 0
expect_stdout "port 0x99 reads ff, MMIO 0x100000 reads ff"
expect_stderr "kvmrun: vcpu0: unclaimed port 0x99 read (1 byte): ignored, reads as all ones
kvmrun: vcpu0: unclaimed MMIO 0x100000 write (1 byte): ignored"
