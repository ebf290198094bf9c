/**
 * The quality measure (shared/DESIGN.md, contract): for VM v with vCPU loads l_i,
 * vCPU i on node n_i and memory share s_v(j) on node j,
 *   cost = sum_v sum_i l_i * sum_j s_v(j) * D[n_i][j].
 * All-local is 10 per unit of load. Pure.
 */
import type { HostTopology } from '../src/topology/types.js';

export interface PlacedVm {
  load: number[];
  /** Node of each vCPU (same index as load). */
  vcpuNodes: number[];
  /** MiB on each node, keyed by node id. */
  memoryMiB: Record<string, number>;
}

export function distanceMatrix(topo: HostTopology): Map<number, Map<number, number>> {
  const m = new Map<number, Map<number, number>>();
  for (const n of topo.nodes) m.set(n.id, new Map(Object.entries(n.distances).map(([k, v]) => [Number(k), v])));
  return m;
}

/** Cost of one VM; a VM with no memory recorded counts as all-local. */
export function vmCost(D: Map<number, Map<number, number>>, vm: PlacedVm): number {
  const entries = Object.entries(vm.memoryMiB).filter(([, mib]) => mib > 0);
  const total = entries.reduce((s, [, mib]) => s + mib, 0);
  let cost = 0;
  vm.load.forEach((l, i) => {
    if (l === 0) return;
    const home = vm.vcpuNodes[i];
    if (total === 0) {
      cost += l * 10;
      return;
    }
    let d = 0;
    for (const [node, mib] of entries) {
      const dist = D.get(home)?.get(Number(node));
      if (dist === undefined) throw new Error(`no distance from node ${home} to node ${node}`);
      d += (mib / total) * dist;
    }
    cost += l * d;
  });
  return cost;
}

export function qualityCost(topo: HostTopology, vms: PlacedVm[]): number {
  const D = distanceMatrix(topo);
  return vms.reduce((s, vm) => s + vmCost(D, vm), 0);
}

/** The lowest possible cost: every unit of load local to its memory. */
export function allLocalCost(vms: { load: number[] }[]): number {
  return 10 * vms.reduce((s, vm) => s + vm.load.reduce((a, b) => a + b, 0), 0);
}
