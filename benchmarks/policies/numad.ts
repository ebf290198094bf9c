/**
 * numad-style placement (numad(8), Red Hat): a user-level daemon that binds whole processes to
 * NUMA nodes. Modelled on numad 0.5's documented behaviour and defaults:
 *  - it scans every interval, between -i min:max = 5:15 s: min after it moved something, max when not;
 *  - candidates use more than half a CPU and more than 300 MB; not-yet-bound ones first, biggest
 *    magnitude (CPUs used x MB used) first, then bound ones, longest-ago bound first;
 *  - resources wanted = use / target utilisation (-u 85%), CPUs capped at the vCPU count;
 *  - nodes picked by a weighted product of free memory and free CPU (the process's own use added
 *    back, its memory biased), normalised by distance squared, enough nodes for the request;
 *  - a process bound less than 300 s ago is not re-evaluated;
 *  - already on its target nodes with >= 90% of its memory there (-m 90): left alone;
 *  - at most ONE process is bound per scan: its threads' CPU affinity and its memory (migrated)
 *    are set to the target nodes, node-level.
 * Left out: the 300 s re-evaluation bypass for processes on the busiest node, interleaved-memory
 * handling, THP scan tuning. Only the HostBackend actions are used (pin vCPUs and emulator to the
 * nodes' CPUs, set the memory nodeset), which is what numad's cpuset binding amounts to for a VM.
 */
import type { HostBackend } from '../../src/host/backend.js';
import { formatCpuSet } from '../../src/core/cpuset.js';
import type { ObservedHost, VmView } from './observe.js';
import { LoadTracker, nodesCpus } from './observe.js';
import type { Policy, PolicyRun } from './types.js';
import { LIVE, NO_BALANCING } from './types.js';

export const NUMAD_DEFAULTS = {
  minIntervalMs: 5_000,
  maxIntervalMs: 15_000,
  targetUtilization: 0.85,
  targetMemLocality: 0.9,
  cpuThreshold: 0.5,
  memoryThresholdMiB: 300,
  reevaluationDelayMs: 300_000,
};

interface Bound {
  nodes: number[];
  atMs: number;
}

interface NodeRes {
  id: number;
  cpusTotal: number;
  mbsTotal: number;
  cpusFree: number;
  mbsFree: number;
  magnitude: number;
  distances: Record<string, number>;
}

function weighted(mbs: number, cpus: number, mbsFree: number, cpusFree: number): number {
  const neededMem = Math.min(mbs, mbsFree), excessMem = Math.max(0, mbsFree - mbs);
  const neededCpu = Math.min(cpus, cpusFree), excessCpu = Math.max(0, cpusFree - cpus);
  return (neededMem * 10 + excessMem * 4) * (neededCpu * 6 + excessCpu);
}

/** numad's pick_numa_nodes for an existing process: the nodes it should be bound to. */
export function pickNodes(view: ObservedHost, v: VmView, bound: Bound | undefined, cpuReq: number, mbReq: number): number[] {
  const topo = view.sample.topology;
  const nodes: NodeRes[] = topo.nodes.filter((n) => n.cpus.length > 0).map((n) => {
    const cpusTotal = n.cpus.length;
    return {
      id: n.id, cpusTotal, mbsTotal: n.memoryMiB, distances: n.distances, magnitude: 0,
      cpusFree: Math.max(0, cpusTotal - (view.nodeCpuUsed.get(n.id) ?? 0)),
      mbsFree: n.freeMemoryMiB,
    };
  });
  const mine = (id: number) => v.memoryByNode[String(id)] ?? 0;
  const memTotal = Object.values(v.memoryByNode).reduce((a, b) => a + b, 0) || v.vm.memoryMiB;
  const onNodes = bound?.nodes;
  let avgFree = v.cpus;
  if (onNodes) {
    for (const n of nodes) if (onNodes.includes(n.id)) avgFree += n.cpusFree;
    avgFree /= onNodes.length;
  }
  let sumCpusFree = 0;
  for (const n of nodes) {
    if (!onNodes) {
      // Not yet bound: add back its memory (light bias) and its CPU in proportion to that memory.
      n.mbsFree += (mine(n.id) * 17) / 16;
      n.cpusFree += (v.cpus * mine(n.id)) / memTotal;
    } else {
      n.mbsFree += (mine(n.id) * 5) / 4;
      if (onNodes.includes(n.id)) n.cpusFree = avgFree;
    }
    sumCpusFree += n.cpusFree;
    n.cpusFree = Math.max(0.01, Math.min(n.cpusFree, n.cpusTotal));
    n.mbsFree = Math.min(n.mbsFree, n.mbsTotal);
    n.magnitude = weighted(mbReq, cpuReq, n.mbsFree, n.cpusFree);
  }
  const sumUsed = view.vms.reduce((s, x) => s + x.cpus, 0);
  const sumTotal = nodes.reduce((s, n) => s + n.cpusTotal, 0);
  const assumeEnoughCpus = sumUsed <= sumTotal || cpuReq > sumCpusFree;
  const first = nodes[0];
  const cpuFlex = ((1 - NUMAD_DEFAULTS.targetUtilization) * first.cpusTotal) / 2;
  let minReq = Math.max(Math.ceil(mbReq / first.mbsTotal), Math.ceil((cpuReq - cpuFlex) / first.cpusTotal));
  minReq = Math.min(Math.max(minReq, 0), nodes.length);
  const dist = (a: NodeRes, b: NodeRes) => a.distances[String(b.id)] ?? 10;
  const byDistanceFrom = (from: NodeRes) =>
    [...nodes].sort((a, b) => dist(a, from) - dist(b, from) || b.magnitude - a.magnitude || a.id - b.id);
  let best = nodes[0], bestMag = -1;
  for (const n of nodes) {
    const order = byDistanceFrom(n);
    let mag = 0;
    for (let j = 0; j < minReq; j++) mag += order[j].magnitude / dist(order[j], n) ** 2;
    if (mag > bestMag) { bestMag = mag; best = n; }
  }
  const order = byDistanceFrom(best);
  const target: number[] = [];
  let mbs = mbReq, cpus = cpuReq;
  for (const n of order) {
    if (!(minReq > 0 || mbs > 0 || (cpus > cpuFlex && !assumeEnoughCpus))) break;
    target.push(n.id);
    minReq--;
    const MBS_MARGIN = 100;
    if (n.mbsFree >= mbs + MBS_MARGIN) mbs = 0; else mbs -= n.mbsFree - MBS_MARGIN;
    if (n.cpusFree >= cpus) cpus = 0; else cpus -= n.cpusFree;
  }
  return target.sort((a, b) => a - b);
}

