#!/usr/bin/env bash
# Run a command inside ROOT (a Debian tree) confined roughly as deploy/numaplace.service confines the
# daemon: a private mount namespace where ROOT is read-only except STATE (StateDirectory=,
# ProtectSystem=strict), a private /tmp (PrivateTmp=), /proc and a read-only /sys, then chroot,
# no capabilities at all (CapabilityBoundingSet= empty) and no_new_privs (NoNewPrivileges=yes).
# Usage: run-confined.sh ROOT STATE_DIR_IN_ROOT COMMAND [ARG...]
# Without --fork-less tricks: the command ends up as this script's process (exec), so signals reach it.
set -euo pipefail
if [ "${1:-}" != --inside ]; then
  exec unshare --mount --propagation private -- "$0" --inside "$@"
fi
shift
root=$1 state=$2; shift 2
mkdir -p "$root$state"
mount --bind "$root" "$root"
mount --bind "$root$state" "$root$state"
mount -t proc proc "$root/proc"
mount --bind /sys "$root/sys" && mount -o remount,bind,ro "$root/sys"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mount -o remount,bind,ro "$root"
exec chroot "$root" setpriv --bounding-set=-all --inh-caps=-all --no-new-privs -- "$@"
