#!/bin/sh
# dummy_device.sh: a device added to the machine table alone (a test-only
# build, tests/devices/dummy.c) is created, started, quiesced, saved,
# restored and torn down with the rest (tests/kvm/dummy_device.c); a
# snapshot of either machine is refused by the other, naming the device.
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/snapshot" save "$T/usual.snap" "$T/prefix" >/dev/null ||
    fail "could not make a snapshot of the usual machine"
KVMRUN_BUILD=$BUILD "$BUILD/tests/kvm/dummy_device" "$T" "$T/usual.snap" ||
    fail "the dummy device was not handled as the table says"

run_kvmrun --restore "$T/dummy.snap"
expect_status 2
expect_stdout ""
expect_stderr "kvmrun: $T/dummy.snap: a section for device dummy, which this machine does not have (restore with the device options the VM was started with)"
exit 0
