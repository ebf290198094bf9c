#!/usr/bin/env bash
# A plain Debian 12 root file system (debootstrap --variant=minbase bookworm, from the mirror apt
# uses by default), cached as a pristine tree: the package test copies it and installs the .deb there.
# Usage: scripts/debian-root.sh     prints the cached tree's path (NUMAPLACE_DEBIAN_ROOT overrides it)
set -euo pipefail
dest="${NUMAPLACE_DEBIAN_ROOT:-/var/cache/numaplace/debian12-minbase}"
die() { printf 'debian-root: error: %s\n' "$*" >&2; exit 1; }
if [ -f "$dest/.numaplace-complete" ]; then printf '%s\n' "$dest"; exit 0; fi
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap)"
if ! command -v debootstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2; } ||
    die "cannot install debootstrap"
fi
tmp="$dest.tmp.$$"
rm -rf "$tmp"; mkdir -p "$(dirname "$dest")"
debootstrap --variant=minbase bookworm "$tmp" >&2 || { rm -rf "$tmp"; die "debootstrap bookworm failed (see above)"; }
touch "$tmp/.numaplace-complete"
rm -rf "$dest"; mv "$tmp" "$dest"
printf '%s\n' "$dest"
