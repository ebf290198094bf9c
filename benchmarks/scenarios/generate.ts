/**
 * Writes the closed-loop benchmark scenarios (simulated host scenario JSON, docs/scenarios.md) into
 * benchmarks/scenarios/. Seeded: the same code writes the same files (a unit test checks it).
 * `node dist/benchmarks/scenarios/generate.js` after changing this file, then commit the JSON.
 *
 * Every VM starts the way an unmanaged host leaves it: vCPUs unpinned (the kernel spreads them),
 * numatune restrictive over all nodes, and memory where it was first touched: most of it on the node the VM booted on (chosen by free
 * memory), the rest spread over the other nodes. Loads are scaled so the host's mean CPU demand
 * and its memory use hit the scenario's targets.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticTopology } from '../../src/topology/synthetic.js';

type Json = Record<string, unknown>;

/** mulberry32: small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOST_USED_MIB = 2048;
const TICK_SECONDS = 5;
const MIGRATION_MIB_PER_S = 256;
const FIRST_TOUCH_SHARE = 0.6;

export interface VmPlan {
  name: string;
  vcpus: number;
  maxVcpus: number;
  memoryMiB: number;
  /** Per-vCPU trace shape before scaling; `level` fields are multiplied by the scenario's scale. */
  role: 'web' | 'db' | 'batch' | 'cache' | 'day' | 'night' | 'grower';
  /** Relative busyness of this VM (scaled). */
  weight: number;
  arrive?: number;
  depart?: number;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** Trace for vCPU i of a VM whose mean busy fraction should be `m`. */
function trace(role: VmPlan['role'], m: number, i: number, period: number): Json {
  const lvl = (x: number) => round(Math.min(0.95, Math.max(0.01, x)));
  const skew = i === 0 ? 1.3 : i % 2 ? 0.85 : 1; // the first vCPU of a guest is busier
  switch (role) {
    case 'db': return { kind: 'steady', level: lvl(m * skew) };
    case 'cache': return { kind: 'steady', level: lvl(m * skew * 0.9) };
    case 'web': return { kind: 'bursty', base: lvl(m * skew * 0.7), peak: lvl(m * skew * 1.8), probability: 0.25, burstSeconds: 60 };
    case 'batch': return { kind: 'bursty', base: lvl(m * skew * 0.4), peak: lvl(m * skew * 2.2), probability: 0.3, burstSeconds: 120 };
    case 'day': return { kind: 'diurnal', mean: lvl(m * skew), amplitude: lvl(m * skew * 0.8), periodSeconds: period, phaseSeconds: 0 };
    case 'night': return { kind: 'diurnal', mean: lvl(m * skew), amplitude: lvl(m * skew * 0.8), periodSeconds: period, phaseSeconds: period / 2 };
    case 'grower': return { kind: 'saturating', from: lvl(m), startSeconds: 300, rampSeconds: 300 };
  }
}

/** Mean demand of a trace (its long-run average busy fraction). */
function traceMean(t: Json): number {
  switch (t.kind) {
    case 'steady': return t.level as number;
    case 'bursty': return (t.base as number) * (1 - (t.probability as number)) + (t.peak as number) * (t.probability as number);
    case 'diurnal': return t.mean as number;
    default: return 1;
  }
}

export interface ScenarioPlan {
  name: string;
  description: string;
  seed: number;
  topology: string;
  /** Mean CPU demand as a share of the host's CPUs, and VM memory as a share of usable memory. */
  cpuTarget: number;
  memTarget: number;
  vms: VmPlan[];
  periodSeconds?: number;
}

/** Memory where first touched: FIRST_TOUCH_SHARE on the boot node, the rest over the others, all fitting. */
function firstTouch(free: number[], mib: number, pick: () => number): Record<string, number> {
  const nodes = free.length;
  const order = free.map((f, i) => ({ i, f })).filter((x) => x.f > 0);
  // Boot node: drawn with probability proportional to free memory (where the kernel finds room).
  const total = order.reduce((s, x) => s + x.f, 0);
  let r = pick() * total, boot = order[order.length - 1].i;
  for (const x of order) { if ((r -= x.f) <= 0) { boot = x.i; break; } }
  const want = new Array(nodes).fill(0);
  want[boot] = Math.round(mib * FIRST_TOUCH_SHARE);
  const rest = mib - want[boot];
  for (let n = 0; n < nodes; n++) if (n !== boot) want[n] = Math.floor(rest / (nodes - 1));
  want[(boot + 1) % nodes] += mib - want.reduce((a, b) => a + b, 0);
  // Whatever does not fit spills to the nodes with most room.
  const out = new Array(nodes).fill(0);
  let spill = 0;
  for (let n = 0; n < nodes; n++) {
    const take = Math.min(want[n], Math.max(0, free[n]));
    out[n] = take;
    spill += want[n] - take;
  }
  while (spill > 0) {
    const n = free.map((f, i) => ({ i, room: f - out[i] })).sort((a, b) => b.room - a.room)[0];
    if (n.room <= 0) throw new Error(`scenario memory does not fit the host (${spill} MiB left over)`);
    const take = Math.min(spill, n.room);
    out[n.i] += take;
    spill -= take;
  }
  for (let n = 0; n < nodes; n++) free[n] -= out[n];
  return Object.fromEntries(out.map((m, n) => [String(n), m]).filter(([, m]) => (m as number) > 0));
}

