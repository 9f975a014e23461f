#!/bin/sh
# smp.sh: --cpus N runs N vCPU threads; each starts at the entry with
# DI = its index and SI = N, and prints them; vCPU-count errors are clear.
. "$(dirname "$0")/../lib.sh"

for n in 1 2 4 8; do
    run_kvmrun --cpus "$n" "$GUESTS/smp_hello.bin"
    expect_status 0
    sort "$OUT" >"$T/got"
    i=0
    : >"$T/want"
    while [ $i -lt "$n" ]; do
        printf 'vcpu %02x of %02x\n' $i "$n" >>"$T/want"
        i=$((i + 1))
    done
    cmp -s "$T/want" "$T/got" || fail "--cpus $n: wrong vCPU lines"
done

run_kvmrun --cpus 0 "$GUESTS/smp_hello.bin"
expect_status 2
expect_stderr "kvmrun: --cpus: '0' is not a vCPU count (1 or more)"

run_kvmrun -c 100000 "$GUESTS/smp_hello.bin"
expect_status 2
grep -q "^kvmrun: 100000 vCPUs requested: this host's KVM allows at most [0-9]* per VM (KVM_CAP_MAX_VCPUS)\$" "$ERR" ||
    fail "no KVM_CAP_MAX_VCPUS error"
