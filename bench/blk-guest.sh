#!/bin/sh
# bench/blk-guest.sh: bench/blk's /test.sh in the guest (the init of
# tests/linux/mkinitramfs runs it once the virtio modules are loaded).
# The kernel command line gives blk.secs=N and one blk.job=NAME:OPTS per
# fio run (OPTS: fio's options, commas for spaces). The tools disk is the
# virtio disk that mounts (ext4, read-only), the data disk the other one.
# For each run: "BLK-BEGIN NAME", a second's pause (the host reads the
# VM's exit counter), fio, "BLK-END NAME" (the host reads it again), then
# "BLK-FIGS NAME IOPS P99_US IOS" once fio's JSON is parsed. Nothing else
# goes to the console meanwhile: every byte through the UART is an exit.
secs=10
jobs=
# shellcheck disable=SC2013 # words, not lines
for w in $(cat /proc/cmdline); do
    case $w in
    blk.secs=*) secs=${w#blk.secs=} ;;
    blk.job=*) jobs="$jobs ${w#blk.job=}" ;;
    esac
done
mkdir -p /tools /tmp
data=
for d in /sys/block/vd*; do
    [ -e "$d" ] || continue
    dev=/dev/${d##*/}
    if [ -z "$(ls -A /tools)" ] && mount -t ext4 -o ro "$dev" /tools 2>/dev/null
    then
        continue
    fi
    data=$dev
done
[ -x /tools/run ] || { echo "blk-guest: no tools disk"; ls /sys/block; exit 1; }
[ -n "$data" ] || { echo "blk-guest: no data disk"; ls /sys/block; exit 1; }
# fio's pages come from the tools disk now, not during the first run.
/tools/run fio --version >/dev/null || exit 1
cat /tools/bin/fio /tools/lib/* >/dev/null


st=0
for j in $jobs; do
    name=${j%%:*}
    opts=$(echo "${j#*:}" | tr , ' ')
    echo "BLK-BEGIN $name"
    sleep 1
    # shellcheck disable=SC2086 # the options are meant to split
    /tools/run fio --name="$name" --filename="$data" --ioengine=libaio \
        --direct=1 --time_based --runtime="$secs" $opts \
        --output-format=json >/tmp/"$name".json 2>/tmp/"$name".err
    rc=$?
    echo "BLK-END $name"
    if [ "$rc" -ne 0 ] || ! f=$(awk -f /fio-figs.awk /tmp/"$name".json); then
        echo "blk-guest: fio $name failed (status $rc):"
        tail -n 5 /tmp/"$name".err
        st=1
        continue
    fi
    echo "BLK-FIGS $name $f"
done
exit "$st"
