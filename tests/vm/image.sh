#!/usr/bin/env bash
# Builds (once, then cached) the Debian 12 image that tests/vm/run.sh boots: a pilot's laptop
# without a desktop. debootstrap from Debian's registry, the packages of
# tests/vm/packages.txt, a user `pilot` (uid 1000, a home, lingering enabled so that
# user@1000.service and /run/user/1000/bus exist from boot), and a oneshot unit that mounts
# the disk labelled "ldmpayload" and runs its tests/vm/guest.sh, writing to the virtio port
# "ldm.results", then powers the machine off.
#
# Usage: tests/vm/image.sh CACHE_DIR. Prints the image directory (root.img, vmlinuz,
# initrd.img). The directory's name is a hash of this script, the package list and the
# suite: a change of any rebuilds; an existing image is reused. Needs root (debootstrap).
# VM_MIRROR overrides the Debian mirror.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${1:?usage: image.sh CACHE_DIR}
SUITE=bookworm
MIRROR=${VM_MIRROR:-http://deb.debian.org/debian}
IMAGE_SIZE=3G

key=$( (cat "$HERE/image.sh" "$HERE/packages.txt"; echo "suite=$SUITE") | sha256sum | cut -c1-16)
OUT=$CACHE/debian12-$key
if [ -f "$OUT/root.img" ] && [ -f "$OUT/vmlinuz" ] && [ -f "$OUT/initrd.img" ]; then
	echo "$OUT"
	exit 0
fi
mkdir -p "$CACHE"
# One build at a time per cache directory.
exec 9>"$CACHE/.lock"
flock -w 1800 9 || { echo "image.sh: $CACHE/.lock is held" >&2; exit 1; }
if [ -f "$OUT/root.img" ]; then
	echo "$OUT"
	exit 0
fi
# From here on stdout is the caller's result channel: only the image path goes there (fd 3).
exec 3>&1 1>&2
for t in debootstrap mkfs.ext4 chroot; do
	command -v $t >/dev/null || { echo "image.sh: $t missing (make deps)" >&2; exit 1; }
done

WORK=$(mktemp -d "$CACHE/.build.XXXXXX")
ROOTFS=$WORK/rootfs
cleanup() {
	mountpoint -q "$ROOTFS/proc" 2>/dev/null && umount "$ROOTFS/proc"
	mountpoint -q "$ROOTFS/sys" 2>/dev/null && umount "$ROOTFS/sys"
	mountpoint -q "$ROOTFS/dev" 2>/dev/null && umount "$ROOTFS/dev"
	rm -rf "$WORK"
}
trap cleanup EXIT

pkgs=$(sed -e 's/#.*//' "$HERE/packages.txt" | tr -s ' \n' ',' | sed -e 's/^,//' -e 's/,$//')
echo "image.sh: debootstrap $SUITE ($MIRROR) into $ROOTFS" >&2
timeout 1500 debootstrap --variant=minbase --include="$pkgs" "$SUITE" "$ROOTFS" "$MIRROR" \
	>"$WORK/debootstrap.log" 2>&1 || {
	tail -30 "$WORK/debootstrap.log" >&2
	echo "image.sh: debootstrap failed" >&2
	exit 1
}

in_root() { chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

echo ldm-vm >"$ROOTFS/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 ldm-vm\n::1 localhost ip6-localhost\n' >"$ROOTFS/etc/hosts"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$ROOTFS/etc/fstab"
: >"$ROOTFS/etc/resolv.conf"
# The pilot: a real home, lingering (what `loginctl enable-linger pilot` writes).
in_root useradd --create-home --uid 1000 --user-group --shell /bin/bash pilot
mkdir -p "$ROOTFS/var/lib/systemd/linger"
: >"$ROOTFS/var/lib/systemd/linger/pilot"
# A quiet, quick boot: no timers, no login prompts on the consoles.
for u in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer \
	fstrim.timer logrotate.timer dpkg-db-backup.timer serial-getty@ttyS0.service \
	getty@tty1.service systemd-timesyncd.service; do
	ln -sf /dev/null "$ROOTFS/etc/systemd/system/$u"
done
# The test runner: the payload disk brings the scripts, the package and the test tools.
cat >"$ROOTFS/etc/systemd/system/ldm-vm-check.service" <<'UNIT'
[Unit]
Description=ldm-enforcer VM checks (the payload disk's tests/vm/guest.sh)
After=multi-user.target
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
TimeoutStartSec=25min
ExecStart=/bin/sh -c 'mkdir -p /mnt/payload && mount -o ro LABEL=ldmpayload /mnt/payload && exec /bin/bash /mnt/payload/tests/vm/guest.sh >/dev/virtio-ports/ldm.results 2>&1'

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/ldm-vm-check.service \
	"$ROOTFS/etc/systemd/system/multi-user.target.wants/ldm-vm-check.service"
# A small initramfs (the disks are virtio, the root ext4): a shorter boot under emulation.
printf 'MODULES=list\n' >"$ROOTFS/etc/initramfs-tools/conf.d/ldm-vm"
printf 'virtio_pci\nvirtio_blk\next4\n' >>"$ROOTFS/etc/initramfs-tools/modules"
mount -t proc proc "$ROOTFS/proc"
in_root update-initramfs -u -k all >"$WORK/initramfs.log" 2>&1 || {
	cat "$WORK/initramfs.log" >&2
	exit 1
}
umount "$ROOTFS/proc"
in_root apt-get clean

mkdir -p "$WORK/out"
cp "$(ls "$ROOTFS"/boot/vmlinuz-* | tail -n 1)" "$WORK/out/vmlinuz"
cp "$(ls "$ROOTFS"/boot/initrd.img-* | tail -n 1)" "$WORK/out/initrd.img"
mkfs.ext4 -q -L ldmroot -d "$ROOTFS" "$WORK/out/root.img" "$IMAGE_SIZE"
rm -rf "$OUT"
mv "$WORK/out" "$OUT"
echo "image.sh: built $OUT" >&2
echo "$OUT" >&3
