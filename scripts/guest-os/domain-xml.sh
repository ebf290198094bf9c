#!/usr/bin/env bash
# Print the libvirt domain XML of a hot-plug test guest (TCG) booting scripts/guest-os/build.sh's image.
# Usage: domain-xml.sh NAME SERIAL_LOG KERNEL INITRD VCPU_CURRENT VCPU_MAX [CMDLINE_EXTRA]
#   MEM_MIB (env, default 256) in two equal guest NUMA cells (cell 0: vCPU 0, cell 1: the others),
#   maxMemory MAXMEM_MIB (env, default 1024) / 4 slots,
#   ACPI, numatune restrictive on host node 0, virtio-balloon with stats every second, the console on
#   ttyS0 written to SERIAL_LOG, and a qemu-guest-agent virtio-serial channel. no_timer_check: on a busy
#   host TCG is too slow for the kernel's IO-APIC timer check ("IO-APIC + timer doesn't work!" panic at boot).
set -euo pipefail
[ $# -ge 6 ] || { echo "usage: domain-xml.sh NAME SERIAL_LOG KERNEL INITRD VCPU_CURRENT VCPU_MAX [CMDLINE_EXTRA]" >&2; exit 2; }
name=$1 log=$2 kernel=$3 initrd=$4 cur=$5 max=$6 extra=${7:-}
mem=${MEM_MIB:-256} maxmem=${MAXMEM_MIB:-1024} half=$(( ${MEM_MIB:-256} / 2 ))
cat <<XML
<domain type='qemu'>
  <name>$name</name>
  <maxMemory slots='4' unit='MiB'>$maxmem</maxMemory>
  <memory unit='MiB'>$mem</memory>
  <vcpu placement='static' current='$cur'>$max</vcpu>
  <numatune><memory mode='restrictive' nodeset='0'/></numatune>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>$kernel</kernel><initrd>$initrd</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 no_timer_check $extra</cmdline></os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='allow'>qemu64</model>
    <numa><cell id='0' cpus='0' memory='$half' unit='MiB'/><cell id='1' cpus='1-$((max - 1))' memory='$half' unit='MiB'/></numa></cpu>
  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <serial type='file'><source path='$log'/><target port='0'/></serial>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <memballoon model='virtio'><stats period='1'/></memballoon>
  </devices>
</domain>
XML
