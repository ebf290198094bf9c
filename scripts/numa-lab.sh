#!/usr/bin/env bash
# Boot a NUMA lab topology (a real multi-node Linux kernel in QEMU TCG, the machine's root over 9p,
# libvirtd inside), run one command in it, print its output, power off. As root.
#   scripts/numa-lab.sh --list
#   scripts/numa-lab.sh four-node                       # numactl -H and libvirt's <cells>
#   scripts/numa-lab.sh memory-only -- node bin/numaplace.js topology --connect qemu:///system
# Options before --: --numa-balancing (kernel.numa_balancing=1), --keep (keep the work dir/console log).
# Topologies: scripts/numa-lab/topologies.json. Exits with the command's status; 1 with the failing
# stage named if the lab does not come up (QEMU is always killed).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/test/lab/cli.js ] || npm run build >&2
exec node dist/test/lab/cli.js "$@"
