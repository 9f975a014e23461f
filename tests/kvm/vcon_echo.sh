#!/bin/sh
# vcon_echo.sh: --console virtio gives the guest a virtio console on stdin
# and stdout. tests/guests/vcon64.c drives it by its virtio-mmio
# registers: it finds the device in the MMIO slots, says "vcon: ready" on
# it, and, told "echo" there, echoes each line typed on stdin ("quit"
# ends it); the UART's line goes to --serial's file. Without --console
# virtio there is no such device (the guest says so, status 3); a bad
# --console value is refused with one line, status 2.
. "$(dirname "$0")/../lib.sh"
ELF=$GUESTS/vcon64.elf

printf 'echo\nhello hvc0\nsecond line\nquit\n' >"$T/in"
# The UART's output to a file of its own: on stdout, written by another
# thread, its line could be cut by the virtio console's.
"$KVMRUN" --console virtio --serial "$T/uart" -k "$ELF" <"$T/in" >"$OUT" \
    2>"$ERR" &
PID=$!
wait_bounded 30 "the echo guest"
expect_status 0
tr -d '\r' <"$T/uart" >"$T/out"
[ "$(count_lines "$T/out" "vcon: console at feb00000")" = 1 ] ||
    fail "no line 'vcon: console at feb00000' from the UART"
tr -d '\r' <"$OUT" >"$T/out"
for line in "vcon: ready" "echo: hello hvc0" "echo: second line" "echo: bye"; do
    [ "$(count_lines "$T/out" "$line")" = 1 ] || fail "no line '$line'"
done
expect_stderr ""

"$KVMRUN" -k "$ELF" <"$T/in" >"$OUT" 2>"$ERR" &
PID=$!
wait_bounded 30 "the guest without a console"
expect_status 3
tr -d '\r' <"$OUT" | grep -qx "vcon: no virtio console" ||
    fail "a virtio console without --console virtio"

run_kvmrun --console hvc -k "$ELF"
expect_status 2
expect_stderr "kvmrun: --console: 'hvc' is not serial or virtio"
exit 0
