#!/bin/busybox sh
# shellcheck shell=dash
# /init of the throw-away initramfs that run-in-vm.sh builds: PID 1 in the guest.
# Mounts /proc, /sys, /dev (devtmpfs makes /dev/video* and /dev/snd/*), loads the modules
# with busybox modprobe (run-in-vm.sh copied them and a trimmed modules.dep), mounts /out,
# runs the payload command, writes VMTEST_EXIT=<status> to ttyS1, powers off.
/bin/busybox --install -s /bin
export PATH=/payload:/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp VMTEST=1
export LD_LIBRARY_PATH=/payload:/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /tmp  # /tmp stays on the (writable) initramfs rootfs
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# shellcheck source=/dev/null # written by run-in-vm.sh: KMSG, HAVE_OUT, MODULES
. /etc/vmtest.conf
[ "$KMSG" = 1 ] || dmesg -n 1

report() {  # the exit status on ttyS1 (read by the host; no kernel messages go there) and on
            # the console, then power off
    echo "VMTEST_EXIT=$1" > /dev/ttyS1
    echo "VMTEST_EXIT=$1 (guest uptime $(cut -d' ' -f1 /proc/uptime)s)"
    sync
    poweroff -f
    reboot -f          # qemu runs with -no-reboot, so this ends it too
    while :; do sleep 1; done
}

echo "vmtest: kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime)s, loading modules"
echo "$MODULES" | while read -r name args; do
    [ -n "$name" ] || continue
    # shellcheck disable=SC2086
    modprobe "$name" $args || { echo "vmtest: modprobe $name $args FAILED"; dmesg | tail -20; exit 1; }
    echo "vmtest: loaded $name $args"
done || report 126
if [ "$HAVE_OUT" = 1 ]; then
    for m in virtio_pci 9pnet_virtio 9p; do modprobe $m || report 126; done
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /out \
        || { echo "vmtest: mounting /out FAILED"; report 126; }
fi
echo "vmtest: ready at $(cut -d' ' -f1 /proc/uptime)s, running payload"
cd /payload || report 126
sh /etc/vmtest-cmd.sh </dev/null
rc=$?
if [ $rc != 0 ] && [ "$KMSG" != 1 ]; then
    echo "vmtest: payload failed ($rc); last kernel messages:"; dmesg | tail -25
fi
[ "$HAVE_OUT" = 1 ] && umount /out
report $rc
