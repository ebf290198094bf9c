#!/usr/bin/env bash
# Bring up a real (TCG) hypervisor for numaplace's integration tests, as root, without systemd.
# Idempotent: installs only what is missing, starts virtlogd/libvirtd only if they are not running,
# defines and starts only the numaplace-test-* domains that are not already there / running.
#
# Test domains (all persistent, so --config works; 128 MiB, no disk unless said, TCG):
#   numaplace-test-idle   4 vCPUs max, 1 online, idle in SeaBIOS (no boot device), numatune strict
#   numaplace-test-busy   1 vCPU spinning at 100% on a 512-byte boot sector "jmp $"
#   numaplace-test-numa   4 vCPUs (2 online), 2 guest NUMA cells, maxMemory 1024 MiB / 16 slots and ACPI
#                         (memory hot-plug needs all three),
#                         numatune mode restrictive (a live nodeset change needs it)
#   the odd one           a name with a space, quotes, ';' and $(...) to prove names are never shell text
#
# Environment: NUMAPLACE_URI (default qemu:///system), NUMAPLACE_SKIP_INSTALL=1 to skip apt,
#              NUMAPLACE_NO_BUSY=1 to define the busy VM but leave it shut off (it eats a whole core).
set -euo pipefail

URI="${NUMAPLACE_URI:-qemu:///system}"
IMAGES_DIR=/var/lib/libvirt/images
BUSY_IMG="$IMAGES_DIR/numaplace-test-busy.img"
# shellcheck disable=SC2016 # the $( ) must stay literal: it is part of the VM name
ODD_NAME='numaplace-test-it'"'"'s "odd"; $(touch numaplace-pwned) x'
ODD_NAME_XML='numaplace-test-it&apos;s &quot;odd&quot;; $(touch numaplace-pwned) x'

