#!/bin/sh
# linux_virtio_console.sh: Debian's kernel with --console virtio and no
# console= of the user's: kvmrun gives it console=hvc0, the virtio console
# found through the DSDT comes up with the virtio_console module, and a
# shell on hvc0 runs the commands typed on kvmrun's stdin and prints
# their results on stdout (the kernel's log, replayed to hvc0, too).
. "$(dirname "$0")/../lib.sh"
linux_setup
LINUX_I=$BUILD/linux/initrd-virtio.gz
[ -f "$LINUX_I" ] || fail "no $LINUX_I (tests/linux/stage makes it)"

# Init had no console (hvc0 came with the module): the session opens it.
cat >"$T/test.sh" <<'TEST'
i=0
while [ ! -e /dev/hvc0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
exec </dev/hvc0 >/dev/hvc0 2>&1
echo "hvc0 shell:"
PS1='hvc0$ ' sh -i
echo "HVC0-SESSION-END"
TEST
"$ROOT/tests/linux/addfiles" "$LINUX_I" "$T/initrd" "$T/test.sh:test.sh"

# The typer: once the shell is there, a command line, then exit.
mkfifo "$T/console"
(
    i=0
    until grep -q '^hvc0 shell:' "$OUT" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le $((${LINUX_TIMEOUT:-240} * 10)) ] || exit 1
        sleep 0.1
    done
    printf 'echo result=$((6 * 7)); cat /proc/cmdline\nexit\n'
) >"$T/console" &
TYPER=$!
"$KVMRUN" --console virtio -m 256M -k "$LINUX_K" -i "$T/initrd" \
    -a "quiet panic=-1" <"$T/console" >"$OUT" 2>"$ERR" &
PID=$!
WB_HANG='kill $TYPER 2>/dev/null'
wait_bounded "${LINUX_TIMEOUT:-240}" "the guest on hvc0"
wait "$TYPER"
tr -d '\r' <"$OUT" >"$T/out" && mv "$T/out" "$OUT"
expect_status 0
grep -qx "result=42" "$OUT" || fail "the typed command's result is not on stdout"
grep -q "^console=hvc0 quiet panic=-1" "$OUT" ||
    fail "the kernel did not get console=hvc0 first"
grep -qx "HVC0-SESSION-END" "$OUT" || fail "the shell did not end at exit"
exit 0
