#!/bin/sh
# linux_virtio_fio.sh: Debian's fio in the guest (from a tools disk,
# tests/linux/mktoolsdisk) writes a data disk at random with crc32c
# verify headers and reads it all back; in the middle of the writes the
# VM is snapshotted through the control socket and stopped, and a new
# kvmrun restores it (the same --disk options): fio goes on where it was
# and its verify finds 0 errors. The snapshot quiesced the disk's I/O
# thread (no request in flight) and saved its queue.
. "$(dirname "$0")/../lib.sh"
linux_setup
LINUX_I=$BUILD/linux/initrd-virtio.gz
TOOLS=$BUILD/linux/fio-tools.img
[ -f "$LINUX_I" ] || fail "no $LINUX_I (tests/linux/stage makes it)"
[ -f "$TOOLS" ] || { echo "no $TOOLS (tests/linux/stage makes it where fio is installed)"; exit 77; }

truncate -s 16M "$T/data.img"
cat >"$T/test.sh" <<'TEST'
mkdir -p /tools /tmp
mount -t ext4 -o ro /dev/vda /tools || { echo "FIO-FAIL mount"; exit 1; }
echo "FIO-START"
/tools/run fio --name=verify --filename=/dev/vdb --direct=1 \
    --ioengine=psync --rw=randwrite --bs=4k --size=8M --rate_iops=400 \
    --verify=crc32c --do_verify=1 --verify_fatal=1 --randrepeat=1 \
    --output-format=terse --terse-version=3 >/tmp/fio.out 2>&1
st=$?
cat /tmp/fio.out
echo "FIO-STATUS $st"
exit $st
TEST
"$ROOT/tests/linux/addfiles" "$LINUX_I" "$T/initrd" "$T/test.sh:test.sh"
disks="--disk $TOOLS,ro --disk $T/data.img"

# shellcheck disable=SC2086
"$KVMRUN" --api "$T/api" -m 256M -k "$LINUX_K" -i "$T/initrd" \
    -a "console=ttyS0 quiet panic=-1" $disks </dev/null >"$OUT" 2>"$ERR" &
PID=$!
i=0
until grep -q "FIO-START\|FIO-FAIL" "$OUT"; do
    i=$((i + 1))
    [ "$i" -le "$((${LINUX_TIMEOUT:-240} * 10))" ] ||
        { kill -KILL "$PID"; fail "fio never started"; }
    kill -0 "$PID" 2>/dev/null || fail "kvmrun ended before fio started"
    sleep 0.1
done
sleep 2 # fio writes (at 400 per second, about 5 s of them)
"$KVMRUN" ctl "$T/api" snapshot "$T/vm.snap" >"$T/ctl.out" 2>&1 ||
    { kill -KILL "$PID"; cat "$T/ctl.out"; fail "the snapshot failed"; }
"$KVMRUN" ctl "$T/api" stop >"$T/ctl.out" 2>&1 ||
    { kill -KILL "$PID"; cat "$T/ctl.out"; fail "ctl stop failed"; }
wait_bounded 60 "after ctl stop"
expect_status 0
grep -q "FIO-STATUS" "$OUT" && fail "fio had ended before the snapshot"

# shellcheck disable=SC2086
"$KVMRUN" --restore "$T/vm.snap" $disks </dev/null >"$OUT" 2>"$ERR" &
PID=$!
wait_bounded "${LINUX_TIMEOUT:-240}" "the restored guest"
tr -d '\r' <"$OUT" >"$T/out2" && mv "$T/out2" "$OUT"
expect_status 0
grep -qx "FIO-STATUS 0" "$OUT" || fail "fio failed after the restore"
# terse v3: field 5 is the error code; no verify error line.
line=$(grep '^3;' "$OUT") || fail "no fio result line"
[ "$(echo "$line" | cut -d';' -f5)" = 0 ] || fail "fio reported errors"
grep -qi "verify.*bad\|crc32c.*mismatch" "$OUT" && fail "fio's verify failed"
:
