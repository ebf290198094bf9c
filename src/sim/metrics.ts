/**
 * What the benchmarks read off the simulated host: CPU use per node, how much of each VM's memory
 * traffic is local, the contract's quality measure over the load actually run, and what the
 * daemon's actions cost so far (vCPU moves, MiB migrated). No output, just data.
 */
import { allLocalCost, qualityCost, type PlacedVm } from '../core/quality.js';
import type { SimulatedHost } from './host.js';

export interface NodeMetrics {
  id: number;
  cpus: number;
  /** Busy CPU-equivalents run on the node last tick / its CPUs (0..1). */
  cpuUse: number;
  memoryUsedByVmsMiB: number;
  freeMemoryMiB: number;
}

export interface VmMetrics {
  name: string;
  /** Summed vCPU demand and what contention let run, last tick (CPU-equivalents). */
  demand: number;
  granted: number;
  /** Share of the VM's memory accesses (weighted by where its vCPUs ran) that hit local memory (0..1). */
  localAccessShare: number;
  remoteAccessShare: number;
  /** Load-weighted mean distance of its accesses (10 = all local). */
  meanDistance: number;
  memoryByNode: Record<string, number>;
}

export interface HostMetrics {
  atSeconds: number;
  ticks: number;
  nodes: NodeMetrics[];
  vms: VmMetrics[];
  /** Contract quality measure with last tick's granted busy fractions as load. */
  quality: { cost: number; allLocal: number; ratio: number };
  /** Demand contention left unmet last tick (CPU-equivalents). */
  unmetDemand: number;
  /** Online vCPUs whose affinity changed, counted per change. */
  vcpuMoves: number;
  memoryMigratedMiB: number;
}

export function hostMetrics(host: SimulatedHost): HostMetrics {
  const topo = host.topologyNow();
  const nodeIds = topo.nodes.map((n) => n.id);
  const busy = new Float64Array(nodeIds.length);
  const used = new Float64Array(nodeIds.length);
  const placed: PlacedVm[] = [];
  const vms: VmMetrics[] = [];
  const D = topo.nodes.map((n) => nodeIds.map((m) => n.distances[String(m)]));
  let unmet = 0;
  for (const vm of host.vms) {
    if (!vm.present) continue;
    const memTotal = [...vm.memByNode.values()].reduce((a, b) => a + b, 0);
    const memShare = new Float64Array(nodeIds.length);
    const memAt: [number, number][] = []; // (node index, share) where the VM has memory
    for (const [id, mib] of vm.memByNode) {
      const ni = host.nodeIndex.get(id)!;
      used[ni] += mib;
      if (memTotal > 0 && mib > 0) {
        memShare[ni] = mib / memTotal;
        memAt.push([ni, mib / memTotal]);
      }
    }
    // Mean distance of an access from node ni to this VM's memory.
    const distFrom = (ni: number) => (memAt.length ? memAt.reduce((acc, [mj, share]) => acc + share * D[ni][mj], 0) : 10);
    const ranOn = new Float64Array(nodeIds.length);
    let demand = 0, granted = 0;
    for (let v = 0; v < vm.vcpusCurrent; v++) {
      demand += vm.lastDemand[v];
      granted += vm.lastGranted[v];
      const byNode = vm.lastGrantedByNode[v];
      for (let ni = 0; ni < byNode.length; ni++) ranOn[ni] += byNode[ni];
    }
    // The quality measure is linear in load, so one piece per node stands for all vCPUs that ran there.
    const load: number[] = [];
    const vcpuNodes: number[] = [];
    let local = 0, dist = 0;
    ranOn.forEach((g, ni) => {
      if (g <= 0) return;
      busy[ni] += g;
      load.push(g);
      vcpuNodes.push(nodeIds[ni]);
      local += g * memShare[ni];
      dist += g * distFrom(ni);
    });
    unmet += demand - granted;
    placed.push({ load, vcpuNodes, memoryMiB: Object.fromEntries([...vm.memByNode].map(([n, m]) => [String(n), m])) });
    vms.push({
      name: vm.spec.name,
      demand,
      granted,
      localAccessShare: granted > 0 ? local / granted : 0,
      remoteAccessShare: granted > 0 ? 1 - local / granted : 0,
      meanDistance: granted > 0 ? dist / granted : 0,
      memoryByNode: Object.fromEntries([...vm.memByNode].sort((a, b) => a[0] - b[0]).map(([n, m]) => [String(n), m])),
    });
  }
  const cost = qualityCost(topo, placed);
  const allLocal = allLocalCost(placed);
  return {
    atSeconds: host.now,
    ticks: host.ticks,
    nodes: topo.nodes.map((n, i) => ({
      id: n.id,
      cpus: n.cpus.length,
      cpuUse: n.cpus.length ? busy[i] / n.cpus.length : 0,
      memoryUsedByVmsMiB: used[i],
      freeMemoryMiB: n.freeMemoryMiB,
    })),
    vms,
    quality: { cost, allLocal, ratio: allLocal > 0 ? cost / allLocal : 1 },
    unmetDemand: unmet,
    vcpuMoves: host.vcpuMoves,
    memoryMigratedMiB: host.memoryMigratedMiB,
  };
}
