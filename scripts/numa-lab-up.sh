#!/usr/bin/env bash
# Everything the NUMA lab needs, on a fresh Debian machine (idempotent; .ci/run calls it after
# scripts/hypervisor-up.sh, which installs QEMU and libvirt):
#   - numad (Debian's, run as it ships, inside the lab by the lab benchmark; never started on this machine)
#   - Debian's kernel + busybox-static, fetched with apt and cached (scripts/guest-kernel/fetch.sh)
# A network or apt failure fails here, loudly, before any test runs.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf 'numa-lab-up: %s\n' "$*" >&2; }
die() { printf 'numa-lab-up: error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run scripts/hypervisor-up.sh first"
if ! dpkg-query -W -f='${Status}' numad 2>/dev/null | grep -q 'install ok installed'; then
  log "installing numad"
  export DEBIAN_FRONTEND=noninteractive
  policy=/usr/sbin/policy-rc.d added=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 0755 "$policy"; added=1; fi
  apt-get install -y -q --no-install-recommends numad || { apt-get update -q && apt-get install -y -q --no-install-recommends numad; } ||
    { [ "$added" = 0 ] || rm -f "$policy"; die "apt-get install numad failed"; }
  [ "$added" = 0 ] || rm -f "$policy"
fi
# Debian's package starts numad on this (one-node) machine when it can; the lab runs its own inside.
command -v numad >/dev/null || die "numad not found after install"
cache=$(bash scripts/guest-kernel/fetch.sh) || die "fetching Debian's kernel failed (scripts/guest-kernel/fetch.sh)"
log "guest kernel $(cat "$cache/version") in $cache; numad $(dpkg-query -W -f='${Version}' numad)"
