#!/bin/sh
# vcon_slow_reader.sh: the guest (tests/guests/vcon64.c, told "write N")
# writes 400000 bytes to hvc0 into a pipe whose reader takes nothing for a
# while. The virtio console leaves the guest's buffers on the transmit
# queue while its output buffer is full (no thread of kvmrun waits for
# the reader): the guest is held back, and SIGUSR2 pauses and resumes the
# VM at once while the transmitter waits (kvmrun -v says so at each
# pause); a snapshot succeeds (the I/O thread quiesces); once the reader
# reads, every byte arrives, in order, none twice, and the guest ends.
. "$(dirname "$0")/../lib.sh"
TOOL=$BUILD/tests/kvm/stream_tool
N=400000

# wait_count LINE N: stderr has N lines LINE within 3 s.
wait_count() {
    wc_n=0
    until [ "$(count_lines "$ERR" "$1")" -ge "$2" ]; do
        wc_n=$((wc_n + 1))
        [ $wc_n -le 300 ] || fail "no '$1' within 3 s"
        sleep 0.01
    done
}

echo "write $N" >"$T/in"
mkfifo "$T/out.fifo"
touch "$T/stall"
"$TOOL" read -s "$T/stall" "$T/out" <"$T/out.fifo" &
READER=$!
"$KVMRUN" -v --console virtio --serial "$T/serial" --pidfile "$T/pid" \
    --api "$T/api" -k "$GUESTS/vcon64.elf" \
    <"$T/in" >"$T/out.fifo" 2>"$ERR" &
PID=$!
wait_for_file "$T/pid" 20 || fail "kvmrun never started the guest"
n=0
until [ -e "$T/stall.full" ]; do # the reader made it (empty) once full
    n=$((n + 1))
    [ $n -le 600 ] || fail "the pipe never filled"
    sleep 0.1
done

# Once the output buffer is full too, the transmitter waits for the
# reader; the VM pauses all the same (-v describes the consoles then).
i=0
until grep -q "virtio-console.0: .*transmitter waiting for the reader" "$ERR"; do
    i=$((i + 1))
    [ $i -le 40 ] || fail "the virtio console's transmitter never waited"
    kill -USR2 "$PID"
    wait_count "kvmrun: paused (SIGUSR2 again resumes)" $i
    kill -USR2 "$PID"
    wait_count "kvmrun: resumed" $i
    sleep 0.2
done
grep -q "vcon: wrote" "$T/serial" && fail "the guest wrote it all to a full pipe"
"$KVMRUN" ctl "$T/api" snapshot "$T/snap" >"$T/ctl.out" 2>&1 ||
    { cat "$T/ctl.out"; fail "the snapshot failed"; }

rm -f "$T/stall"
wait_bounded 60 "the guest writing to a reader that came back"
expect_status 0
wait "$READER"
grep -qx "vcon: wrote $N bytes" "$T/serial" || fail "the guest did not finish"
# "vcon: ready", then buffers 0, 1, ... of 512 lines of their number.
awk -v n=$N 'BEGIN { print "vcon: ready"
    for (b = 0; b * 4096 < n; b++)
        for (i = 0; i < 512 && b * 4096 + i * 8 < n; i++) printf "%07d\n", b }' \
    >"$T/want"
cmp "$T/want" "$T/out" || fail "the output is not the guest's $N bytes"
exit 0
