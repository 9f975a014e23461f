#!/bin/sh
# option_numbers.sh: every number on kvmrun's command line is decimal,
# a leading 0 too (-c 010 is ten vCPUs, as -m 010 is 10 MiB), or hex
# after 0x; never octal.
. "$(dirname "$0")/../lib.sh"

# vcpus_seen N: smp_hello's lines name N vCPUs, 0..N-1, "of N" (hex).
vcpus_seen() {
    sort "$OUT" >"$T/got"
    : >"$T/want"
    i=0
    while [ $i -lt "$1" ]; do
        printf 'vcpu %02x of %02x\n' $i "$1" >>"$T/want"
        i=$((i + 1))
    done
    cmp -s "$T/want" "$T/got" || fail "not $1 vCPUs: $(cat "$T/got")"
}

run_kvmrun -c 010 "$GUESTS/smp_hello.bin"
expect_status 0
vcpus_seen 10
run_kvmrun -c 09 "$GUESTS/smp_hello.bin"
expect_status 0
vcpus_seen 9
run_kvmrun -c 0x3 "$GUESTS/smp_hello.bin"
expect_status 0
vcpus_seen 3

# The image at 04096 = 4096 = 0x1000, where it was linked.
run_kvmrun --load 04096 --entry 0x1000 "$GUESTS/hello.bin"
expect_status 0
expect_stdout "hello from a raw guest"

# -m in hex too: 0x1 is 1 MiB.
run_kvmrun -m 0x1 "$GUESTS/hello.bin"
expect_status 0
run_kvmrun -m 0x0 "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: --mem: '0x0' is too small (at least 1M is needed)"

run_kvmrun -c 0x "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: --cpus: '0x' is not a number"
exit 0
