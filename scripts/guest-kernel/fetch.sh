#!/usr/bin/env bash
# Fetch Debian's own kernel (linux-image-amd64) and busybox-static with apt, unpack them without
# installing, and cache them. Shared by the multi-node NUMA lab and the guest-OS hot-plug tests.
#
# Usage: fetch.sh            prints the cache directory on stdout once it holds:
#          vmlinuz              the kernel
#          modules/VERSION/     its modules with a modules.dep (made by busybox depmod)
#          busybox              a static busybox
#          version              the kernel version string
# Environment: NUMAPLACE_GUEST_CACHE (default /var/cache/numaplace/guest-kernel).
# Idempotent: a complete cache is reused as it is (delete the directory to refresh it).
set -euo pipefail
CACHE="${NUMAPLACE_GUEST_CACHE:-/var/cache/numaplace/guest-kernel}"
log() { printf 'guest-kernel: %s\n' "$*" >&2; }
die() { printf 'guest-kernel: error: %s\n' "$*" >&2; exit 1; }

if [ -s "$CACHE/vmlinuz" ] && [ -x "$CACHE/busybox" ] && [ -s "$CACHE/version" ] &&
   [ -s "$CACHE/modules/$(cat "$CACHE/version")/modules.dep" ]; then
  printf '%s\n' "$CACHE"; exit 0
fi

command -v apt-get >/dev/null || die "apt-get not found: this needs a Debian host (Debian's kernel and busybox come from apt)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt-get download drops privileges to _apt, which cannot write a root-owned mktemp dir.
chmod 0777 "$work"
cd "$work"
# The metapackage names the current kernel package; ask apt which one it is.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
if [ -z "$kpkg" ]; then
  log "apt lists empty or stale; running apt-get update"
  apt-get update -q >&2 || die "apt-get update failed"
  kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
fi
[ -n "$kpkg" ] || die "cannot tell which kernel package linux-image-amd64 depends on (apt-cache depends linux-image-amd64)"
log "downloading $kpkg and busybox-static"
apt-get download -q "$kpkg" busybox-static >&2 || die "apt-get download $kpkg busybox-static failed"
mkdir -p k b
dpkg -x "$work"/linux-image-*.deb k
dpkg -x "$work"/busybox-static_*.deb b
version=$(basename "$(ls -d k/lib/modules/*/ | head -n1)")
[ -s "k/boot/vmlinuz-$version" ] || die "no vmlinuz-$version in $kpkg"
# dpkg -x does not run depmod; busybox's depmod writes modules.dep for the unpacked tree.
b/bin/busybox depmod -b k "$version" || die "depmod failed for $version"

tmp="$CACHE.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp/modules"
cp "k/boot/vmlinuz-$version" "$tmp/vmlinuz"
cp "k/boot/config-$version" "$tmp/config"
mv "k/lib/modules/$version" "$tmp/modules/$version"
cp b/bin/busybox "$tmp/busybox"
printf '%s\n' "$version" >"$tmp/version"
chmod -R a+rX "$tmp"   # QEMU runs as libvirt-qemu when libvirt boots this kernel
mkdir -p "$(dirname "$CACHE")"
rm -rf "$CACHE"; mv "$tmp" "$CACHE"
log "cached kernel $version in $CACHE"
printf '%s\n' "$CACHE"
