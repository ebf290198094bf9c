/**
 * Named synthetic hosts for tests, benchmarks and the simulated backend.
 * Multi-node NUMA hosts cannot exist on the 1-node CI machines, so these stand in for them.
 */
import type { CpuInfo, HostTopology, NumaNode } from '../core/topology.js';
import { TopologyError } from '../core/topology.js';
import { validateTopology } from '../core/topology-validate.js';

export interface SyntheticSpec {
  /** Cores per node (physical cores). */
  coresPerNode: number[];
  /** Threads per core (2 = SMT). */
  threadsPerCore: number;
  /** Node -> socket. */
  socketOf: number[];
  memoryMiB: number[];
  freeMemoryMiB?: number[];
  distances: number[][];
}

/**
 * Build a topology the way Linux numbers CPUs: first thread of every core across
 * the host, then the second threads (so siblings look like "0,64").
 */
export function buildTopology(spec: SyntheticSpec, source: string): HostTopology {
  const n = spec.coresPerNode.length;
  if (spec.distances.length !== n || spec.distances.some((row) => row.length !== n)) {
    throw new TopologyError(`synthetic topology ${source}: distance matrix is not ${n}x${n}`);
  }
  const totalCores = spec.coresPerNode.reduce((a, b) => a + b, 0);
  const cpus: CpuInfo[] = [];
  const nodes: NumaNode[] = [];
  let coreBase = 0;
  for (let node = 0; node < n; node++) {
    const nodeCpus: number[] = [];
    for (let c = 0; c < spec.coresPerNode[node]; c++) {
      const core = coreBase + c;
      const siblings = Array.from({ length: spec.threadsPerCore }, (_, t) => core + t * totalCores);
      for (const id of siblings) {
        nodeCpus.push(id);
        cpus.push({ id, node, socket: spec.socketOf[node], die: 0, core, siblings, online: true });
      }
    }
    coreBase += spec.coresPerNode[node];
    const distances: Record<string, number> = {};
    spec.distances[node].forEach((d, j) => (distances[String(j)] = d));
    nodes.push({
      id: node,
      cpus: nodeCpus.sort((a, b) => a - b),
      memoryMiB: spec.memoryMiB[node],
      freeMemoryMiB: spec.freeMemoryMiB?.[node] ?? spec.memoryMiB[node],
      distances,
    });
  }
  cpus.sort((a, b) => a.id - b.id);
  return validateTopology({ nodes, cpus, warnings: [], source: `simulated:${source}` });
}

function matrix(n: number, d: (i: number, j: number) => number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 10 : d(i, j))));
}

const GiB = 1024;

const SPECS: Record<string, () => SyntheticSpec> = {
  /** Two-socket server, one node per socket, 8 CPUs each, no SMT; SLIT 10/21 as Intel firmware reports. */
  '2x8': () => ({
    coresPerNode: [8, 8], threadsPerCore: 1, socketOf: [0, 1],
    memoryMiB: [32 * GiB, 32 * GiB], distances: matrix(2, () => 21),
  }),
  /** The seed document's host (numactl -H): 4 nodes x 16 CPUs, distances 10/15/20. */
  '4x16': () => ({
    coresPerNode: [16, 16, 16, 16], threadsPerCore: 1, socketOf: [0, 0, 1, 1],
    memoryMiB: [31571, 32190, 32190, 32190],
    distances: [[10, 15, 20, 20], [15, 10, 20, 20], [20, 20, 10, 15], [20, 20, 15, 10]],
  }),
  /** AMD EPYC-like, 2 sockets x NPS4: 8 nodes of 8 cores x 2 threads; 10 local, 12 same socket, 32 across. */
  '8x16': () => ({
    coresPerNode: Array(8).fill(8), threadsPerCore: 2, socketOf: [0, 0, 0, 0, 1, 1, 1, 1],
    memoryMiB: Array(8).fill(64 * GiB),
    distances: matrix(8, (i, j) => (Math.floor(i / 4) === Math.floor(j / 4) ? 12 : 32)),
  }),
  /** Large 4-socket host with 4 nodes per socket: 16 nodes of 16 CPUs; 10/16 same socket/22 neighbour socket/28 far. */
  '16x16': () => ({
    coresPerNode: Array(16).fill(16), threadsPerCore: 1, socketOf: Array.from({ length: 16 }, (_, i) => Math.floor(i / 4)),
    memoryMiB: Array(16).fill(64 * GiB),
    distances: matrix(16, (i, j) => {
      const si = Math.floor(i / 4), sj = Math.floor(j / 4);
      if (si === sj) return 16;
      return Math.abs(si - sj) === 2 ? 28 : 22;
    }),
  }),
  /** 2x8 plus a memory-only node (CXL expander): node 2 has memory and no CPUs, far from both sockets. */
  '2x8-cxl': () => ({
    coresPerNode: [8, 8, 0], threadsPerCore: 1, socketOf: [0, 1, 0],
    memoryMiB: [32 * GiB, 32 * GiB, 128 * GiB],
    distances: [[10, 21, 24], [21, 10, 30], [24, 30, 10]],
  }),
};

export const SYNTHETIC_TOPOLOGY_NAMES = Object.keys(SPECS);

export function syntheticTopology(name: string): HostTopology {
  const spec = SPECS[name];
  if (!spec) throw new TopologyError(`unknown synthetic topology ${JSON.stringify(name)}; known: ${SYNTHETIC_TOPOLOGY_NAMES.join(', ')}`);
  return buildTopology(spec(), name);
}
