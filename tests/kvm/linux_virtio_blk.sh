#!/bin/sh
# linux_virtio_blk.sh: Debian's kernel with three virtio-blk disks and
# virtio-rng, found through the ACPI DSDT (LNRO0005), in one boot:
# - root=/dev/vda, an ext4 image made on the host (mkfs.ext4 -d, engine
#   io_uring): the initramfs mounts it and runs its /check.sh in it,
#   which reads the host's file and writes files (a 1 MiB one with its
#   md5); unmounted, the host reads them back with debugfs;
# - the disks are vda, vdb, vdc in --disk order, each with its serial;
# - vdc is ro: the guest sees it read-only and a write to it fails;
# - /dev/hwrng reads (virtio_rng is the current source);
# - vdb (raw, engine=sync): a 4 KiB write followed by a flush (dd
#   conv=fsync) is in the image after kill -9 of kvmrun.
. "$(dirname "$0")/../lib.sh"
linux_setup
LINUX_I=$BUILD/linux/initrd-virtio.gz
[ -f "$LINUX_I" ] || fail "no $LINUX_I (tests/linux/stage makes it)"
for p in mkfs.ext4 debugfs md5sum; do
    command -v $p >/dev/null || {
        echo "$p missing (in the test VM: tests/sandbox/run --copy $(command -v $p || echo /usr/sbin/$p))"
        exit 77
    }
done

# The root filesystem: busybox and the script its init runs.
mkdir -p "$T/root/bin"
cp /bin/busybox "$T/root/bin/busybox"
for a in sh cat mkdir dd md5sum sync; do ln -s busybox "$T/root/bin/$a"; done
echo "made on the host" >"$T/root/from-host.txt"
cat >"$T/root/check.sh" <<'CHECK'
set -e
[ "$(cat /from-host.txt)" = "made on the host" ] || { echo "VBLK-FAIL host file"; exit 1; }
echo "written in the guest" >/guest.txt
mkdir /dir
dd if=/bin/busybox of=/dir/big bs=64k count=16
md5sum /dir/big >/dir/big.md5
sync
CHECK
mkfs.ext4 -q -F -t ext4 -L root -d "$T/root" "$T/root.img" 32M >/dev/null ||
    fail "mkfs.ext4 failed"
truncate -s 4M "$T/raw.img"
awk 'BEGIN { for (i = 0; i < 32; i++) printf "read-only disk.." }' >"$T/ro.img"
truncate -s 1M "$T/ro.img"

cat >"$T/test.sh" <<'TEST'
fail() { echo "VBLK-FAIL $*"; exit 1; }
for d in vda:rootdisk vdb:rawdisk vdc:rodisk; do
    [ "$(cat /sys/block/${d%:*}/serial)" = "${d#*:}" ] || fail "${d%:*} serial"
