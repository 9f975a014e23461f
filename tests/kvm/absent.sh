#!/bin/sh
# absent.sh: the ports Linux probes at boot where kvmrun has no device (PCI
# configuration, COM2-COM4) read all ones and are not reported, unlike an
# unclaimed port (unclaimed.sh).
. "$(dirname "$0")/../lib.sh"

run_kvmrun "$GUESTS/absent.bin"
expect_status 255
expect_stderr ""
