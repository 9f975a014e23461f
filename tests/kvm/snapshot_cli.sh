#!/bin/sh
# snapshot_cli.sh: kvmrun --restore continues a saved counter guest where
# it stopped (no gap, no repeat), and refuses a truncated, corrupted,
# foreign, newer or missing snapshot, or --restore with a guest or
# machine option: one line on stderr, status 2, the guest never runs.
. "$(dirname "$0")/../lib.sh"

"$BUILD/tests/kvm/snapshot" save "$T/c.snap" "$T/prefix" ||
    fail "could not make a snapshot"
seq 0 4999 >"$T/seq"

run_kvmrun --restore "$T/c.snap"
expect_status 0
expect_stderr ""
cat "$T/prefix" "$OUT" | cmp -s - "$T/seq" ||
    fail "saved output + restored output is not 0..4999"

# Restoring twice gives the same run; --serial works as usual.
run_kvmrun --restore "$T/c.snap" --serial "$T/serial"
expect_status 0
expect_stdout ""
cat "$T/prefix" "$T/serial" | cmp -s - "$T/seq" ||
    fail "the second restore (--serial) did not continue the sequence"

# refuse FILE LINE: status 2, exactly LINE on stderr, no guest output.
refuse() {
    run_kvmrun --restore "$1"
    expect_status 2
    expect_stdout ""
    expect_stderr "$2"
}

# set_byte FILE OFFSET VALUE: overwrites one byte (VALUE in decimal).
set_byte() {
    # shellcheck disable=SC2059
    printf "\\$(printf %o "$3")" |
        dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

size=$(wc -c <"$T/c.snap")
head -c 5000 "$T/c.snap" >"$T/trunc.snap"
refuse "$T/trunc.snap" "kvmrun: $T/trunc.snap: truncated or corrupted: no end marker at the end of its 5000 bytes"
head -c $((size - 1)) "$T/c.snap" >"$T/trunc1.snap"
refuse "$T/trunc1.snap" "kvmrun: $T/trunc1.snap: truncated or corrupted: no end marker at the end of its $((size - 1)) bytes"
head -c 30 "$T/c.snap" >"$T/short.snap"
refuse "$T/short.snap" "kvmrun: $T/short.snap: truncated: 30 bytes, the header alone is 56"

cp "$T/c.snap" "$T/flip.snap"
old=$(od -An -tu1 -j 1000 -N 1 "$T/flip.snap" | tr -d ' ')
set_byte "$T/flip.snap" 1000 $((old ^ 1))
run_kvmrun --restore "$T/flip.snap"
expect_status 2
expect_stdout ""
[ "$(wc -l <"$ERR")" = 1 ] || fail "more than one line on stderr"
grep -q "^kvmrun: $T/flip.snap: checksum mismatch (stored [0-9a-f]*, computed [0-9a-f]*): the file is corrupted$" "$ERR" ||
    fail "a flipped byte is not reported as a checksum mismatch"

cp "$T/c.snap" "$T/magic.snap"
set_byte "$T/magic.snap" 0 88
refuse "$T/magic.snap" "kvmrun: $T/magic.snap: not a kvmrun snapshot (no KVMRSNAP magic)"

cp "$T/c.snap" "$T/version.snap"
set_byte "$T/version.snap" 8 1
refuse "$T/version.snap" "kvmrun: $T/version.snap: snapshot format version 1 (kvmrun 0.1.0); this kvmrun (0.1.0) reads version 2"

refuse "$T/missing.snap" "kvmrun: $T/missing.snap: No such file or directory"
: >"$T/empty.snap"
refuse "$T/empty.snap" "kvmrun: $T/empty.snap: not a kvmrun snapshot (no KVMRSNAP magic)"
refuse "$T" "kvmrun: $T: is a directory, not a regular file"
refuse "$GUESTS/counter.bin" "kvmrun: $GUESTS/counter.bin: not a kvmrun snapshot (no KVMRSNAP magic)"

# The snapshot gives the machine: no guest or machine options with it.
run_kvmrun --restore "$T/c.snap" -m 64
expect_status 2
expect_stdout ""
expect_stderr "kvmrun: --restore $T/c.snap: cannot be combined with --mem (the snapshot holds the guest, its memory and vCPUs)"
run_kvmrun --restore "$T/c.snap" -c 2
expect_status 2
expect_stderr "kvmrun: --restore $T/c.snap: cannot be combined with --cpus (the snapshot holds the guest, its memory and vCPUs)"
run_kvmrun --restore "$T/c.snap" "$GUESTS/hello.bin"
expect_status 2
expect_stderr "kvmrun: --restore $T/c.snap: cannot be combined with $GUESTS/hello.bin (the snapshot holds the guest, its memory and vCPUs)"
run_kvmrun --restore "$T/c.snap" --kernel "$GUESTS/mode32.elf"
expect_status 2
expect_stderr "kvmrun: --restore $T/c.snap: cannot be combined with --kernel (the snapshot holds the guest, its memory and vCPUs)"
exit 0
