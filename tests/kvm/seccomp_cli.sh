#!/bin/sh
# seccomp_cli.sh: kvmrun runs its guest confined: /proc shows seccomp
# filter mode (Seccomp: 2) in every thread, and each vCPU thread has one
# filter more than the main thread (its own, stacked); --no-seccomp leaves
# kvmrun unconfined (Seccomp: 0). Both stop normally with SIGUSR1.
. "$(dirname "$0")/../lib.sh"

# field TASK NAME: the value of "NAME:" in /proc/TASK/status.
field() {
    sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

start_kvmrun -c 2 "$GUESTS/hlt_loop.bin"
[ "$(field "$PID" Seccomp)" = 2 ] ||
    fail "kvmrun is not in seccomp filter mode: $(field "$PID" Seccomp)"
main=$(field "$PID" Seccomp_filters)
[ "${main:-0}" -ge 1 ] || fail "kvmrun has no seccomp filter"
# Each vCPU thread names itself and stacks its filter as it starts: give
# them a moment.
tries=0
while :; do
    vcpus=0 why=
    for task in /proc/"$PID"/task/*; do
        case $(cat "$task/comm") in vcpu*) ;; *) continue ;; esac
        t=${task#/proc/}
        if [ "$(field "$t" Seccomp)" != 2 ]; then
            why="$t is not confined"
        elif [ "$(field "$t" Seccomp_filters)" -ne $((main + 1)) ]; then
            why="$t has $(field "$t" Seccomp_filters) filters, not $((main + 1))"
        else
            vcpus=$((vcpus + 1))
        fi
    done
    [ "$vcpus" = 2 ] && break
    tries=$((tries + 1))
    [ "$tries" -lt 50 ] || fail "found $vcpus confined vCPU threads, not 2 ${why:+($why)}"
    sleep 0.1
done
stop_kvmrun USR1
expect_status 0
expect_stderr "kvmrun: stopped by SIGUSR1"

start_kvmrun --no-seccomp "$GUESTS/hlt_loop.bin"
[ "$(field "$PID" Seccomp)" = 0 ] ||
    fail "--no-seccomp: kvmrun is confined: $(field "$PID" Seccomp)"
stop_kvmrun USR1
expect_status 0

run_kvmrun --help
expect_status 0
grep -q -- '--no-seccomp' "$OUT" || fail "--help does not mention --no-seccomp"
