#!/bin/sh
# load_rss.sh: a raw image goes from its file straight into guest memory:
# loading a 512 MiB image (a halting guest, then a sparse tail) into 1 GiB
# costs kvmrun about the guest RAM it fills, not twice that (a copy of
# the file held in kvmrun's own memory while loading).
. "$(dirname "$0")/../lib.sh"

cp "$GUESTS/hlt_loop.bin" "$T/big.bin"
truncate -s 512M "$T/big.bin"
start_kvmrun -m 1G "$T/big.bin"
hwm=$(awk '/^VmHWM:/ { print int($2 / 1024) }' /proc/"$PID"/status)
stop_kvmrun USR1
expect_status 0
echo "VmHWM: $hwm MiB"
# 512 MiB of guest RAM touched, plus kvmrun itself (a few MiB; more under
# the sanitizers, whose shadow of the image is not counted here).
[ "$hwm" -ge 512 ] || fail "VmHWM $hwm MiB: the image was not loaded?"
[ "$hwm" -lt 700 ] || fail "VmHWM $hwm MiB: the image was held twice"
