#!/bin/sh
# bench/console-guest.sh: bench/console's /test.sh in the guest (the init
# of tests/linux/mkinitramfs runs it once virtio_console is loaded).
# Writes zeros to /dev/hvc0 in 1 MiB dd calls, then to /dev/ttyS0 in
# 16 KiB ones, each until con.secs=N seconds (kernel command line) have
# passed, both ttys raw, and waits until each has sent everything (stty
# drains it) before the clock stops; then prints one line a device:
# "CON-FIGS DEV KIB CENTISECONDS" (to the console: hvc0 with kvmrun
# --console virtio).
secs=3
# shellcheck disable=SC2013 # words, not lines
for w in $(cat /proc/cmdline); do
    case $w in con.secs=*) secs=${w#con.secs=} ;; esac
done
# /proc/uptime in centiseconds.
cs() {
    read -r u _ </proc/uptime
    echo "${u%.*}${u#*.}" | sed 's/^0*//'
}
# write DEV CHUNK_KIB: prints "KIB CENTISECONDS".
write() {
    stty -F "$1" raw -echo || return 1
    kib=0
    t0=$(cs)
    while :; do
        dd if=/dev/zero of="$1" bs=1024 count="$2" 2>/dev/null || return 1
        kib=$((kib + $2))
        [ $(($(cs) - t0)) -lt $((secs * 100)) ] || break
    done
    stty -F "$1" raw || return 1 # TCSADRAIN: all of it sent
    echo "$kib $(($(cs) - t0))"
}
h=$(write /dev/hvc0 1024) || { echo "console-guest: /dev/hvc0 failed"; exit 1; }
u=$(write /dev/ttyS0 16) || { echo "console-guest: /dev/ttyS0 failed"; exit 1; }
echo
echo "CON-FIGS hvc0 $h"
echo "CON-FIGS ttyS0 $u"
