# Functions for an initramfs /init (busybox sh), sourced as /lib/guest-init.sh (and, after
# root_over_9p, as /run/guest-init.sh inside the new root).

# Mount the kernel's filesystems and install busybox's applets.
early_setup() {
  /bin/busybox --install -s /bin
  export PATH=/bin:/sbin:/usr/bin:/usr/sbin
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
}

# insmod each module of /etc/modules-order, dependencies first (build-initramfs.sh wrote the order;
# insmod does not resolve dependencies and a wrong order fails quietly).
load_modules() {
  local m
  while read -r m; do
    [ -n "$m" ] || continue
    insmod "$m" 2>/dev/null || echo "guest-init: insmod $m failed" >&2
  done </etc/modules-order
}

# Mount the 9p export TAG read-only as the lower layer of an overlay with a tmpfs upper layer at
# /newroot, move /proc /sys /dev in, and run "$@" chrooted there. Needs modules 9p, 9pnet_virtio,
# virtio_pci and overlay. ROOT_9P_CACHE (optional) is the 9p cache mode (e.g. loose: the guest caches
# what it read, much faster for programs like node that read many files; only for a root that does
# not change while the guest runs); unset = 9p's default (none).
root_over_9p() {
  local tag=$1; shift
  mkdir -p /lower /rw
  mount -t 9p -o "trans=virtio,version=9p2000.L,ro,msize=262144${ROOT_9P_CACHE:+,cache=$ROOT_9P_CACHE}" "$tag" /lower || return 1
  mount -t tmpfs -o size=75% tmpfs /rw
  mkdir -p /rw/upper /rw/work
  mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || return 1
  mount --move /proc /newroot/proc
  mount --move /sys /newroot/sys
  mount --move /dev /newroot/dev
  # A clean /run for the daemons started inside. /tmp stays the host's (read through the overlay,
  # writes to its tmpfs upper layer): a checkout under /tmp, as CI may clone one, must stay visible.
  mount -t tmpfs tmpfs /newroot/run
  cp /lib/guest-init.sh /newroot/run/guest-init.sh   # so the chrooted command can call guest_poweroff
  exec chroot /newroot "$@"
}

# Power off now (QEMU exits with -no-reboot). The sysrq request is asynchronous: wait for it here,
# since init exiting first would panic the kernel instead.
guest_poweroff() {
  sync
  echo o >/proc/sysrq-trigger
  sleep 60
}
