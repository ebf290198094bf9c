#!/bin/bash
# Second stage of the NUMA lab guest, PID 1 chrooted in the overlay root (the machine's / over 9p,
# read-only, with a tmpfs upper layer). Mounts the writable I/O export (tag labio) at /lab, starts
# virtlogd + libvirtd, then runs the agent (agent.mjs) that executes the host's requests.
# Each stage is announced on the console ("numa-lab: stage NAME") so the host can say where a boot
# failed; a failure writes /lab/failed and powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C
here=$(dirname "$(readlink -f "$0")")
say() { echo "numa-lab: $*" >/dev/console; }
t0=$(cut -d' ' -f1 /proc/uptime)
fail() {
  say "FAILED $1: $2"
  [ -d /lab/io ] && printf '%s: %s\n' "$1" "$2" >/lab/io/failed
  . /run/guest-init.sh; guest_poweroff
}
say "stage io-export"
mkdir -p /lab/io
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none labio /lab/io || fail io-export "cannot mount the I/O export (tag labio)"
mkdir -p /lab/io/req /lab/io/res /lab/io/kill 2>/dev/null || fail io-export "I/O export not writable"
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /dev/shm 2>/dev/null
hostname numa-lab
say "stage cgroups"
mount -t cgroup2 cgroup2 /sys/fs/cgroup || fail cgroups "cannot mount cgroup2"
echo "+cpuset +cpu +io +memory +pids" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null ||
  echo "+cpuset +cpu +memory +pids" >/sys/fs/cgroup/cgroup.subtree_control || fail cgroups "cannot enable cpuset/cpu/memory controllers"
# The lab's libvirt starts empty: the machine's own domain definitions and autostart networks are
# hidden (whiteouts in the tmpfs upper layer; the machine's files are untouched).
rm -f /etc/libvirt/qemu/*.xml /etc/libvirt/qemu/autostart/* /etc/libvirt/qemu/networks/autostart/* 2>/dev/null
mkdir -p /var/lib/libvirt/images /var/log/libvirt /var/lib/numaplace
# Automatic NUMA balancing is on by default in Debian's kernel: off unless the host asked for it.
sysctl -qw kernel.numa_balancing="${lab_numa_balancing:-0}" || fail sysctl "kernel.numa_balancing not settable"
# Boot sectors for the test VMs: busy spins ("jmp $": EB FE), idle halts ("cli; hlt; jmp back":
# FA F4 EB FD; SeaBIOS with no boot device would retry and cost CPU under nested TCG).
{ printf '\xeb\xfe'; head -c 508 /dev/zero; printf '\x55\xaa'; } >/var/lib/libvirt/images/busy.img
{ printf '\xfa\xf4\xeb\xfd'; head -c 506 /dev/zero; printf '\x55\xaa'; } >/var/lib/libvirt/images/idle.img
chmod 0644 /var/lib/libvirt/images/busy.img /var/lib/libvirt/images/idle.img
say "stage libvirtd"
virtlogd -d || fail libvirtd "virtlogd did not start"
libvirtd -d || fail libvirtd "libvirtd did not start"
ok=0
for _ in $(seq 1 600); do
  if virsh -q -c qemu:///system list --name >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.5
done
[ "$ok" = 1 ] || fail libvirtd "libvirtd did not answer within 300 s"
t1=$(cut -d' ' -f1 /proc/uptime)
printf '{"rootAtUptime":%s,"libvirtdAtUptime":%s}\n' "$t0" "$t1" >/lab/io/boot-times.json
say "stage agent"
node "$here/agent.mjs" /lab/io || say "agent exited with status $?"
say "powering off"
. /run/guest-init.sh; guest_poweroff