export function buildScenario(p: ScenarioPlan): Json {
  const topo = syntheticTopology(p.topology);
  const cpus = topo.nodes.reduce((s, n) => s + n.cpus.length, 0);
  const usable = topo.nodes.map((n) => n.memoryMiB - HOST_USED_MIB);
  const pick = rng(p.seed ^ 0x5eed);
  // Scale memory so the VMs present at the start use memTarget of the usable memory.
  const atStart = p.vms.filter((v) => !v.arrive);
  const memScale = (p.memTarget * usable.reduce((a, b) => a + b, 0)) / atStart.reduce((s, v) => s + v.memoryMiB, 0);
  const mem = (v: VmPlan) => Math.max(512, Math.round((v.memoryMiB * memScale) / 256) * 256);
  // Scale loads so the mean demand of the VMs present at the start is cpuTarget of the CPUs.
  const weightSum = atStart.filter((v) => v.role !== 'grower').reduce((s, v) => s + v.weight * v.vcpus, 0);
  const perWeight = (p.cpuTarget * cpus) / weightSum;
  const free = [...usable];
  const allNodes = `0-${topo.nodes.length - 1}`;
  const vms: Json[] = [];
  for (const v of p.vms) {
    const m = Math.min(0.9, v.weight * perWeight);
    const load = Array.from({ length: v.vcpus }, (_, i) => trace(v.role, m, i, p.periodSeconds ?? 3600));
    const memoryMiB = mem(v);
    const vm: Json = {
      name: v.name,
      vcpus: v.maxVcpus > v.vcpus ? { current: v.vcpus, max: v.maxVcpus } : v.vcpus,
      memoryMiB,
      coresPerSocket: 1,
      load,
      // numatune restrictive over every node: the kernel's default placement, yet changeable live
      // (libvirt 9 changes a running VM's nodeset only in restrictive mode).
      placement: { nodeset: allNodes, mode: 'restrictive', memoryByNode: firstTouch(free, memoryMiB, pick) },
    };
    if (v.arrive) vm.arriveAtSeconds = v.arrive;
    if (v.depart) vm.departAtSeconds = v.depart;
    vms.push(vm);
  }
  const meanDemand = vms.filter((v) => !v.arriveAtSeconds).reduce((s, v) => s + (v.load as Json[]).reduce((a, t) => a + (t.kind === 'saturating' ? (t.from as number) : traceMean(t)), 0), 0);
  return {
    name: p.name,
    description: `${p.description} (mean CPU demand at start ${round((meanDemand / cpus) * 100, 0)}% of ${cpus} CPUs; VM memory ${round(p.memTarget * 100, 0)}% of usable)`,
    seed: p.seed,
    topology: p.topology,
    tickSeconds: TICK_SECONDS,
    memoryMigrationMiBPerSecond: MIGRATION_MIB_PER_S,
    hostUsedMiB: HOST_USED_MIB,
    vms,
  };
}

const ROLES: VmPlan['role'][] = ['web', 'db', 'batch', 'cache', 'web', 'db'];
const SIZES = [1, 2, 2, 4, 4, 8];

/** A mixed population: sizes and roles drawn from the seed, memory 1-4 GiB per vCPU. */
function population(seed: number, count: number, prefix = 'vm', opts: { maxVcpus?: number; roles?: VmPlan['role'][]; memPerVcpu?: [number, number] } = {}): VmPlan[] {
  const r = rng(seed);
  const roles = opts.roles ?? ROLES;
  const [lo, hi] = opts.memPerVcpu ?? [1024, 4096];
  return Array.from({ length: count }, (_, i) => {
    const vcpus = Math.min(opts.maxVcpus ?? 8, SIZES[Math.floor(r() * SIZES.length)]);
    return {
      name: `${prefix}-${String(i + 1).padStart(3, '0')}`,
      vcpus, maxVcpus: vcpus,
      memoryMiB: Math.round((vcpus * (lo + r() * (hi - lo))) / 256) * 256,
      role: roles[Math.floor(r() * roles.length)],
      weight: 0.5 + r(),
    };
  });
}

