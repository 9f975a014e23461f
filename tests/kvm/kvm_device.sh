#!/bin/sh
# kvm_device.sh: a missing or wrong KVM device is a one-line error with
# what to do; an empty KVMRUN_DEVICE is unset; --check-kvm proves KVM works.
. "$(dirname "$0")/../lib.sh"

KVMRUN_DEVICE=$T/kvm run_kvmrun "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: cannot open $T/kvm: No such file or directory: KVM is not available: load the kvm-intel or kvm-amd module and enable virtualization (VT-x/AMD-V) in the firmware or hypervisor"

KVMRUN_DEVICE=/dev/null run_kvmrun "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: /dev/null is not a KVM device (KVM_GET_API_VERSION: Inappropriate ioctl for device)"

run_kvmrun --check-kvm
expect_status 0
expect_stdout "kvmrun: /dev/kvm is usable"

# An empty KVMRUN_DEVICE is unset: /dev/kvm, not a file named "".
KVMRUN_DEVICE= run_kvmrun --check-kvm
expect_status 0
expect_stdout "kvmrun: /dev/kvm is usable"
