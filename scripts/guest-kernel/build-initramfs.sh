#!/usr/bin/env bash
# Build a busybox initramfs for Debian's kernel (fetched by fetch.sh) with chosen modules and files.
#
# Usage: build-initramfs.sh OUT.cpio.gz INIT [--module NAME]... [--file SRC=DEST]...
#   INIT           a shell script (busybox sh) that becomes /init; it may source /lib/guest-init.sh
#                  (load_modules, root_over_9p: see that file)
#   --module NAME  a module by name (e.g. 9p, virtio_balloon); its dependencies come along, and
#                  /etc/modules-order lists all of them in load order (dependencies first)
#   --file S=D     copies file S to D inside the image
# Prints OUT on success. The kernel is "$(fetch.sh)/vmlinuz".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { printf 'build-initramfs: error: %s\n' "$*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: build-initramfs.sh OUT.cpio.gz INIT [--module NAME]... [--file SRC=DEST]..."
out=$1 init=$2; shift 2
[ -f "$init" ] || die "INIT $init is not a file"
cache=$("$here/fetch.sh")
version=$(cat "$cache/version")
mods="$cache/modules/$version"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,etc,lib,newroot,run,tmp} "$root/lib/modules/$version"
cp "$cache/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$init" "$root/init"; chmod 0755 "$root/init"
cp "$here/init-lib.sh" "$root/lib/guest-init.sh"
printf '%s\n' "$version" >"$root/etc/kernel-version"
: >"$root/etc/modules-order"

# Dependency closure from modules.dep, dependencies first, each module once.
declare -A seen=()
add_module() {   # $1: path relative to the modules dir (kernel/...ko)
  local rel=$1 line dep
  [ -n "${seen[$rel]:-}" ] && return 0
  seen[$rel]=1
  line=$(grep -m1 "^$rel:" "$mods/modules.dep") || die "module $rel not in modules.dep"
  for dep in ${line#*:}; do add_module "$dep"; done
  mkdir -p "$root/lib/modules/$version/$(dirname "$rel")"
  cp "$mods/$rel" "$root/lib/modules/$version/$rel"
  printf '/lib/modules/%s/%s\n' "$version" "$rel" >>"$root/etc/modules-order"
}
while [ $# -gt 0 ]; do
  case $1 in
    --module)
      [ $# -ge 2 ] || die "--module needs a name"
      rel=$(grep -m1 -E "(^|/)$2\.ko:" "$mods/modules.dep" | cut -d: -f1) || true
      [ -n "$rel" ] || die "no module named $2 in kernel $version (built in? see $cache/config)"
      add_module "$rel"; shift 2 ;;
    --file)
      [ $# -ge 2 ] || die "--file needs SRC=DEST"
      src=${2%%=*} dest=${2#*=}
      [ -f "$src" ] || die "--file: $src is not a file"
      mkdir -p "$root/$(dirname "$dest")"; cp "$src" "$root/$dest"; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done
mkdir -p "$(dirname "$out")"
(cd "$root" && find . | "$cache/busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
chmod a+r "$out"
printf '%s\n' "$out"