export interface NumadDecision {
  bind: { vm: string; nodes: number[] } | null;
  nextMs: number;
}

/** One numad scan: which process (at most one) to bind where, and when to scan next. */
export function numadScan(view: ObservedHost, bound: Map<string, Bound>, nowMs: number): NumadDecision {
  const d = NUMAD_DEFAULTS;
  const mem = (v: VmView) => Object.values(v.memoryByNode).reduce((a, b) => a + b, 0) || v.vm.memoryMiB;
  const candidates = view.vms.filter((v) => v.cpus > d.cpuThreshold && mem(v) > d.memoryThresholdMiB);
  const magnitude = (v: VmView) => v.cpus * mem(v);
  const unbound = candidates.filter((v) => !bound.has(v.vm.name)).sort((a, b) => magnitude(b) - magnitude(a));
  const rebind = candidates.filter((v) => bound.has(v.vm.name))
    .sort((a, b) => bound.get(a.vm.name)!.atMs - bound.get(b.vm.name)!.atMs);
  for (const v of [...unbound, ...rebind]) {
    const b = bound.get(v.vm.name);
    if (b && b.atMs + d.reevaluationDelayMs > nowMs) continue;
    const cpuReq = Math.min(v.cpus / d.targetUtilization, v.vm.vcpusCurrent);
    const mbReq = mem(v) / d.targetUtilization;
    const target = pickNodes(view, v, b, cpuReq, mbReq);
    if (target.length === 0) continue;
    const nonLocal = Object.entries(v.memoryByNode).filter(([n]) => !target.includes(Number(n))).reduce((s, [, m]) => s + m, 0);
    if (b && sameNodes(b.nodes, target) && nonLocal / mem(v) <= 1 - d.targetMemLocality) {
      b.atMs = nowMs;
      continue;
    }
    return { bind: { vm: v.vm.name, nodes: target }, nextMs: d.minIntervalMs };
  }
  return { bind: null, nextMs: d.maxIntervalMs };
}

function sameNodes(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

class NumadRun implements PolicyRun {
  private tracker = new LoadTracker();
  private bound = new Map<string, Bound>();

  async act(backend: HostBackend, nowMs: number): Promise<number> {
    const sample = await backend.sample();
    const view = this.tracker.update(sample);
    if (!view) return NUMAD_DEFAULTS.minIntervalMs;
    const alive = new Set(view.vms.map((v) => v.vm.name));
    for (const name of this.bound.keys()) if (!alive.has(name)) this.bound.delete(name);
    // A VM confined to a subset of nodes when first seen counts as bound 30 minutes ago (numad does so).
    for (const v of view.vms) {
      if (v.pinnedNodes && !this.bound.has(v.vm.name)) this.bound.set(v.vm.name, { nodes: v.pinnedNodes, atMs: nowMs - 1_800_000 });
    }
    const decision = numadScan(view, this.bound, nowMs);
    if (decision.bind) {
      const { vm, nodes } = decision.bind;
      const cpuset = formatCpuSet(nodesCpus(sample, nodes));
      const v = view.vms.find((x) => x.vm.name === vm)!;
      for (let i = 0; i < v.vm.vcpusCurrent; i++) await backend.pinVcpu(vm, i, cpuset, LIVE);
      await backend.pinEmulator(vm, cpuset, LIVE);
      await backend.setNodeset(vm, formatCpuSet(nodes), LIVE);
      this.bound.set(vm, { nodes, atMs: nowMs });
    }
    return decision.nextMs;
  }
}

export const numadPolicy: Policy = {
  name: 'numad',
  description: 'numad-style: binds the biggest process to the nodes with most free resources, one per 5-15 s scan, 85% target',
  host: NO_BALANCING,
  create: () => new NumadRun(),
};
