/**
 * Seeded placement instances on the synthetic topologies: VMs whose summed load is
 * a given share of the host's CPU capacity, memory a given share of its free memory
 * (each node with a different share of its memory free),
 * optionally with a current placement (a plausible, feasible, not optimal one:
 * first fit in arrival order, memory partly left on a neighbour), in which case
 * the nodes' free memory is what that placement leaves.
 */
import { syntheticTopology } from '../src/topology/synthetic.js';
import type { Problem, ProblemVm } from '../solver/types.js';

export interface InstanceSpec {
  topology: string;
  vms: number;
  /** Summed vCPU load / host CPU capacity, e.g. 0.8. */
  loadFraction: number;
  /** Summed VM memory / host free memory. Default 0.6. */
  memoryFraction?: number;
  withCurrent: boolean;
  seed: number;
  timeLimitMs?: number;
}

/** Park-Miller: small, seeded, good enough for instance generation. */
export function rng(seed: number): () => number {
  let s = (Math.abs(Math.floor(seed)) % 2147483646) + 1;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

export function makeInstance(spec: InstanceSpec): Problem {
  const rnd = rng(spec.seed * 7919 + spec.vms * 31 + spec.topology.length);
  const topo = syntheticTopology(spec.topology);
  const nodes = topo.nodes;
  const capacity = nodes.reduce((s, n) => s + n.cpus.length, 0);
  const nodeCpus = Math.max(...nodes.map((n) => n.cpus.length));
  // Host use (page cache, other tenants) leaves each node a different share of its memory free, so
  // memory-heavy VMs compete for the roomy nodes and some must go remote: that is where placement matters.
  for (const n of nodes) n.freeMemoryMiB = Math.floor(n.memoryMiB * (0.45 + 0.55 * rnd()));
  const totalMem = nodes.reduce((s, n) => s + n.freeMemoryMiB, 0);
  const memFrac = spec.memoryFraction ?? 0.6;
  const targetLoad = capacity * spec.loadFraction;
  const perVm = targetLoad / spec.vms;
  // vCPU counts so that a VM's load stays under half a node and its vCPUs are 10-90% busy on average
  const sizes = [1, 2, 4, 8, 16].filter((k) => k <= nodeCpus / 2);
  const raw: { k: number; w: number[] }[] = [];
  for (let i = 0; i < spec.vms; i++) {
    const fit = sizes.filter((k) => perVm / k <= 0.9 && perVm / k >= 0.05);
    const choices = fit.length ? fit : [sizes[0]];
    const k = choices[Math.floor(rnd() * choices.length)];
    raw.push({ k, w: Array.from({ length: k }, () => 0.2 + rnd()) });
  }
  const wsum = raw.reduce((s, r) => s + r.w.reduce((a, b) => a + b, 0), 0);
  const scale = targetLoad / wsum;
  const memPerLoad = (totalMem * memFrac) / targetLoad;
  const vms: ProblemVm[] = raw.map((r, i) => {
    const load = r.w.map((w) => Math.min(1, Math.round(w * scale * 1000) / 1000));
    const l = load.reduce((a, b) => a + b, 0);
    const memoryMiB = Math.max(256, Math.round((l * memPerLoad * (0.5 + rnd())) / 256) * 256);
    return { name: `vm${String(i).padStart(4, '0')}`, vcpus: r.k, load, memoryMiB };
  });
  // Memory sizes are random: scale them so the total is exactly the asked share of free memory.
  const memTotal = vms.reduce((s, v) => s + v.memoryMiB, 0);
  const memScale = (totalMem * memFrac) / memTotal;
  for (const v of vms) v.memoryMiB = Math.max(256, Math.floor((v.memoryMiB * memScale) / 256) * 256);
  const problem: Problem = { topology: topo, vms, options: { timeLimitMs: spec.timeLimitMs ?? 1000 } };
  if (spec.withCurrent) placeCurrent(problem, rnd);
  return problem;
}

/** First fit in arrival order on a rotating start node; a third of the VMs keep part of their memory on a neighbour. */
export function placeCurrent(problem: Problem, rnd: () => number) {
  const nodes = problem.topology.nodes;
  const cpuLeft = nodes.map((n) => n.cpus.length * 0.97);
  const memLeft = nodes.map((n) => n.freeMemoryMiB);
  const cpuNodes = nodes.map((n, i) => i).filter((i) => nodes[i].cpus.length > 0);
  problem.vms.forEach((vm, v) => {
    const l = vm.load.reduce((a, b) => a + b, 0);
    const start = Math.floor(rnd() * cpuNodes.length);
    for (let k = 0; k < cpuNodes.length; k++) {
      const a = cpuNodes[(start + k) % cpuNodes.length];
      if (cpuLeft[a] < l) continue;
      const split = rnd() < 0.33;
      const b = split ? cpuNodes[(cpuNodes.indexOf(a) + 1) % cpuNodes.length] : a;
      const onB = split ? Math.round((vm.memoryMiB * 0.4) / 256) * 256 : 0;
      const onA = vm.memoryMiB - onB;
      if (memLeft[a] < onA + (a === b ? onB : 0) || memLeft[b] < onB) continue;
      cpuLeft[a] -= l;
      memLeft[a] -= onA;
      memLeft[b] -= onB;
      const memoryMiB: Record<string, number> = { [String(nodes[a].id)]: onA };
      if (onB > 0) memoryMiB[String(nodes[b].id)] = (memoryMiB[String(nodes[b].id)] ?? 0) + onB;
      vm.current = { vcpuNodes: new Array(vm.vcpus).fill(nodes[a].id), memoryMiB };
      return;
    }
    void v; // no room anywhere: a new VM without a current placement
  });
  nodes.forEach((n, i) => (n.freeMemoryMiB = Math.max(0, Math.floor(memLeft[i]))));
}
