#!/usr/bin/env bash
# Build the hot-plug test guest: Debian's kernel (scripts/guest-kernel/fetch.sh) and a busybox initramfs
# with virtio-balloon, virtio-console (for qemu-guest-agent's virtio-serial port), the host's own
# qemu-ga with its shared libraries, the seed's onlining rules (hotplug-rules.sh run by busybox
# `uevent`), a CPU burner and a memory filler (init.sh says how the kernel command line drives them).
#
# Usage: build.sh        prints two lines: the kernel path and the initramfs path (both readable by
#                        libvirt-qemu). The image is cached by content in $NUMAPLACE_GUEST_OS_CACHE
#                        (default /var/cache/numaplace/guest-os) and rebuilt when an input changes.
# Needs: qemu-guest-agent installed on the host (scripts/hypervisor-up.sh installs it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { printf 'guest-os: error: %s\n' "$*" >&2; exit 1; }
OUT="${NUMAPLACE_GUEST_OS_CACHE:-/var/cache/numaplace/guest-os}"
kernel=$("$here/../guest-kernel/fetch.sh")
GA=$(command -v qemu-ga || echo /usr/sbin/qemu-ga)
[ -x "$GA" ] || die "qemu-ga not found: install qemu-guest-agent (scripts/hypervisor-up.sh does)"

# qemu-ga and the shared libraries it loads (ldd), at the same paths inside the guest.
files=("$GA")
while read -r lib; do files+=("$lib"); done < <(ldd "$GA" | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^\s*\(\/[^ ]*\) .*/\1/p')
key=$(cat "$here/build.sh" "$here/init.sh" "$here/hotplug-rules.sh" "$here/../guest-kernel/init-lib.sh" "$here/../guest-kernel/build-initramfs.sh" "$kernel/version" "${files[@]}" | sha256sum | cut -c1-16)
img="$OUT/initrd-$key.cpio.gz"
if [ ! -s "$img" ]; then
  args=()
  for f in "${files[@]}"; do args+=(--file "$f=$f"); done
  mkdir -p "$OUT"; chmod 0755 "$OUT"
  "$here/../guest-kernel/build-initramfs.sh" "$img" "$here/init.sh" \
    --module virtio_balloon --module virtio_console --module virtio_pci \
    --file "$here/hotplug-rules.sh=/lib/hotplug-rules.sh" "${args[@]}" >/dev/null
  # keep only this image
  find "$OUT" -maxdepth 1 -name 'initrd-*.cpio.gz' ! -name "${img##*/}" -delete
fi
chmod a+r "$img"
printf '%s\n%s\n' "$kernel/vmlinuz" "$img"
