#!/bin/sh
# bad_options.sh: bad --mem, --load, --entry values, unknown options, and
# --check-kvm with an image or a file option.
. "$(dirname "$0")/../lib.sh"

run_kvmrun --mem 12X
expect_status 2
expect_stderr "kvmrun: --mem: '12X' is not a size (expected a number with an optional K, M, G or T suffix, e.g. 128M or 2G)"

run_kvmrun -m 512K
expect_status 2
expect_stderr "kvmrun: --mem: '512K' is too small (at least 1M is needed)"

run_kvmrun -m 1025K
expect_status 2
expect_stderr "kvmrun: --mem: '1025K' is not a multiple of 4K"

run_kvmrun -m 99999999999T
expect_status 2
expect_stderr "kvmrun: --mem: '99999999999T' is too large"

run_kvmrun --load 0x1000zz "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: --load: '0x1000zz' is not a number"

run_kvmrun --entry 0x100000 "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: real-mode entry 0x100000 is not below 1 MiB"

run_kvmrun --entry 0x10000000 "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: entry point 0x10000000 is outside guest memory (128 MiB)"

run_kvmrun --bogus
expect_status 2
expect_stderr "kvmrun: unknown option '--bogus' (see kvmrun --help)"

run_kvmrun --help
expect_status 0
grep -q '^Exit status:' "$OUT" || fail "--help lacks the exit statuses"

run_kvmrun --version
expect_status 0
expect_stdout "kvmrun 0.1.0"

# --check-kvm runs a guest of its own: an image or a file option with it
# is refused, not ignored.
run_kvmrun --check-kvm "$GUESTS/hello.bin"
expect_status 2
expect_stdout ""
expect_stderr "kvmrun: --check-kvm: cannot be combined with $GUESTS/hello.bin (it runs a test guest of its own)"
for opt in --kernel --initrd --serial --pidfile --api; do
    run_kvmrun --check-kvm "$opt" "$T/x"
    expect_status 2
    expect_stderr "kvmrun: --check-kvm: cannot be combined with $opt (it runs a test guest of its own)"
done
[ ! -e "$T/x" ] || fail "--check-kvm created $T/x"
run_kvmrun --check-kvm -c 2 -m 64
expect_status 0
