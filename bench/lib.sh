# bench/lib.sh: what bench/blk, bench/net and bench/vsock share (sourced,
# from the tree's root): the VM's exit counter, the CPU time a VMM used,
# a VM in the background whose console goes to a file, and a median in
# awk.
# shellcheck shell=sh

# The kernel's exit counters: debugfs (mounted here if it is not).
kvmdbg=/sys/kernel/debug/kvm
[ -d "$kvmdbg" ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

# vm_exits PID: the exits of the VM of process PID so far (debugfs
# kvm/PID-FD/exits, the kernel's own count, the same for every VMM; empty
# if the counters cannot be read).
vm_exits() {
    cat "$kvmdbg/$1"-*/exits 2>/dev/null |
        awk '{ n += $1; f = 1 } END { if (f) print n }'
}

# vm_exit_kinds PID: "NAME=N ..." for the kinds of exit and event the
# kernel counts for the VM of process PID (debugfs kvm/PID-FD/: MMIO and
# port I/O exits to the VMM or the kernel's devices, halts, interrupts
# injected, ...), for -v's breakdown; empty without debugfs.
VM_KINDS="exits mmio_exits io_exits halt_exits irq_exits irq_window_exits
request_irq_exits signal_exits irq_injections insn_emulation hypercalls"
vm_exit_kinds() {
    for k in $VM_KINDS; do
        cat "$kvmdbg/$1"-*/"$k" 2>/dev/null |
            awk -v k="$k" '{ n += $1; f = 1 } END { if (f) printf "%s=%d ", k, n }'
    done
}

# vm_kinds_delta BEFORE AFTER: AFTER - BEFORE, kind by kind.
vm_kinds_delta() {
    echo "$1 / $2" | awk '{
        for (i = 1; i <= NF && $i != "/"; i++) { split($i, a, "="); b[a[1]] = a[2] }
        for (i++; i <= NF; i++) { split($i, a, "="); printf "%s=%d ", a[1], a[2] - b[a[1]] }
        print "" }'
}

# vm_idle_rate PID: the VM's exits per second over 2 s in which the
# guest is told nothing (its own timers, the VMM's devices): empty if the
# counters cannot be read.
vm_idle_rate() {
    vi_0=$(vm_exits "$1")
    sleep 2
    vi_1=$(vm_exits "$1")
    [ -n "$vi_0" ] && [ -n "$vi_1" ] && echo $(((vi_1 - vi_0) / 2))
}

# vm_cpu_ms PID: the CPU time (user + system, guest time included, in ms)
# of process PID's threads and of its vhost workers: kernel threads named
# vhost-PID on kernels before 6.4 (from 6.4 on they are the process's own
# threads, counted already). Empty if /proc/PID/stat cannot be read.
vm_cpu_ms() {
    hz=$(getconf CLK_TCK 2>/dev/null) || hz=100
    for s in "/proc/$1/stat" $(grep -lx "vhost-$1" /proc/[0-9]*/comm \
                                   2>/dev/null | sed 's/comm$/stat/'); do
        # The fields after "PID (COMM) ": utime and stime are the 12th and
        # 13th of them.
        sed 's/^.*) //' "$s" 2>/dev/null
    done | awk -v hz="${hz:-100}" '{ t += $12 + $13; f = 1 }
        END { if (f) printf "%d\n", t * 1000 / hz }'
}

# vm_start NAME LIMIT COMMAND...: runs COMMAND (a VMM) in the background,
# stdin /dev/null, its console (stdout) in $tmp/con.NAME and stderr in
# $tmp/err.NAME; VM_PID is its process. A watchdog sends it SIGTERM after
# LIMIT seconds (it ends by itself within a second of the VMM).
vm_start() {
    VM_NAME=$1 vs_limit=$2
    shift 2
    # shellcheck disable=SC2154 # tmp: the sourcing script's directory
    VM_CON=$tmp/con.$VM_NAME VM_ERR=$tmp/err.$VM_NAME
    # There before the VMM's shell opens them: vm_wait reads it at once.
    : >"$VM_CON"
    "$@" </dev/null >"$VM_CON" 2>"$VM_ERR" &
    VM_PID=$!
    (
        n=0
        while [ "$n" -lt "$vs_limit" ] && kill -0 "$VM_PID" 2>/dev/null; do
            sleep 1
            n=$((n + 1))
        done
        kill -TERM "$VM_PID" 2>/dev/null
    ) &
    VM_WD=$!
}

# vm_wait MARK SECONDS: waits for a console line starting with MARK; 1 if
# the guest reported a failure (a line with -FAIL, or its script's
# status), the VMM ended, or SECONDS passed first.
vm_wait() {
    vw_n=0
    while ! grep -q "^$1" "$VM_CON"; do
        grep -q -- "-FAIL \|^KVMRUN-TEST-STATUS " "$VM_CON" && return 1
        kill -0 "$VM_PID" 2>/dev/null || return 1
        vw_n=$((vw_n + 1))
        [ "$vw_n" -le $(($2 * 5)) ] || return 1
        sleep 0.2
    done
}

# vm_stop: ends the VM (SIGTERM, then SIGKILL after 10 s) and its watchdog.
vm_stop() {
    kill -TERM "$VM_PID" 2>/dev/null
    vp_n=0
    while kill -0 "$VM_PID" 2>/dev/null && [ "$vp_n" -lt 50 ]; do
        sleep 0.2
        vp_n=$((vp_n + 1))
    done
    kill -KILL "$VM_PID" 2>/dev/null
    wait "$VM_PID" 2>/dev/null
    kill "$VM_WD" 2>/dev/null
    wait "$VM_WD" 2>/dev/null
}

# vm_tail WHY: WHY, then the console's and stderr's last lines, on stderr.
vm_tail() {
    {
        echo "$1; its console:"
        tr -d '\r' <"$VM_CON" | tail -n 30 | sed 's/^/  | /'
        tail -n 10 "$VM_ERR" | sed 's/^/  err: /'
    } >&2
}

# Awk functions: med(a, n) is the median of a[1..n] (sorts a);
# medk(arr, k) the median of arr[k, 1..cnt[k]] (cnt[k] the caller's
# count of k's values; "" if there are none or one is missing); root(x)
# the square root (busybox's awk, the test VM's, may have no math
# functions).
# shellcheck disable=SC2034 # for the scripts that source this
MED_AWK='
function med(a, n,    i, j, t) {
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
            t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
        }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function medk(arr, k,    a, i) {
    for (i = 1; i <= cnt[k]; i++) {
        if (!((k, i) in arr)) return ""
        a[i] = arr[k, i]
    }
    return cnt[k] ? med(a, cnt[k]) : ""
}
function root(x,    r, i) {
    r = x > 1 ? x : 1
    for (i = 0; i < 60; i++) r = (r + x / r) / 2
    return r
}'
