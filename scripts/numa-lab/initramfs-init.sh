#!/bin/sh
# /init of the NUMA lab's initramfs (busybox sh). The kernel passes lab_stage2=PATH (a script on the
# machine's own root, seen over 9p) in the environment; it runs chrooted in the overlay root.
. /lib/guest-init.sh
early_setup
echo "numa-lab: stage modules"
load_modules
echo "numa-lab: stage 9p-root"
[ -n "$lab_stage2" ] || { echo "numa-lab: FAILED 9p-root: no lab_stage2= on the kernel command line"; guest_poweroff; }
ROOT_9P_CACHE=${lab_9p_cache:-} root_over_9p hostroot /bin/bash "$lab_stage2"
echo "numa-lab: FAILED 9p-root: could not mount the machine's root over 9p (tag hostroot)"
guest_poweroff
