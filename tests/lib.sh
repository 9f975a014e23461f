# tests/lib.sh: helpers sourced by the KVM test scripts (POSIX sh).
#
# KVMRUN_BUILD names the build directory (default: build). Each test runs
# kvmrun with run_kvmrun, then checks its status, stdout and stderr.

set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${KVMRUN_BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
KVMRUN=$BUILD/kvmrun
GUESTS=$BUILD/guests
EXAMPLES=$BUILD/examples
T=$(mktemp -d "${TMPDIR:-/tmp}/kvmrun-t.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
OUT=$T/stdout
ERR=$T/stderr
STATUS=

fail() {
    echo "FAILED: $*"
    echo "--- stdout:"; cat "$OUT" 2>/dev/null
    echo "--- stderr:"; cat "$ERR" 2>/dev/null
    exit 1
}

# run_kvmrun ARGS...: runs kvmrun, keeping stdout, stderr and the status.
run_kvmrun() {
    "$KVMRUN" "$@" >"$OUT" 2>"$ERR"
    STATUS=$?
}

expect_status() {
    [ "$STATUS" = "$1" ] || fail "expected exit status $1, got $STATUS"
}

# expect_file FILE TEXT: FILE holds exactly TEXT plus a final newline, or
# nothing at all when TEXT is empty.
expect_file() {
    if [ -z "$2" ]; then : >"$T/want"; else printf '%s\n' "$2" >"$T/want"; fi
    cmp -s "$T/want" "$1"
}

# expect_stdout TEXT, expect_stderr TEXT: the whole of stdout or stderr.
expect_stdout() {
    expect_file "$OUT" "$1" || fail "stdout is not: ${1:-(empty)}"
}

expect_stderr() {
    expect_file "$ERR" "$1" || fail "stderr is not: ${1:-(empty)}"
}

# expect_stderr_first LINE: the first line of stderr is exactly LINE.
expect_stderr_first() {
    [ "$(head -n 1 "$ERR")" = "$1" ] || fail "stderr does not start: $1"
}

# count_lines FILE TEXT: how many lines of FILE are exactly TEXT.
count_lines() {
    grep -cxF -- "$2" "$1"
}

# wait_for_file FILE SECONDS: true once FILE exists and is not empty.
wait_for_file() {
    n=0
    while [ ! -s "$1" ]; do
        n=$((n + 1))
        [ "$n" -gt $(($2 * 100)) ] && return 1
        sleep 0.01
    done
}

# start_kvmrun ARGS...: starts kvmrun in the background with a pidfile
# (stdout and stderr to $OUT and $ERR) and waits until the guest runs, so
# a signal sent then reaches kvmrun's own handling. Sets PID.
start_kvmrun() {
    rm -f "$T/pid"
    "$KVMRUN" --pidfile "$T/pid" "$@" >"$OUT" 2>"$ERR" &
    PID=$!
    wait_for_file "$T/pid" 20 || fail "kvmrun $* never started the guest"
    [ "$(cat "$T/pid")" = "$PID" ] || fail "the pidfile holds the wrong pid"
}

# stop_kvmrun SIGNAL: sends SIGNAL to the kvmrun started last, waits for
# it and keeps its status.
stop_kvmrun() {
    kill -s "$1" "$PID"
    wait "$PID"
    STATUS=$?
}

# random_ms MAX: a random number of milliseconds in [0, MAX).
random_ms() {
    echo $(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % $1 ))
}

# sleep_ms N: sleeps N milliseconds.
sleep_ms() {
    sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
}
