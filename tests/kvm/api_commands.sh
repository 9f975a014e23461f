#!/bin/sh
# api_commands.sh: kvmrun --api and kvmrun ctl: every command on a running
# two-vCPU guest (status, pause, resume, regs, stats, snapshot, stop), its
# readable and --json output and exit status, the socket's mode, and its
# removal on every exit path.
. "$(dirname "$0")/../lib.sh"

S=$T/vm.sock
CO=$T/ctl.out
CE=$T/ctl.err

# ctl ARGS...: runs kvmrun ctl, keeping its output and status in CST.
ctl() {
    "$KVMRUN" ctl "$@" >"$CO" 2>"$CE"
    CST=$?
}

# ctl_expect STATUS ARGS...: ctl, failing unless it exits with STATUS.
ctl_expect() {
    want=$1
    shift
    ctl "$@"
    [ "$CST" = "$want" ] ||
        fail "kvmrun ctl $*: status $CST, not $want: $(cat "$CO" "$CE")"
}

has_line() { # FILE REGEX
    grep -q -- "$2" "$1" || fail "no line like '$2' in: $(cat "$1")"
}

start_kvmrun -c 2 --no-irqchip --api "$S" "$GUESTS/hlt_loop.bin"
[ -S "$S" ] || fail "no socket at $S"
[ "$(stat -c %a "$S")" = 600 ] || fail "the socket's mode is not 0600"

ctl_expect 0 "$S" status
has_line "$CO" '^state: running$'
has_line "$CO" '^vcpus: 2 (running, running)$'
has_line "$CO" '^memory: 134217728 bytes (128 MiB)$'
has_line "$CO" '^uptime: [0-9]*\.[0-9]* s$'
ctl_expect 0 --json "$S" status
has_line "$CO" '^{"ok":true,"state":"running","vcpus":2,"memory":134217728,"uptime":[0-9.e-]*,"vcpu_states":\["running","running"\],"held_by":\[\]}$'
[ "$(wc -l <"$CO")" = 1 ] || fail "--json printed more than the reply line"

# regs on a running VM, as QEMU's info registers: kvmrun ctl pauses it for
# the read and resumes it, and says so; the VM runs on.
ctl_expect 0 "$S" regs 1
has_line "$CO" '^vcpu1: rip=0x100[01] rflags=0x[0-9a-f]* efer=0x0$'
has_line "$CO" '^(the VM was running: paused for this read, then resumed)$'
ctl_expect 0 --json "$S" regs 0
has_line "$CO" '^{"ok":true,"vcpu":0,.*"rdi":"0x0",.*,"paused_for_read":true}$'
[ "$(wc -l <"$CO")" = 1 ] || fail "--json printed more than the reply line"
ctl_expect 0 "$S" status
has_line "$CO" '^vcpus: 2 (running, running)$'
# Wrong states and bad arguments: error replies, status 1.
# Pause and resume are idempotent: resuming a running VM does nothing.
ctl_expect 0 "$S" resume
has_line "$CO" '^running (took [0-9]* us)$'
ctl_expect 0 --json "$S" resume
has_line "$CO" '^{"ok":true,"state":"running","took_us":[0-9]*,"superseded":false,"held_by":\[\]}$'
ctl_expect 1 "$S" dance
has_line "$CE" '^kvmrun ctl: unknown command "dance" (status, pause, resume, stop, stats, regs, snapshot)$'

ctl_expect 0 "$S" pause
has_line "$CO" '^paused (took [0-9]* us)$'
ctl_expect 0 --json "$S" pause
has_line "$CO" '^{"ok":true,"state":"paused","took_us":[0-9]*,"superseded":false,"held_by":\["user"\]}$'
ctl_expect 0 "$S" status
has_line "$CO" '^vcpus: 2 (paused, paused)$'
ctl_expect 0 --json "$S" status
has_line "$CO" '"state":"paused",.*"held_by":\["user"\]}$'

ctl_expect 0 "$S" regs 1
has_line "$CO" '^vcpu1: rip=0x100[01] rflags=0x[0-9a-f]* efer=0x0$'
has_line "$CO" '^  rsi=0x2 rdi=0x1 rsp=0x1000 rbp=0x0$'
has_line "$CO" '^  cs: selector=0x0 base=0x0 limit=0xffff$'
ctl_expect 0 "$S" regs
has_line "$CO" '^vcpu0: rip='
has_line "$CO" '^  rsi=0x2 rdi=0x0 '
ctl_expect 0 --json "$S" regs 0
has_line "$CO" '"rdi":"0x0".*"cs":{"selector":"0x0","base":"0x0","limit":"0xffff"}.*"cr0":"0x'
ctl_expect 1 "$S" regs 2
has_line "$CE" '^kvmrun ctl: regs: no vcpu 2 (the VM has 2)$'
ctl_expect 2 "$S" regs x
has_line "$CE" "^kvmrun ctl: regs: 'x' is not a vCPU index$"

