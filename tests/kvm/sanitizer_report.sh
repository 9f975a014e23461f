#!/bin/sh
# sanitizer_report.sh: in a sanitizer build (make check SANITIZE=1), a
# UBSan or ASan report from a vCPU thread, under kvmrun's seccomp filters,
# reaches stderr whole (symbolized) instead of a SIGSYS line that hides
# it. KVMRUN_TEST_SANITIZER makes kvmrun commit the error on purpose when
# the guest touches an unclaimed port (cli/sigsys.c: sanitizer builds
# only). Skipped in other builds.
. "$(dirname "$0")/../lib.sh"

grep -q __asan_init "$KVMRUN" || {
    echo "not a sanitizer build (make check SANITIZE=1 runs this)"
    exit 77
}

# report KIND TEXT: the error of KIND is reported with TEXT, the sanitizer
# ends kvmrun (its exit code 1), and no system call was blocked.
report() {
    KVMRUN_TEST_SANITIZER=$1 run_kvmrun "$GUESTS/unclaimed.bin"
    grep -q 'seccomp: blocked' "$ERR" && fail "$1: the filters blocked the report"
    grep -q -- "$2" "$ERR" || fail "$1: no '$2' on stderr"
    expect_status 1
}

report ubsan 'cli/sigsys.c:[0-9]*:[0-9]*: runtime error: signed integer overflow'
report asan 'ERROR: AddressSanitizer: heap-buffer-overflow'
grep -q '#0 0x[0-9a-f]* in sigsys_sanitizer_test cli/sigsys.c:[0-9]*' "$ERR" ||
    fail "asan: the report's stack is not symbolized"
