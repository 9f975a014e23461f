#!/bin/sh
# option_spellings.sh: QEMU's, Firecracker's, cloud-hypervisor's,
# firectl's and kvmtool's spellings get kvmrun's own as the answer (not
# getopt's reading: "-kernel X" was -k "ernel", "-smp" an unknown -s),
# only where an option stands; getopt's own errors start with "kvmrun:";
# --append or --initrd without a kernel is refused, not ignored. Nothing
# runs: status 2, stdout empty.
. "$(dirname "$0")/../lib.sh"

# refused LINE ARGS...: kvmrun ARGS exits 2 with LINE alone on stderr.
refused() {
    want=$1
    shift
    run_kvmrun "$@"
    expect_status 2
    expect_stdout ""
    expect_stderr "$want"
}

refused "kvmrun: -kernel is QEMU's spelling: use -k/--kernel" \
    -kernel "$T/vmlinuz" -m 256
refused "kvmrun: -append is QEMU's spelling: use -a/--append" \
    -k "$T/vmlinuz" -append "console=ttyS0"
refused "kvmrun: -initrd is QEMU's spelling: use -i/--initrd" \
    -k "$T/vmlinuz" -initrd "$T/initrd"
refused "kvmrun: -smp is QEMU's spelling: use -c/--cpus N" -smp 2
refused "kvmrun: -serial is QEMU's spelling: use --serial FILE for the output (stdio is the default)" \
    -serial stdio
refused "kvmrun: -nographic is QEMU's option, not needed: the guest's serial console is on stdin and stdout" \
    -m 128 -nographic
refused "kvmrun: -enable-kvm is QEMU's option, not needed: kvmrun always runs on KVM" \
    -enable-kvm
refused "kvmrun: -machine is QEMU's option, not needed: kvmrun has one machine (kvmrun --help lists it)" \
    -machine microvm
refused "kvmrun: -cpu is QEMU's option, not needed: the guest gets this host's CPUID, as with -cpu host (-c/--cpus N sets the vCPU count)" \
    -cpu host
refused "kvmrun: -drive is QEMU's spelling: use --disk PATH[,ro][,serial=ID]" \
    -drive file=x.img
refused "kvmrun: --api-sock is Firecracker's spelling: use --api PATH (kvmrun ctl is its client)" \
    --api-sock "$T/fc.sock"
refused "kvmrun: --api-sock is Firecracker's spelling: use --api PATH (kvmrun ctl is its client)" \
    --api-sock="$T/fc.sock"
refused "kvmrun: --kernel-opts is firectl's spelling: use -a/--append" \
    --kernel-opts=quiet
refused "kvmrun: --cmdline is cloud-hypervisor's spelling: use -a/--append" \
    --cmdline quiet
refused "kvmrun: -p is kvmtool's spelling: use -a/--append" -p quiet
[ ! -e "$T/fc.sock" ] || fail "a refused --api-sock made $T/fc.sock"

# An option's argument is not an option: -a "-nographic" is a command
# line (refused here for want of a kernel), --serial -kernel a file name.
refused "kvmrun: --append applies to Linux and multiboot kernels only; give one with -k/--kernel" \
    -a -nographic
refused "kvmrun: --initrd applies to Linux and multiboot kernels only; give one with -k/--kernel" \
    --initrd -smp
run_kvmrun_bounded 10 --serial "$T/-kernel" "$GUESTS/hello.bin"
expect_status 0
grep -q . "$T/-kernel" || fail "--serial -kernel: no output in $T/-kernel"
rm -f "$T/-kernel"
# kvmrun's own short options still take their argument in the same word.
run_kvmrun_bounded 10 -c2 -m64 "$GUESTS/smp_hello.bin"
expect_status 0

# getopt's errors, in kvmrun's words.
refused "kvmrun: unknown option '--bogus' (see kvmrun --help)" --bogus
refused "kvmrun: unknown option '-x' (see kvmrun --help)" -vx
refused "kvmrun: -m needs an argument (see kvmrun --help)" -m
refused "kvmrun: --mem needs an argument (see kvmrun --help)" --mem
refused "kvmrun: --verbose takes no argument (got '--verbose=1')" --verbose=1
refused "kvmrun: ambiguous option '--mod': --mode, --module" --mod x
exit 0