ctl_expect 0 "$S" stats
for v in 0 1; do
    has_line "$CO" "^vcpu$v: paused, [1-9][0-9]* exits (HLT [1-9][0-9]*), [0-9]* KVM_RUN -EINTR, kicks [0-9]* sent / [0-9]* acknowledged / [0-9]* re-sent, paused [0-9]* times for [0-9.]* s\$"
done
# The kernel's counters, where it has KVM_CAP_BINARY_STATS_FD.
if grep -q 'kernel counters: none' "$CO"; then
    has_line "$CO" '^  kernel counters: none (VM stats: this kernel has no KVM_CAP_BINARY_STATS_FD)$'
else
    has_line "$CO" '^  kernel counters:$'
    has_line "$CO" '^    halt_exits [1-9][0-9]*$'
    has_line "$CO" '^    remote_tlb_flush [0-9]*$'
fi
ctl_expect 0 --json "$S" stats
has_line "$CO" '"vcpus":\[{"vcpu":0,"state":"paused","exits":{"HLT":[0-9]*},"eintr":'

# Snapshot: the client makes the path absolute. kvmrun_vm_snapshot() may
# still be a placeholder: then the error reply must name that path.
ctl_expect 2 "$S" snapshot
has_line "$CE" '^kvmrun ctl: snapshot needs a FILE$'
(cd "$T" && "$KVMRUN" ctl "$S" snapshot vm.snap >"$CO" 2>"$CE")
CST=$?
case $CST in
0) has_line "$CO" "^saved $T/vm.snap (the VM is paused)\$"
   [ -s "$T/vm.snap" ] || fail "snapshot: no file" ;;
1) has_line "$CE" "^kvmrun ctl: $T/vm.snap: " ;;
*) fail "snapshot: status $CST: $(cat "$CE")" ;;
esac
ctl_expect 2 "$S" status now
has_line "$CE" "^kvmrun ctl: status takes no argument (got 'now')\$"

ctl_expect 0 "$S" resume
has_line "$CO" '^running (took [0-9]* us)$'
# Three pauses: the two regs reads on the running VM, then the user's.
ctl_expect 0 "$S" stats
has_line "$CO" '^vcpu1: running, .*, paused 3 times for [0-9.]* s$'
ctl_expect 0 "$S" stop
has_line "$CO" '^stopped (took [0-9]* us)$'
wait "$PID"
STATUS=$?
expect_status 0
expect_stderr "kvmrun: stopped through the control socket"
[ ! -e "$S" ] || fail "the socket is left after stop"
ctl_expect 2 "$S" status
has_line "$CE" "^kvmrun ctl: $S: No such file or directory\$"

# Removed when a signal ends kvmrun, and when the guest ends the VM.
start_kvmrun --api "$S" "$GUESTS/hlt_loop.bin"
ctl_expect 0 "$S" status
stop_kvmrun TERM
expect_status 143
[ ! -e "$S" ] || fail "the socket is left after SIGTERM"
run_kvmrun --api "$S" "$GUESTS/debug_exit.bin"
expect_status 85
[ ! -e "$S" ] || fail "the socket is left after a debug exit"

# A socket left by a killed kvmrun is replaced; other files are refused.
start_kvmrun --api "$S" "$GUESTS/hlt_loop.bin"
kill -KILL "$PID"
wait "$PID"
[ -S "$S" ] || fail "no stale socket after SIGKILL"
start_kvmrun --api "$S" "$GUESTS/hlt_loop.bin"
ctl_expect 0 "$S" status
stop_kvmrun USR1
expect_status 0
: >"$T/file"
run_kvmrun --api "$T/file" "$GUESTS/hlt_loop.bin"
expect_status 2
expect_stderr "kvmrun: --api $T/file: exists and is not a socket"
[ -f "$T/file" ] || fail "--api removed a regular file"

# Usage errors of the client.
ctl_expect 2 "$S"
has_line "$CE" '^kvmrun ctl: usage: kvmrun ctl \[--json\] \[--timeout=SECONDS\] SOCKET COMMAND \[ARG\]'
ctl_expect 2 --yaml "$S" status
has_line "$CE" "^kvmrun ctl: unknown option '--yaml'"
ctl_expect 0 --help
has_line "$CO" '^Usage: kvmrun ctl \[--json\] \[--timeout=SECONDS\] SOCKET COMMAND \[ARG\]$'