done
[ "$(cat /sys/block/vdc/ro)" = 1 ] || fail "vdc is not read-only"
[ "$(cat /sys/block/vda/ro)" = 0 ] || fail "vda is read-only"
grep -q virtio_mmio.device /proc/cmdline && fail "virtio_mmio.device= with ACPI"
root=$(sed -n 's/.*root=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /newroot
mount -t ext4 "$root" /newroot || fail "mount $root"
chroot /newroot /bin/sh /check.sh || fail "check.sh in the root"
umount /newroot || fail "umount"
echo "VBLK-ROOT-OK"
[ "$(dd if=/dev/vdc bs=16 count=1 2>/dev/null)" = "read-only disk.." ] ||
    fail "vdc's first bytes"
dd if=/dev/zero of=/dev/vdc bs=512 count=1 conv=fsync 2>/dev/null &&
    fail "a write to the ro disk succeeded"
echo "VBLK-RO-OK"
grep -q virtio_rng /sys/class/misc/hw_random/rng_current || fail "rng source"
[ "$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)" = 64 ] ||
    fail "/dev/hwrng"
echo "VBLK-RNG-OK"
mkdir -p /tmp
yes "acknowledged, flushed, kill -9" | head -c 4096 >/tmp/p
dd if=/tmp/p of=/dev/vdb bs=4096 seek=256 count=1 conv=fsync 2>/dev/null ||
    fail "write to vdb"
echo "VBLK-FLUSHED"
sleep 600
TEST
"$ROOT/tests/linux/addfiles" "$LINUX_I" "$T/initrd" "$T/test.sh:test.sh"

"$KVMRUN" -m 256M -k "$LINUX_K" -i "$T/initrd" \
    -a "console=ttyS0 quiet panic=-1 root=/dev/vda" \
    --disk "$T/root.img,serial=rootdisk,engine=io_uring" \
    --disk "$T/raw.img,serial=rawdisk,engine=sync" \
    --disk "$T/ro.img,ro,serial=rodisk" --rng \
    </dev/null >"$OUT" 2>"$ERR" &
PID=$!
i=0
until grep -q "VBLK-FLUSHED\|VBLK-FAIL\|KVMRUN-TEST-STATUS" "$OUT"; do
    i=$((i + 1))
    [ "$i" -le "$((${LINUX_TIMEOUT:-240} * 10))" ] ||
        { kill -KILL "$PID"; fail "no VBLK-FLUSHED in ${LINUX_TIMEOUT:-240} s"; }
    kill -0 "$PID" 2>/dev/null || fail "kvmrun ended early"
    sleep 0.1
done
kill -KILL "$PID"
wait "$PID"
tr -d '\r' <"$OUT" >"$T/out2" && mv "$T/out2" "$OUT"
grep VBLK-FAIL "$OUT" && fail "the guest's checks failed"
for m in ROOT RO RNG; do
    grep -qx "VBLK-$m-OK" "$OUT" || fail "no VBLK-$m-OK"
done

# The root's files, read by the host.
[ "$(debugfs -R "cat /guest.txt" "$T/root.img" 2>/dev/null)" = "written in the guest" ] ||
    fail "guest.txt is not in the image"
debugfs -R "dump /dir/big $T/big" "$T/root.img" 2>/dev/null
[ "$(stat -c %s "$T/big")" = 1048576 ] || fail "/dir/big is not 1 MiB"
want=$(debugfs -R "cat /dir/big.md5" "$T/root.img" 2>/dev/null | cut -d' ' -f1)
[ "$(md5sum <"$T/big" | cut -d' ' -f1)" = "$want" ] ||
    fail "/dir/big's contents differ from what the guest wrote"
# The flushed write survived kill -9.
yes "acknowledged, flushed, kill -9" | head -c 4096 >"$T/p"
dd if="$T/raw.img" bs=4096 skip=256 count=1 2>/dev/null | cmp -s - "$T/p" ||
    fail "the flushed write is not in the image after kill -9"

# acpi=off: the devices are on the kernel's command line instead of in
# the DSDT (this kernel, without VIRTIO_MMIO_CMDLINE_DEVICES, only shows
# them to /proc/cmdline); the guest reboots (no ACPI power-off).
cat >"$T/cmdline.sh" <<'TEST'
echo "CMDLINE: $(cat /proc/cmdline)"
reboot -f
TEST
"$ROOT/tests/linux/addfiles" "$LINUX_I" "$T/initrd2" "$T/cmdline.sh:test.sh"
run_kvmrun_bounded "${LINUX_TIMEOUT:-240}" -m 256M -k "$LINUX_K" \
    -i "$T/initrd2" -a "console=ttyS0 quiet panic=-1 acpi=off -- x" \
    --disk "$T/raw.img" --rng
tr -d '\r' <"$OUT" >"$T/out2" && mv "$T/out2" "$OUT"
expect_status 8
grep -qx "CMDLINE: console=ttyS0 quiet panic=-1 acpi=off virtio_mmio.device=4K@0xfeb00000:16 virtio_mmio.device=4K@0xfeb01000:17 -- x" "$OUT" ||
    fail "acpi=off: the command line does not name the two devices"
