/**
 * Built-in scenarios, written as the same JSON a scenario file holds (and validated the same way).
 * Generated in code because twenty hand-written VMs say less than the pattern that makes them.
 * `steady-4x16` is what `npm start` runs: every VM starts with its vCPUs away from its memory.
 */
import { SYNTHETIC_TOPOLOGY_NAMES, syntheticTopology } from '../topology/synthetic.js';
import { unitHash } from './rng.js';

type Json = Record<string, unknown>;

const cycle = <T>(xs: T[], i: number): T => xs[i % xs.length];

/** cpuset text of a synthetic host's node (e.g. "16-31", "8-15,72-79"). */
const topoCache = new Map<string, ReturnType<typeof syntheticTopology>>();

function nodeCpus(topoName: string, node: number): string {
  if (!topoCache.has(topoName)) topoCache.set(topoName, syntheticTopology(topoName));
  const cpus = topoCache.get(topoName)!.nodes[node].cpus;
  const parts: string[] = [];
  for (let i = 0; i < cpus.length;) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

const LOADS: Json[] = [
  { kind: 'steady', level: 0.6 },
  { kind: 'bursty', base: 0.15, peak: 0.9, probability: 0.2, burstSeconds: 60 },
  { kind: 'steady', level: 0.35 },
  { kind: 'diurnal', mean: 0.45, amplitude: 0.3, periodSeconds: 3600, phaseSeconds: 0 },
  { kind: 'steady', level: 0.8 },
  { kind: 'ramping', from: 0.1, to: 0.7, startSeconds: 0, endSeconds: 1800 },
  { kind: 'steady', level: 0.25 },
];

const ROLES = ['web', 'db', 'cache', 'batch', 'api'];

/** Many VMs whose memory sits on one node and whose vCPUs are pinned `offset` nodes away. */
function badlyPlaced(topoName: string, count: number, offset: number, sizes: { vcpus: number[]; memoryMiB: number[] }, seed: number, description: string): Json {
  const nodes = syntheticTopology(topoName).nodes.filter((n) => n.cpus.length > 0).length;
  const vms: Json[] = [];
  for (let i = 0; i < count; i++) {
    const home = i % nodes;
    const away = (home + offset) % nodes;
    const vcpus = cycle(sizes.vcpus, i);
    const name = `${cycle(ROLES, i)}-${String(i + 1).padStart(2, '0')}`;
    const vm: Json = {
      name,
      vcpus: { current: vcpus, max: vcpus * 2 },
      memoryMiB: cycle(sizes.memoryMiB, i),
      coresPerSocket: vcpus >= 4 ? 2 : 1,
      load: cycle(LOADS, i),
      placement: {
        // Every 7th VM is left unpinned (kernel default spreading); the rest run on the far node.
        ...(i % 7 === 3 ? {} : { vcpuPins: nodeCpus(topoName, away) }),
        nodeset: String(home),
        mode: i === 5 ? 'strict' : 'restrictive',
      },
    };
    if (i === 9) vm.metadata = { exclude: 'true' };
    if (i === 2) vm.metadata = { class: 'latency', weight: 4 };
    if (i === 0) {
      const m = cycle(sizes.memoryMiB, i);
      vm.maxMemoryMiB = m * 4;
      vm.memorySlots = 8;
      vm.guestCells = [
        { id: 0, cpus: `0-${vcpus - 1}`, memoryMiB: m / 2 },
        { id: 1, cpus: `${vcpus}-${vcpus * 2 - 1}`, memoryMiB: m / 2 },
      ];
    }
    vms.push(vm);
  }
  return { name: `steady-${topoName}`, description, seed, topology: topoName, tickSeconds: 10, memoryMigrationMiBPerSecond: 256, vms };
}

function rampSaturate(): Json {
  const cell = (max: number, mib: number) => [{ id: 0, cpus: `0-${max - 1}`, memoryMiB: mib }];
  return {
    name: 'ramp-saturate-2x8',
    description: 'Two VMs ramp to 100% on every vCPU (hot-plug candidates, one of them mid-migration for a while); a VM arrives and leaves.',
    seed: 28,
    topology: '2x8',
    tickSeconds: 10,
    memoryMigrationMiBPerSecond: 256,
    vms: [
      { name: 'grower', vcpus: { current: 2, max: 8 }, memoryMiB: 4096, maxMemoryMiB: 16384, memorySlots: 8, guestCells: cell(8, 4096), coresPerSocket: 2,
        load: { kind: 'saturating', from: 0.3, startSeconds: 60, rampSeconds: 300 },
        placement: { vcpuPins: '0-7', nodeset: '0', mode: 'restrictive' } },
      { name: 'grower-migrating', vcpus: { current: 2, max: 6 }, memoryMiB: 4096, coresPerSocket: 2,
        load: { kind: 'saturating', from: 0.4, startSeconds: 0, rampSeconds: 120 },
        jobs: [{ kind: 'migration', fromSeconds: 100, toSeconds: 400 }],
        placement: { vcpuPins: '8-15', nodeset: '1', mode: 'restrictive' } },
      { name: 'steady', vcpus: 4, memoryMiB: 8192, load: { kind: 'steady', level: 0.5 },
        placement: { vcpuPins: '8-15', nodeset: '0', mode: 'restrictive' } },
      { name: 'bursty', vcpus: 2, memoryMiB: 2048, load: { kind: 'bursty', base: 0.1, peak: 1, probability: 0.3, burstSeconds: 30 },
        placement: { nodeset: '0-1', mode: 'restrictive' } },
      { name: 'visitor', vcpus: 2, memoryMiB: 2048, load: { kind: 'steady', level: 0.7 }, arriveAtSeconds: 600, departAtSeconds: 1800,
        placement: { vcpuPins: '0-7', nodeset: '1', mode: 'restrictive' } },
    ],
  };
}

function memoryTight(): Json {
  const vms: Json[] = [];
  for (let i = 0; i < 12; i++) {
    vms.push({
      name: `tight-${String(i + 1).padStart(2, '0')}`,
      vcpus: cycle([2, 4, 2], i),
      memoryMiB: 3584,
      load: cycle(LOADS, i),
      // Memory packed on nodes 0 and 1, vCPUs on 2 and 3: the fix needs room that is scarce.
      placement: { vcpuPins: nodeCpus('4x16', 2 + (i % 2)), nodeset: String(i % 2), mode: 'restrictive' },
    });
  }
  const hungry = (name: string, node: number, extra: Json): Json => ({
    name, vcpus: { current: 4, max: 8 }, memoryMiB: 4096, maxMemoryMiB: 12288, memorySlots: 4,
    guestCells: [{ id: 0, cpus: '0-7', memoryMiB: 4096 }], osType: 'linux',
    load: { kind: 'steady', level: 0.5 },
    // The guest's memory use climbs past what it has: balloon "usable" falls to zero.
    memoryUse: { kind: 'ramping', from: 0.8, to: 1.15, startSeconds: 0, endSeconds: 1200 },
    placement: { vcpuPins: nodeCpus('4x16', node), nodeset: String(node), mode: 'restrictive' },
    ...extra,
  });
  vms.push(hungry('hungry-a', 2, {}));
  vms.push(hungry('hungry-vhost', 3, { hasVhostUser: true }));
  vms.push(hungry('hungry-windows', 3, { osType: 'windows' }));
  return {
    name: 'memory-tight-4x16',
    description: 'Little free memory: nodes 0-1 nearly full of VMs whose vCPUs run on nodes 2-3; three VMs run short of memory (one with vhost-user).',
    seed: 416,
    topology: '4x16',
    tickSeconds: 10,
    memoryMigrationMiBPerSecond: 128,
    hostUsedMiB: 8192,
    vms,
  };
}

function overcommit(): Json {
  const vms: Json[] = [];
  for (let i = 0; i < 8; i++) {
    vms.push({
      name: `oc-${i + 1}`,
      vcpus: 4,
      memoryMiB: 4096,
      cpuShares: i === 0 ? 4096 : 1024,
      metadata: i === 0 ? { class: 'gold', weight: 4 } : {},
      load: i % 2 ? { kind: 'steady', level: 0.75 } : { kind: 'bursty', base: 0.5, peak: 1, probability: 0.4, burstSeconds: 20 },
      // Six VMs crowd node 0 while node 1 idles; two are unpinned.
      placement: { ...(i < 6 ? { vcpuPins: '0-7' } : {}), nodeset: String(i % 2), mode: 'restrictive' },
    });
  }
  return {
    name: 'overcommit-2x8',
    description: '32 busy vCPUs on 16 CPUs, six VMs crowded on node 0; oc-1 has 4x the cpu_shares.',
    seed: 82,
    topology: '2x8',
    tickSeconds: 10,
    memoryMigrationMiBPerSecond: 256,
    vms,
  };
}

/** `gen-TOPOLOGY-N`: N random VMs, randomly pinned, memory on random nodes (benchmarks, load tests). */
export function generatedScenario(topoName: string, count: number, seed = 7): Json {
  const topo = syntheticTopology(topoName);
  const cpuNodes = topo.nodes.filter((n) => n.cpus.length > 0).map((n) => n.id);
  const perNodeMiB = Math.min(...topo.nodes.filter((n) => n.cpus.length > 0).map((n) => n.memoryMiB)) - 1024;
  const perNodeVms = Math.max(1, Math.ceil(count / cpuNodes.length));
  const memoryMiB = Math.max(256, Math.min(8192, Math.floor(perNodeMiB / perNodeVms / 256) * 256));
  // Smaller VMs when many share the host, so total demand stays near 70% of the CPUs.
  const sizes = count * 1.8 <= 0.7 * topo.cpus.length ? [1, 2, 4, 8] : [1, 1, 2, 4];
  const vms: Json[] = [];
  for (let i = 0; i < count; i++) {
    const r = (k: number) => unitHash(seed, i, k);
    const vcpus = cycle(sizes, Math.floor(r(1) * 4));
    const home = cpuNodes[i % cpuNodes.length];
    const pinNode = cpuNodes[Math.floor(r(2) * cpuNodes.length)];
    vms.push({
      name: `vm-${String(i + 1).padStart(4, '0')}`,
      vcpus: { current: vcpus, max: vcpus * 2 },
      memoryMiB,
      load: cycle(LOADS, Math.floor(r(3) * LOADS.length)),
      placement: { ...(r(4) < 0.8 ? { vcpuPins: nodeCpus(topoName, pinNode) } : {}), nodeset: String(home), mode: 'restrictive' },
    });
  }
  return { name: `gen-${topoName}-${count}`, description: `${count} generated VMs on ${topoName}`, seed, topology: topoName, tickSeconds: 10, memoryMigrationMiBPerSecond: 256, vms };
}

const BUILTINS: Record<string, () => Json> = {
  'steady-4x16': () => badlyPlaced('4x16', 20, 2, { vcpus: [2, 4, 8, 4, 2], memoryMiB: [2048, 4096, 8192, 6144, 4096] }, 4216,
    'The seed host (4 nodes x 16 CPUs) with 20 VMs, each pinned two nodes away from its memory (distance 20); one strict-mode, one excluded.'),
  'steady-8x16': () => badlyPlaced('8x16', 40, 4, { vcpus: [4, 8, 2, 4, 6], memoryMiB: [4096, 8192, 16384, 8192, 4096] }, 816,
    'EPYC-like 2 sockets x NPS4 with 40 VMs, each pinned on the other socket from its memory (distance 32).'),
  'ramp-saturate-2x8': rampSaturate,
  'memory-tight-4x16': memoryTight,
  'overcommit-2x8': overcommit,
};

export const BUILTIN_SCENARIO_NAMES = Object.keys(BUILTINS);

/** The scenario JSON for a built-in name, `gen-TOPO-N`, or a bare synthetic topology name (a host with no VMs); undefined otherwise. */
export function builtinScenario(name: string): Json | undefined {
  if (BUILTINS[name]) return BUILTINS[name]();
  const gen = /^gen-(.+)-(\d+)$/.exec(name);
  if (gen && SYNTHETIC_TOPOLOGY_NAMES.includes(gen[1])) return generatedScenario(gen[1], Number(gen[2]));
  if (SYNTHETIC_TOPOLOGY_NAMES.includes(name)) return { name, description: `empty ${name} host`, seed: 1, topology: name, vms: [] };
  return undefined;
}
