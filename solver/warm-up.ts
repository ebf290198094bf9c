/**
 * The problem a new solver worker solves before its first real one (solve.ts warmUp()): a
 * synthetic host that sends work through every hot path of the pipeline (greedy starts, local
 * search, the memory repack of hosts with memory-only nodes, ruin and recreate, column generation
 * and the exact MILPs, cell and split columns, dedicated cores, fixed VMs, decode, verify), so the
 * first real solve runs on code V8 has already optimised. Measured cold, the first solve of a
 * 256-VM host with memory-only nodes hit the 1 s deadline and gave a different answer each run.
 * Pure and seeded: the same problem every time.
 */
import type { CpuInfo, HostTopology, NumaNode } from '../src/core/topology.js';
import type { Problem, ProblemVm } from './types.js';

const CPU_NODES = 4;
const CPUS_PER_NODE = 8;
const GiB = 1024;

function warmUpTopology(): HostTopology {
  const nodes: NumaNode[] = [];
  const cpus: CpuInfo[] = [];
  // CPU nodes 0-3 (two sockets), memory-only nodes 4 and 5 (one per socket), as on a CXL host
  const distance = (a: number, b: number) => {
    if (a === b) return 10;
    if (a < CPU_NODES && b < CPU_NODES) return Math.floor(a / 2) === Math.floor(b / 2) ? 16 : 21;
    if (a >= CPU_NODES && b >= CPU_NODES) return 35;
    const cpuNode = Math.min(a, b);
    return Math.floor(cpuNode / 2) === Math.max(a, b) - CPU_NODES ? 25 : 31;
  };
  for (let n = 0; n < CPU_NODES + 2; n++) {
    const ids = n < CPU_NODES ? Array.from({ length: CPUS_PER_NODE }, (_, k) => n * CPUS_PER_NODE + k) : [];
    for (const id of ids) {
      const first = id - (id % 2);
      cpus.push({ id, node: n, socket: Math.floor(n / 2), die: 0, core: first / 2, siblings: [first, first + 1], online: true });
    }
    const memoryMiB = n < CPU_NODES ? 16 * GiB : 64 * GiB;
    nodes.push({
      id: n, cpus: ids, memoryMiB,
      // DRAM mostly taken, memory-only nodes roomy: which VMs keep local memory is the contested part
      freeMemoryMiB: Math.floor(memoryMiB * (n < CPU_NODES ? [0.3, 0.45, 0.35, 0.4][n] : 0.9)),
      distances: Object.fromEntries(Array.from({ length: CPU_NODES + 2 }, (_, m) => [String(m), distance(n, m)])),
    });
  }
  return { nodes, cpus, warnings: [], source: 'simulated:solver-warm-up' };
}

export function warmUpProblem(): Problem {
  let seed = 12345;
  const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const topology = warmUpTopology();
  const sizes = [1, 2, 2, 4, 8];
  const raw = Array.from({ length: 64 }, () => {
    const vcpus = sizes[Math.floor(rnd() * sizes.length)];
    return { vcpus, w: Array.from({ length: vcpus }, () => 0.2 + rnd()), m: 0.4 + 1.2 * rnd() };
  });
  // 80% of the CPUs busy and 75% of the free memory asked for: tight enough that the LP stage runs
  const capacity = CPU_NODES * CPUS_PER_NODE;
  const free = topology.nodes.reduce((a, n) => a + n.freeMemoryMiB, 0);
  const scale = (0.8 * capacity) / raw.reduce((a, r) => a + r.w.reduce((x, y) => x + y, 0), 0);
  const memScale = (0.75 * free) / raw.reduce((a, r) => a + r.m * r.vcpus, 0);
  const vms: ProblemVm[] = raw.map((r, i) => {
    const load = r.w.map((w) => Math.min(1, Math.round(w * scale * 1000) / 1000));
    const memoryMiB = 256 * Math.max(1, Math.floor((r.m * r.vcpus * memScale) / 256));
    const vm: ProblemVm = { name: `warm-${i}`, vcpus: r.vcpus, load, memoryMiB };
    if (i % 4 === 0) {
      // a quarter already placed, all on one node with memory there or on its socket's memory-only node
      const n = (i / 4) % CPU_NODES;
      const memNode = rnd() < 0.5 ? n : CPU_NODES + Math.floor(n / 2);
      vm.current = { vcpuNodes: new Array<number>(r.vcpus).fill(n), memoryMiB: { [String(memNode)]: memoryMiB } };
      if (i % 32 === 0) vm.fixed = true;
    }
    if (r.vcpus === 4 && i % 3 === 0) {
      const half = Math.floor(memoryMiB / 2 / 256) * 256;
      vm.cells = [{ id: 0, vcpus: [0, 1], memoryMiB: half }, { id: 1, vcpus: [2, 3], memoryMiB: memoryMiB - half }];
    } else if (r.vcpus === 2 && i % 16 === 1) vm.dedicated = true;
    return vm;
  });
  return { topology, vms };
}
