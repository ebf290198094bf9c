/** The host's NUMA topology: one model whatever the source (capabilities XML, sysfs, numactl, simulation). */

export interface CpuInfo {
  id: number;
  /** NUMA node the CPU belongs to; -1 when the source does not say (an offline CPU sysfs does not place). */
  node: number;
  /** Physical package, die and core ids; -1 when the source does not give them (numactl -H, offline CPUs). */
  socket: number;
  die: number;
  core: number;
  /** Thread siblings sharing the core, this CPU included (sorted). */
  siblings: number[];
  online: boolean;
}

export interface NumaNode {
  id: number;
  /** Online CPUs of the node, sorted. Empty for a memory-only node (CXL, HBM). */
  cpus: number[];
  memoryMiB: number;
  freeMemoryMiB: number;
  /** SLIT distance to every node, keyed by node id (string keys, as in the JSON contract). */
  distances: Record<string, number>;
  /** Page pools of the node (4 KiB normal pages and each huge page size), when the source gives them. */
  pages?: PagePool[];
}

export interface PagePool {
  sizeKiB: number;
  /** Pages of this size in the node's pool (for the base page size: memory not reserved for huge pages). */
  count: number;
}

export interface HostTopology {
  nodes: NumaNode[];
  /** Per-CPU details, online and offline, sorted by id. */
  cpus: CpuInfo[];
  /** What the source left out or what was assumed (e.g. default distances). */
  warnings: string[];
  /** Where it came from: "capabilities" (a file), "virsh" or "virsh:URI", "sysfs" or "sysfs:ROOT", "numactl", "simulated:NAME". */
  source?: string;
}

/** Kernel defaults used when a source gives no distance matrix. */
export const LOCAL_DISTANCE = 10;
export const REMOTE_DISTANCE = 20;

export class TopologyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopologyError';
  }
}

export function distance(topo: HostTopology, from: number, to: number): number {
  const node = topo.nodes.find((n) => n.id === from);
  const d = node?.distances[String(to)];
  if (d === undefined) throw new TopologyError(`no distance from node ${from} to node ${to}`);
  return d;
}

/** All online CPUs of the host. */
export function onlineCpus(topo: HostTopology): number[] {
  return topo.nodes.flatMap((n) => n.cpus).sort((a, b) => a - b);
}