log() { printf 'hypervisor-up: %s\n' "$*" >&2; }
die() { printf 'hypervisor-up: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, starts libvirtd)"

# --- 1. packages -------------------------------------------------------------------------------
install_packages() {
  # prometheus: only for promtool, which the metrics tests run on numaplace's exposition.
  # qemu-guest-agent: its qemu-ga (and libraries) go into the hot-plug test guest's initramfs
  # (scripts/guest-os/build.sh); it is not run on the host (policy-rc.d below keeps it stopped).
  local want=(libvirt-daemon-system libvirt-clients qemu-system-x86 numactl prometheus qemu-guest-agent) missing=() p
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then log "packages already installed"; return; fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # Without systemd the packages' init scripts must not start daemons half-way through the install:
  # a temporary policy-rc.d refuses (101); this script starts them itself below.
  local policy=/usr/sbin/policy-rc.d added=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 0755 "$policy"; added=1; fi
  apt-get install -y -q --no-install-recommends "${missing[@]}" || { [ "$added" = 0 ] || rm -f "$policy"; die "apt-get install failed"; }
  [ "$added" = 0 ] || rm -f "$policy"
}
[ "${NUMAPLACE_SKIP_INSTALL:-0}" = 1 ] || install_packages
command -v virsh >/dev/null || die "virsh not found after install"

# --- 2. /dev/kvm and daemons ----------------------------------------------------------------
# Without udev, /dev/kvm can be left root-only (0600). QEMU's capability probe (as root) then sees KVM,
# but libvirt checks /dev/kvm as the QEMU user, finds it unusable and throws its capabilities cache
# away on EVERY lookup: each define/capabilities re-probes QEMU (4 s idle, over 100 s on a busy host;
# libvirtd debug log: "KVM was enabled when probing ..., but it is not available now"). Debian's udev
# rule gives it group kvm, mode 0660; do the same. The test VMs use TCG (type='qemu') either way.
if [ -c /dev/kvm ] && getent group kvm >/dev/null && [ "$(stat -c '%G %a' /dev/kvm)" != "kvm 660" ]; then
  log "giving /dev/kvm group kvm, mode 0660 (as udev would)"
  chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
fi
# By /proc rather than pgrep: procps need not be on a minimal CI image.
running() {
  local c
  for c in /proc/[0-9]*/comm; do [ "$(cat "$c" 2>/dev/null)" = "$1" ] && return 0; done
  return 1
}
if ! running virtlogd; then log "starting virtlogd"; virtlogd -d; fi
if ! running libvirtd; then log "starting libvirtd"; libvirtd -d; fi

# libvirtd probes QEMU capabilities on a cold start (~5 s here); allow 60 s.
deadline=$((SECONDS + 60))
until virsh -c "$URI" list --all --name >/dev/null 2>&1; do   # `version` takes ~4 s here; list is enough
  if [ "$SECONDS" -ge "$deadline" ]; then
    virsh -c "$URI" list --all --name || true
    die "libvirt at $URI did not answer within 60 s (is libvirtd running? see /var/log/libvirt/)"
  fi
  sleep 0.5
done
log "libvirt answers at $URI"

# --- 3. test domains ---------------------------------------------------------------------------
v() { virsh -q -c "$URI" "$@"; }
exists() { v domuuid -- "$1" >/dev/null 2>&1; }
state() { v domstate -- "$1" 2>/dev/null | head -n1; }

define_xml() { # NAME XML
  local name="$1" xml="$2" f
  if exists "$name"; then return; fi
  f=$(mktemp /tmp/numaplace-dom.XXXXXX.xml)
  printf '%s\n' "$xml" >"$f"
  v define "$f" >/dev/null || { rm -f "$f"; die "virsh define failed for $name"; }
  rm -f "$f"
  log "defined $name"
}
start_dom() {
  local name="$1"
  if [ "$(state "$name")" != running ]; then v start -- "$name" >/dev/null; log "started $name"; fi
}

common_devices="<serial type='null'/><memballoon model='none'/>"
# SeaBIOS with no boot device retries forever at ~0 CPU: an idle VM.
plain_domain() { # NAME(xml-escaped) VCPU_XML EXTRA_DEVICES
  cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>128</memory>
  $2
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='allow'>qemu64</model></cpu>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>$3$common_devices</devices>
</domain>
EOF
}

# The busy VM's disk: a boot sector that is just "jmp $" (EB FE) and the 55 AA signature.
if [ ! -s "$BUSY_IMG" ]; then
  mkdir -p "$IMAGES_DIR"
  tmp=$(mktemp "$IMAGES_DIR/.busy.XXXXXX")
  { printf '\xeb\xfe'; head -c 508 /dev/zero; printf '\x55\xaa'; } >"$tmp"
  mv "$tmp" "$BUSY_IMG"
fi
chmod 0644 "$BUSY_IMG"   # QEMU runs as libvirt-qemu and must read it

# Explicit strict numatune: libvirt refuses a live nodeset change in that mode (a VM with no
# <numatune> takes one, then is strict; the backend test covers that with its own VM).
define_xml numaplace-test-idle "$(plain_domain numaplace-test-idle "<vcpu placement='static' current='1'>4</vcpu>
  <numatune><memory mode='strict' nodeset='0'/></numatune>" '')"
define_xml numaplace-test-busy "$(plain_domain numaplace-test-busy "<vcpu placement='static'>1</vcpu>" \
  "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$BUSY_IMG'/><target dev='hda' bus='ide'/></disk>")"
define_xml "$ODD_NAME" "$(plain_domain "$ODD_NAME_XML" "<vcpu placement='static' current='1'>2</vcpu>" '')"
define_xml numaplace-test-numa "$(cat <<EOF
<domain type='qemu'>
  <name>numaplace-test-numa</name>
  <maxMemory slots='16' unit='MiB'>1024</maxMemory>
  <memory unit='MiB'>128</memory>
  <vcpu placement='static' current='2'>4</vcpu>
  <numatune><memory mode='restrictive' nodeset='0'/></numatune>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='allow'>qemu64</model>
    <topology sockets='2' dies='1' cores='2' threads='1'/>
    <numa>
      <cell id='0' cpus='0-1' memory='64' unit='MiB'/>
      <cell id='1' cpus='2-3' memory='64' unit='MiB'/>
    </numa>
  </cpu>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>$common_devices</devices>
</domain>
EOF
)"

start_dom numaplace-test-idle
start_dom numaplace-test-numa
start_dom "$ODD_NAME"
if [ "${NUMAPLACE_NO_BUSY:-0}" = 1 ]; then log "NUMAPLACE_NO_BUSY=1: leaving numaplace-test-busy shut off"
else start_dom numaplace-test-busy; fi

v list --all | grep numaplace-test- >&2 || true
log "ready"
