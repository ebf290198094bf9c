#!/bin/sh
# /init of the hot-plug test guest (busybox; built by scripts/guest-os/build.sh).
# Kernel command line options (all optional):
#   np.burn=1      a CPU burner on every online vCPU (one pinned busy loop per CPU, started as CPUs come online)
#   np.leave=MiB   memory filler: fill a tmpfs until about MiB of MemAvailable is left (once, at boot)
#   np.online=0    do NOT online hot-plugged CPUs and memory (no rules: a guest that ignores hot-plug)
# Reports to the console (ttyS0) once a second, one line a test can parse:
#   NPGUEST up=SECONDS online=CPULIST burners=N memtotal=KIB memavail=KIB node0=KIB node1=KIB block=HEX ga=0|1
# and one NPRULE line per CPU or memory block the rules online (hotplug-rules.sh).
. /lib/guest-init.sh
early_setup
load_modules
BURN='' LEAVE='' ONLINE=''
for w in $(cat /proc/cmdline); do
  case $w in np.burn=*) BURN=${w#*=} ;; np.leave=*) LEAVE=${w#*=} ;; np.online=*) ONLINE=${w#*=} ;; esac
done
mkdir -p /run /var/run /tmp

# The seed's udev rules, as a busybox `uevent` handler (the kernel has no uevent helper and there
# is no udev here): ACTION=="add", SUBSYSTEM=="cpu" -> online=1; SUBSYSTEM=="memory" -> state=online.
if [ "$ONLINE" != 0 ]; then
  uevent /lib/hotplug-rules.sh &
  # Anything plugged before the listener started (the seed's "online by hand" loop, for CPUs and memory).
  for f in $(grep -l 0 /sys/devices/system/cpu/cpu*/online 2>/dev/null); do echo 1 >"$f"; done
  for f in $(grep -l offline /sys/devices/system/memory/memory*/state 2>/dev/null); do echo online >"$f"; done
fi

# qemu-guest-agent on the org.qemu.guest_agent.0 virtio-serial port (no udev: find the vport by name).
GA=0
for p in /sys/class/virtio-ports/*; do
  [ "$(cat "$p/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] || continue
  qemu-ga -m virtio-serial -p "/dev/${p##*/}" -t /run -f /run/qemu-ga.pid >/dev/null 2>&1 &
  GA=1
done

# Memory filler: shmem (tmpfs) pages cannot be reclaimed without swap, so MemAvailable drops.
if [ -n "$LEAVE" ]; then
  mkdir -p /fill && mount -t tmpfs -o size=100% tmpfs /fill
  avail=$(awk '/^MemAvailable:/ {print int($2/1024)}' /proc/meminfo)
  n=$((avail - LEAVE))
  [ "$n" -gt 0 ] && dd if=/dev/zero of=/fill/f bs=1M count="$n" 2>/dev/null
fi

# Burners: one busy loop pinned to each online CPU; new ones as CPUs come online. A CPU just onlined
# can refuse tasks for a moment (taskset: EINVAL), which once left a hot-plugged vCPU idle while the
# report counted its burner: each burner pins itself, retrying, and only then counts (/run/burn.N).
burners=""
burn_check() {
  for c in $(cpus_online); do
    case " $burners " in *" $c "*) continue ;; esac
    sh -c "until taskset -pc $c \$\$ >/dev/null 2>&1; do echo 'NPBURN cpu $c: pin refused, retrying' >/dev/console; sleep 1; done; : >/run/burn.$c; while :; do :; done" &
    burners="$burners $c"
    i=0; while [ ! -e /run/burn.$c ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  done
}
cpus_online() {   # /sys/devices/system/cpu/online as a list of ids
  tr ',' '\n' </sys/devices/system/cpu/online | while IFS=- read -r a b; do seq "$a" "${b:-$a}"; done
}
nodekib() { awk '/MemTotal/ {print $4}' "/sys/devices/system/node/node$1/meminfo" 2>/dev/null || echo 0; }
while :; do
  [ "$BURN" = 1 ] && burn_check
  set -- /run/burn.*; [ -e "$1" ] || set --
  echo "NPGUEST up=$(cut -d' ' -f1 /proc/uptime) online=$(cat /sys/devices/system/cpu/online) burners=$# memtotal=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo) memavail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) node0=$(nodekib 0) node1=$(nodekib 1) block=$(cat /sys/devices/system/memory/block_size_bytes) ga=$GA" >/dev/console
  sleep 1
done
