#!/bin/sh
# gdb_linux_boot.sh: a debugger attached to Debian's kernel from its first
# instruction (--gdb-wait) through the boot to userspace: the stop at the
# entry point (the vmlinux's ELF entry in rip), continue, the guest's
# script running in userspace, Ctrl-C stops it (SIGINT), the registers
# read, detach, and the guest runs on to its normal end. Where Linux
# boots: in the test VM, which has no gdb, so a scripted client speaks
# the protocol (tests/kvm/gdb_client.c); gdb_linux.sh is gdb itself with
# a hardware breakpoint at start_kernel.
. "$(dirname "$0")/../lib.sh"
linux_setup
K=$BUILD/linux/vmlinux
CLIENT=$BUILD/tests/kvm/gdb_client
[ -f "$K" ] || fail "no $K (tests/linux/stage)"

cat >"$T/test.sh" <<'TEST'
echo "GDB-USERSPACE"
sleep 10
echo "GDB-AFTER"
TEST
"$ROOT/tests/linux/addfiles" "$LINUX_I" "$T/initrd" "$T/test.sh:test.sh"

: >"$ERR"
"$KVMRUN" --gdb tcp:0 --gdb-wait -m 256M -k "$K" -i "$T/initrd" \
    -a "console=ttyS0 quiet panic=-1" </dev/null >"$OUT" 2>>"$ERR" &
PID=$!
n=0
until PORT=$(sed -n 's/^kvmrun: gdb: listening on tcp:127\.0\.0\.1:\([0-9]*\).*/\1/p' "$ERR") &&
    [ -n "$PORT" ]; do
    n=$((n + 1))
    [ "$n" -le 600 ] || { kill -KILL "$PID"; fail "kvmrun --gdb never said where it listens"; }
    kill -0 "$PID" 2>/dev/null || fail "kvmrun --gdb ended at once"
    sleep 0.1
done
"$CLIENT" "$PORT" '?' g 'c:c' "@wait:$OUT:GDB-USERSPACE:${LINUX_TIMEOUT:-300}" \
    @intr g D >"$T/client" 2>&1 ||
    { kill -KILL "$PID"; cat "$T/client"; fail "the client failed"; }
wait_bounded "${LINUX_TIMEOUT:-300}" "the guest after detach"
expect_status 0
# rip is the 17th register of the 'g' reply (16 hex digits each, little
# endian); eflags, then cs (32 bits each) follow it.
# le_hex: little-endian hex digits on stdin as a number (no leading 0s).
le_hex() { sed 's/\(..\)/\1 /g' |
    awk '{ for (i = NF; i > 0; i--) s = s $i; sub(/^0+/, "", s); print s }'; }
rip_at() { sed -n "${1}p" "$T/client" | cut -d' ' -f3 | cut -c257-272 | le_hex; }
cs_at() { sed -n "${1}p" "$T/client" | cut -d' ' -f3 | cut -c281-288; }
# The ELF header's e_entry (offset 24; the test VM has no readelf).
entry=$(od -An -tx1 -j24 -N8 "$K" | tr -d ' \n' | le_hex)
grep -q '^REPLY ? T05' "$T/client" || { cat "$T/client"; fail "no stop reply at the start"; }
[ -n "$entry" ] && [ "$(rip_at 2)" = "$entry" ] ||
    { cat "$T/client"; fail "rip at the start is not the entry point $entry"; }
grep -q '^REPLY @intr T02' "$T/client" || { cat "$T/client"; fail "Ctrl-C did not stop it (SIGINT)"; }
case $(cs_at 6) in
10000000 | 33000000) ;; # the kernel's code segment, or userspace's
*) cat "$T/client"; fail "cs after Ctrl-C is $(cs_at 6)" ;;
esac
grep -q '^REPLY D OK$' "$T/client" || { cat "$T/client"; fail "detach refused"; }
tr -d '\r' <"$OUT" >"$T/out2" && mv "$T/out2" "$OUT"
grep -qx GDB-AFTER "$OUT" || fail "the guest did not run on after detach"
grep -qx 'KVMRUN-TEST-STATUS 0' "$OUT" || fail "the guest's script failed"
