/**
 * The quality measure (shared/DESIGN.md, contract): for VM v with vCPU loads l_i,
 * vCPU i on node n_i and memory share s_v(j) on node j,
 *   cost = sum_v sum_i l_i * sum_j s_v(j) * D[n_i][j].
 * All-local is 10 per unit of load. Pure.
 */
import type { HostTopology } from './topology.js';

export interface PlacedVm {
  load: number[];
  /** Node of each vCPU (same index as load). */
  vcpuNodes: number[];
  /** MiB on each node, keyed by node id. */
  memoryMiB: Record<string, number>;
}

export type DistanceMatrix = Map<number, Map<number, number>>;

export function distanceMatrix(topo: HostTopology): DistanceMatrix {
  const m = new Map<number, Map<number, number>>();
  for (const n of topo.nodes) m.set(n.id, new Map(Object.entries(n.distances).map(([k, v]) => [Number(k), v])));
  return m;
}

/**
 * Mean distance from `node` to the VM's memory (weighted by MiB); 10 when no memory is recorded.
 * A missing distance is an error, never a guess: every topology reader fills the matrix (kernel
 * defaults where the source has none), so a hole means a broken topology, and a guessed 20 would
 * make the planner's figures disagree with the measure reported everywhere else.
 */
export function distanceToMemory(D: DistanceMatrix, node: number, memoryMiB: Record<string, number>): number {
  const entries = Object.entries(memoryMiB).filter(([, mib]) => mib > 0);
  const total = entries.reduce((s, [, mib]) => s + mib, 0);
  if (total === 0) return 10;
  let d = 0;
  for (const [to, mib] of entries) {
    const dist = D.get(node)?.get(Number(to));
    if (dist === undefined) throw new Error(`no distance from node ${node} to node ${to}`);
    d += (mib / total) * dist;
  }
  return d;
}

/** Cost of one VM; a VM with no memory recorded counts as all-local. */
export function vmCost(D: DistanceMatrix, vm: PlacedVm): number {
  let cost = 0;
  vm.load.forEach((l, i) => {
    if (l !== 0) cost += l * distanceToMemory(D, vm.vcpuNodes[i], vm.memoryMiB);
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