export function scenarioPlans(): ScenarioPlan[] {
  const plans: ScenarioPlan[] = [];
  for (const [topology, count, seed] of [['2x8', 20, 101], ['4x16', 80, 102], ['8x16', 200, 103]] as const) {
    plans.push({ name: `steady-${topology}`, description: `Steady mixed host: ${count} VMs of 1-8 vCPUs, steady and bursty loads`, seed, topology,
      cpuTarget: 0.55, memTarget: 0.55, vms: population(seed, count, 'vm', { maxVcpus: topology === '2x8' ? 4 : 8 }) });
  }
  for (const [topology, count, seed] of [['4x16', 100, 201], ['8x16', 200, 202]] as const) {
    plans.push({ name: `diurnal-${topology}`, description: `Diurnal swing: ${count} VMs, 70% busy by "day", 30% by "night" (one day = 20 simulated minutes)`, seed, topology,
      cpuTarget: 0.5, memTarget: 0.5, periodSeconds: 1200, vms: population(seed, count, 'vm', { roles: ['day', 'day', 'day', 'day', 'day', 'day', 'day', 'night', 'night', 'night'] }) });
  }
  {
    const seed = 301;
    const base = population(seed, 80, 'base');
    const r = rng(seed + 1);
    const burst = population(seed + 2, 60, 'burst').map((v) => {
      const arrive = 300 + Math.round(r() * 180 / TICK_SECONDS) * TICK_SECONDS;
      return { ...v, arrive, depart: arrive + 600 + Math.round(r() * 300 / TICK_SECONDS) * TICK_SECONDS };
    });
    // A few of the base VMs leave during the burst, freeing room in odd places.
    for (const v of base.filter((_, i) => i % 10 === 3)) v.depart = 720;
    plans.push({ name: 'burst-8x16', description: 'Arrivals and departures: 80 VMs, a burst of 60 arriving at 5-8 min and leaving 10-15 min later; 8 leave at 12 min', seed, topology: '8x16',
      cpuTarget: 0.4, memTarget: 0.4, vms: [...base, ...burst] });
  }
  for (const [topology, count, seed] of [['2x8', 20, 401], ['4x16', 60, 402]] as const) {
    const vms = population(seed, count, 'vm', { maxVcpus: 2 });
    const growers = topology === '2x8' ? [6] : [8, 6];
    growers.forEach((max, i) => vms.push({ name: `grower-${i + 1}`, vcpus: 2, maxVcpus: max, memoryMiB: 4096, role: 'grower', weight: 0.3 }));
    plans.push({ name: `hotplug-${topology}`, description: `VMs ramp to saturation: ${count} small VMs plus ${growers.length} "grower" VM(s) (2 vCPUs, up to ${growers.join(' and ')}) saturating from 5 min`, seed, topology,
      cpuTarget: 0.35, memTarget: 0.5, vms });
  }
  plans.push({ name: 'overcommit-4x16', description: 'CPU overcommitted: 120 VMs whose demand exceeds the CPUs in bursts', seed: 501, topology: '4x16',
    cpuTarget: 0.95, memTarget: 0.6, vms: population(501, 120) });
  for (const [topology, count, seed] of [['2x8', 24, 601], ['8x16', 120, 602]] as const) {
    plans.push({ name: `memtight-${topology}`, description: `Memory is the tight resource: ${count} VMs with 4-8 GiB per vCPU filling 90% of memory, CPU lightly used`, seed, topology,
      cpuTarget: 0.3, memTarget: 0.9, vms: population(seed, count, 'vm', { maxVcpus: 4, memPerVcpu: [4096, 8192] }) });
  }
  return plans;
}

export function generateAll(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return scenarioPlans().map((p) => {
    const file = join(dir, `${p.name}.json`);
    writeFileSync(file, `${JSON.stringify(buildScenario(p), null, 1)}\n`);
    return file;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const here = dirname(fileURLToPath(import.meta.url));
  const out = join(here, '..', '..', '..', 'benchmarks', 'scenarios');
  for (const f of generateAll(out)) process.stdout.write(`${f}\n`);
}
