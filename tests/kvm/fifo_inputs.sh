#!/bin/sh
# fifo_inputs.sh: a FIFO (or a device) given where kvmrun reads a file,
# as IMAGE, --kernel, --initrd or --restore, is refused at once with one
# line naming it and what it is, never opened (an open would wait for a
# writer, every signal blocked). --serial takes a FIFO only with a reader
# there: else one line, at once, instead of waiting for one.
. "$(dirname "$0")/../lib.sh"

F=$T/fifo
mkfifo "$F"

# refused ARGS...: status 2 at once, no guest output, stderr the line
# naming the FIFO.
refused() {
    run_kvmrun_bounded 10 "$@"
    expect_status 2
    expect_stdout ""
    expect_stderr "kvmrun: $F: is a FIFO, not a regular file"
}

refused "$F"
refused --kernel "$F"
refused --kernel "$GUESTS/mb_info.elf" --initrd "$F"
refused --restore "$F"

# Device nodes, never opened either (as root; block devices are refused
# as images too: kvmrun reads whole regular files only).
if mknod "$T/null" c 1 3 2>/dev/null && mknod "$T/blk" b 7 0 2>/dev/null; then
    run_kvmrun_bounded 10 "$T/null"
    expect_status 2
    expect_stderr "kvmrun: $T/null: is a character device, not a regular file"
    run_kvmrun_bounded 10 --kernel "$T/blk"
    expect_status 2
    expect_stderr "kvmrun: $T/blk: is a block device, not a regular file"
fi

# --serial: a FIFO nobody reads is an error, not a wait for a reader...
run_kvmrun_bounded 10 --serial "$F" "$GUESTS/hello.bin"
expect_status 2
expect_stdout ""
expect_stderr "kvmrun: --serial $F: a FIFO with no reader (start the reader first)"

# ... and one with a reader gets the guest's output.
cat "$F" >"$T/serial" &
READER=$!
# The reader's open of the FIFO waits for kvmrun's: retry until it is
# there (at most 10 s).
n=0
while :; do
    run_kvmrun_bounded 10 --serial "$F" "$GUESTS/hello.bin"
    [ "$STATUS" = 2 ] && grep -q 'no reader' "$ERR" && [ "$n" -lt 100 ] ||
        break
    n=$((n + 1))
    sleep 0.1
done
expect_status 0
expect_stderr ""
wait "$READER"
expect_file "$T/serial" "hello from a raw guest" ||
    fail "the FIFO's reader got: $(cat "$T/serial")"
exit 0
