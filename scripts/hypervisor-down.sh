#!/usr/bin/env bash
# Destroy and undefine the test domains scripts/hypervisor-up.sh made (and any numaplace-test-bench-*
# left by an interrupted benchmarks/sampling-bench), and the busy VM's boot image. Leaves every other
# domain (other numaplace-test-* VMs included), libvirtd and virtlogd alone.
set -euo pipefail
URI="${NUMAPLACE_URI:-qemu:///system}"
v() { virsh -q -c "$URI" "$@"; }
# shellcheck disable=SC2016 # literal: part of the VM name (see hypervisor-up.sh)
ODD_NAME='numaplace-test-it'"'"'s "odd"; $(touch numaplace-pwned) x'

v list --all --name >/dev/null 2>&1 || { echo "hypervisor-down: libvirt at $URI does not answer; nothing to do" >&2; exit 0; }

# One name per line; names may hold spaces, quotes and ';' and are only ever passed as one argument.
while IFS= read -r name; do
  case "$name" in
    numaplace-test-idle | numaplace-test-busy | numaplace-test-numa | "$ODD_NAME" | numaplace-test-bench-*) ;;
    *) continue ;;
  esac
  if [ "$(v domstate -- "$name" 2>/dev/null | head -n1)" != "shut off" ]; then
    v destroy -- "$name" >/dev/null 2>&1 || true
  fi
  v undefine -- "$name" >/dev/null && echo "hypervisor-down: removed $name" >&2
done < <(v list --all --name)
rm -f /var/lib/libvirt/images/numaplace-test-busy.img
