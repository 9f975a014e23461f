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

# run_kvmrun_bounded SECONDS ARGS...: run_kvmrun for a kvmrun that might
# hang: still running after SECONDS, it is killed and the test fails
# (wait_bounded). Sets PID too.
run_kvmrun_bounded() {
    rkb_s=$1
    shift
    "$KVMRUN" "$@" >"$OUT" 2>"$ERR" </dev/null &
    PID=$!
    wait_bounded "$rkb_s" "kvmrun $*"
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

# expect_refused WANT ARGS...: kvmrun ARGS on hello.bin is refused before
# the guest runs: status 2 (within 20 s), nothing on stdout (hello.bin
# prints as soon as it runs), stderr exactly the line WANT.
expect_refused() {
    er_want=$1
    shift
    run_kvmrun_bounded 20 "$@" "$GUESTS/hello.bin"
    expect_status 2
    expect_stdout ""
    expect_stderr "$er_want"
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
    wff_n=0
    while [ ! -s "$1" ]; do
        wff_n=$((wff_n + 1))
        [ "$wff_n" -gt $(($2 * 100)) ] && return 1
        sleep 0.01
    done
}

# wait_stderr LINE SECONDS: true once a line of $ERR is exactly LINE.
wait_stderr() {
    ws_n=0
    until grep -qxF -- "$1" "$ERR"; do
        ws_n=$((ws_n + 1))
        [ "$ws_n" -gt $(($2 * 100)) ] && return 1
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

# linux_setup: for the tests that boot Linux: sets LINUX_K and LINUX_I to
# the kernel and initramfs tests/check staged, or skips the test (77)
# when they are missing or this host's KVM crawls through a Linux boot
# (tests/linux/probe; the test VM, make check SANDBOX=1, runs them then).
linux_setup() {
    LINUX_K=$BUILD/linux/vmlinuz
    LINUX_I=$BUILD/linux/initrd.gz
    if [ ! -f "$LINUX_K" ] || [ ! -f "$LINUX_I" ]; then
        echo "no kernel or initramfs in $BUILD/linux (tests/linux/stage)"
        exit 77
    fi
    # tests/check probes once for all (KVMRUN_LINUX_OK); else probe here.
    if [ "${KVMRUN_SANDBOX:-0}" != 1 ] && [ "${KVMRUN_LINUX_OK:-}" != 1 ] &&
        { [ "${KVMRUN_LINUX_OK:-}" = 0 ] ||
          ! "$ROOT/tests/linux/probe" "$BUILD"; }
    then
        echo "this host's /dev/kvm does not boot Linux within 30 s" \
             "(nested?): make check SANDBOX=1 runs this test in the test VM"
        exit 77
    fi
}

# need_iproute2: skips the test (77) where ip is not iproute2's: busybox's
# (the test VM's) has no tuntap, so the tests that make taps with it run
# natively.
need_iproute2() {
    ip -V 2>/dev/null | grep -q iproute2 ||
        { echo "no iproute2 ip here (ip tuntap): runs where there is one"; exit 77; }
}

# host_tap NAME: a tap NAME with the host's side at 10.0.2.1/24, up, and
# no IPv6 (the kernel's own frames, router solicitations, would only delay
# a guest's ARP exchange).
host_tap() {
    ip tuntap add dev "$1" mode tap || fail "ip tuntap add"
    sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1" 2>/dev/null
    ip addr add 10.0.2.1/24 dev "$1" || fail "ip addr add"
    ip link set "$1" up || fail "ip link set up"
}

# net_setup: for the Linux tests on --net taps, after linux_setup: sets
# LINUX_I to the initramfs with the network tools (failing without it),
# skips the test (77) without /dev/net/tun; brings lo up (the test runs in
# a network namespace of its own, tests/netns.sh).
net_setup() {
    LINUX_I=$BUILD/linux/initrd-net.gz
    [ -f "$LINUX_I" ] || fail "no $LINUX_I (tests/linux/stage makes it)"
    [ -c /dev/net/tun ] || { echo "no /dev/net/tun (modprobe tun)"; exit 77; }
    ip link set lo up
}

# vsock_setup: for the Linux tests on --vsock, after linux_setup: sets
# LINUX_I to the initramfs with the network tools and TOOL to the host's
# vsock_tool, failing when either is missing; skips the test (77) without
# /dev/vhost-vsock, except in the test VM, which must have it.
vsock_setup() {
    LINUX_I=$BUILD/linux/initrd-net.gz
    TOOL=$BUILD/tests/kvm/vsock_tool
    [ -f "$LINUX_I" ] || fail "no $LINUX_I (tests/linux/stage makes it)"
    [ -x "$TOOL" ] || fail "no $TOOL (make)"
    if [ ! -c /dev/vhost-vsock ]; then
        [ "${KVMRUN_SANDBOX:-0}" = 1 ] &&
            fail "no /dev/vhost-vsock in the test VM (tests/sandbox/run loads vhost_vsock)"
        echo "no /dev/vhost-vsock (modprobe vhost_vsock)"
        exit 77
    fi
}

# linux_start OUT NCPUS APPEND...: starts kvmrun on the staged Linux in the
# background, its console in OUT (stderr in $ERR), a line typed at the
# init's prompt (tests/linux/type-at-prompt). Sets PID (kvmrun's) and
# TYPER.
linux_start() {
    lout=$1 lcpus=$2
    shift 2
    rm -f "$T/pid" "$T/console"
    : >"$lout"
    mkfifo "$T/console"
    "$ROOT/tests/linux/type-at-prompt" "$lout" >"$T/console" &
    TYPER=$!
    "$KVMRUN" -v --pidfile "$T/pid" -c "$lcpus" -m 256M -k "$LINUX_K" \
        -i "$LINUX_I" -a "console=ttyS0 quiet panic=-1 $*" \
        <"$T/console" >"$lout" 2>"$ERR" &
    PID=$!
    wait_for_file "$T/pid" 20 || fail "kvmrun never started the guest"
}

# wait_bounded SECONDS WHAT: waits for $PID, at most SECONDS; sets STATUS.
# A kvmrun still running then is asked for its --verbose report of every
# vCPU (SIGUSR2), killed, the command in WB_HANG (if any) is run, and the
# test fails saying WHAT did not end.
wait_bounded() {
    wb_n=0
    while kill -0 "$PID" 2>/dev/null && [ "$wb_n" -lt "$(($1 * 10))" ]; do
        sleep 0.1
        wb_n=$((wb_n + 1))
    done
    if kill -0 "$PID" 2>/dev/null; then
        kill -USR2 "$PID"
        sleep 3
        kill -KILL "$PID" 2>/dev/null
        reap_bounded "$PID"
        eval "${WB_HANG:-:}"
        fail "$2: kvmrun still running after $1 s"
    fi
    wait "$PID"
    STATUS=$?
}

# reap_bounded PID: reaps a process sent SIGKILL, waiting at most 10 s:
# one stuck in the kernel (uninterruptible, e.g. in a nested KVM_RUN) is
# described (state, wait channel, kernel stacks) and left, so that the
# test fails instead of hanging the suite.
reap_bounded() {
    rb_n=0
    while [ -e "/proc/$1" ] && [ "$rb_n" -lt 100 ]; do
        rb_state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
        [ "$rb_state" = Z ] && break
        sleep 0.1
        rb_n=$((rb_n + 1))
    done
    if [ -e "/proc/$1" ] && [ "$rb_state" != Z ]; then
        echo "pid $1 survives SIGKILL (state $rb_state):"
        for rb_t in /proc/"$1"/task/*; do
            echo "  task $(cat "$rb_t/comm" 2>/dev/null):" \
                "wchan $(cat "$rb_t/wchan" 2>/dev/null)"
            sed 's/^/    /' "$rb_t/stack" 2>/dev/null | head -n 12
        done
        return 1
    fi
    wait "$1" 2>/dev/null
    return 0
}

# linux_wait: waits for the kvmrun linux_start started (at most
# LINUX_TIMEOUT seconds, 240 by default: a boot takes 5-10 s in the test
# VM); sets STATUS and strips the console's \r from the output file. A
# boot that hangs fails the test with kvmrun's report of where every vCPU
# and the UART were (a pause with --verbose).
linux_wait() {
    WB_HANG=linux_done
    wait_bounded "${LINUX_TIMEOUT:-240}" "the guest hung"
    WB_HANG=
    linux_done
}

# The typer, still waiting for a prompt that never came, goes; the
# console's \r go from the output.
linux_done() {
    kill "$TYPER" 2>/dev/null
    wait "$TYPER" 2>/dev/null
    tr -d '\r' <"$lout" >"$T/lout" && mv "$T/lout" "$lout"
}

# hold_vcpu: holds kvmrun's ($PID's) thread vcpu0 stopped (ptrace, through
# tests/kvm/hold_thread) while $T/hold exists, so that it cannot
# acknowledge a kick; sets HOLDER. `rm -f "$T/hold"` lets it go. Skips the
# test (77) where ptrace is not allowed.
hold_vcpu() {
    n=0
    until VCPU=$(grep -lx vcpu0 /proc/"$PID"/task/*/comm 2>/dev/null); do
        n=$((n + 1))
        [ "$n" -le 500 ] || { kill -KILL "$PID"; fail "no vcpu0 thread"; }
        sleep 0.01
    done
    VCPU=${VCPU%/comm}
    VCPU=${VCPU##*/}
    touch "$T/hold"
    "$BUILD/tests/kvm/hold_thread" "$VCPU" "$T/hold" >"$T/hold.out" &
    HOLDER=$!
    n=0
    until grep -q held "$T/hold.out" 2>/dev/null; do
        n=$((n + 1))
        if ! kill -0 "$HOLDER" 2>/dev/null; then
            wait "$HOLDER"
            [ $? = 77 ] && { kill -KILL "$PID"; echo "ptrace is not allowed here"; exit 77; }
            kill -KILL "$PID"
            fail "hold_thread failed"
        fi
        [ "$n" -le 500 ] || { kill -KILL "$PID" "$HOLDER"; fail "the vCPU thread was never held"; }
        sleep 0.01
    done
}

# gdb_start ARGS...: kvmrun --gdb tcp:0 ARGS in the background (stdout
# and stderr to $OUT and $ERR); sets PID and GDB_PORT, the port it took.
# Without Debian's gdb the test is skipped (status 77).
gdb_start() {
    command -v gdb >/dev/null || { echo "SKIP: no gdb (apt-get install gdb)"; exit 77; }
    : >"$ERR" # now: the background's redirection may come after the sed
    "$KVMRUN" --gdb tcp:0 "$@" >"$OUT" 2>"$ERR" </dev/null &
    PID=$!
    gs_n=0
    until GDB_PORT=$(sed -n 's/^kvmrun: gdb: listening on tcp:127\.0\.0\.1:\([0-9]*\).*/\1/p' "$ERR") &&
        [ -n "$GDB_PORT" ]; do
        gs_n=$((gs_n + 1))
        [ "$gs_n" -gt 2000 ] && fail "kvmrun --gdb never said where it listens"
        kill -0 "$PID" 2>/dev/null || fail "kvmrun --gdb ended at once"
        sleep 0.01
    done
}

# gdb_run GDB-ARGS...: gdb in batch mode on dbg64.elf's symbols against
# the kvmrun of gdb_start (GDB_ELF: another ELF, or empty for none),
# bounded at 60 s; its output in $T/gdb.out.
gdb_run() {
    timeout 60 gdb -batch -nx -ex "set pagination off" \
        -ex "target remote 127.0.0.1:$GDB_PORT" "$@" ${GDB_ELF-"$GUESTS/dbg64.elf"} \
        >"$T/gdb.out" 2>&1
}

# expect_gdb REGEX: a line of gdb's output matches.
expect_gdb() {
    grep -qE -- "$1" "$T/gdb.out" || {
        echo "--- gdb:"; cat "$T/gdb.out"; fail "gdb did not say: $1"; }
}
