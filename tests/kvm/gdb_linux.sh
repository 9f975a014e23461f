#!/bin/sh
# gdb_linux.sh: gdb on Debian's kernel (build/linux/vmlinux-sym, its
# function symbols from the -dbg package's System.map: tests/linux/
# kernel-symbols): with --gdb-wait, `hbreak start_kernel` stops there, bt
# names the caller, the registers read, and after detach the kernel goes
# on (its first lines come out: start_kernel prints them, after the
# breakpoint). Hardware breakpoints never fire in the TCG test VM: this
# test runs on hosts whose KVM has them, and there it does not need the
# kernel to boot to userspace (this development host's does not).
. "$(dirname "$0")/../lib.sh"
SYM=$BUILD/linux/vmlinux-sym
K=$BUILD/linux/vmlinux
if [ "${KVMRUN_SANDBOX:-0}" = 1 ]; then
    echo "SKIP: hardware breakpoints never fire in the TCG test VM"
    exit 77
fi
[ -f "$SYM" ] && [ -f "$K" ] ||
    { echo "SKIP: no $SYM (tests/linux/stage; tests/linux/kernel-symbols)"; exit 77; }

gdb_start --gdb-wait -m 256M -k "$K" -i "$BUILD/linux/initrd.gz" \
    -a "console=ttyS0 earlyprintk=ttyS0 panic=-1"
GDB_ELF=$SYM gdb_run -ex 'hbreak start_kernel' -ex continue -ex bt \
    -ex 'info registers rip cs' -ex 'p $pc == start_kernel' \
    -ex 'p/x $cr0 & 0x80000001' -ex delete -ex detach
start=$(nm "$SYM" | sed -n 's/^\([0-9a-f]*\) T start_kernel$/\1/p')
expect_gdb "^Breakpoint 1, 0x0*$start in start_kernel \(\)"
expect_gdb '^#0  0x[0-9a-f]* in start_kernel \(\)'
expect_gdb '^#1  0x[0-9a-f]* in secondary_startup_64'
expect_gdb "^rip +0x0*$start +0x0*$start <start_kernel>"
expect_gdb '^cs +0x10 '
expect_gdb '^\$1 = 1$'
expect_gdb '^\$2 = 0x80000001$' # paging and protection on
expect_gdb 'Inferior 1 \(Remote target\) detached'
n=0
until grep -q "Command line: console=ttyS0 earlyprintk=ttyS0" "$OUT"; do
    n=$((n + 1))
    [ "$n" -le 600 ] || { kill -KILL "$PID"; fail "the kernel did not go on after detach"; }
    kill -0 "$PID" 2>/dev/null || fail "kvmrun ended before the kernel went on"
    sleep 0.1
done
kill -KILL "$PID"
reap_bounded "$PID"
