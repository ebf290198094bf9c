/**
 * Safety invariants, property-tested over random topologies (1-4 nodes, SMT or not, offline CPUs,
 * memory-only and memoryless nodes, reserved CPUs) and random VM states (pins anywhere, including
 * offline/reserved CPUs; random loads changing every cycle; some VMs excluded), through the real
 * daemon cycle (sample -> problem -> solver -> hot-plug -> planner -> executor):
 * - no step pins to an offline, reserved or nonexistent CPU;
 * - no nodeset names a node without memory (or one that does not exist);
 * - no hot-plug past the VM's maximum vCPUs / maximum memory (or hotplug.vcpu.maxVcpus);
 * - excluded VMs never appear in a plan;
 * - VMs moved per cycle <= churn.maxVmsPerCycle, except the planner's documented corrections
 *   (src/plan/planner.ts: a violation - vCPU on reserved/offline CPUs or spanning nodes - or a node
 *   over its CPU capacity is corrected now whatever the churn rules say); those are `violations`.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { withSettings } from '../../src/daemon/settings.js';
import { buildTopology } from '../../src/topology/synthetic.js';
import { formatCpuSet, parseCpuSet } from '../../src/core/cpuset.js';
import type { HostTopology } from '../../src/core/topology.js';
import type { Step } from '../../src/core/steps.js';
import { solveInProcess } from '../../solver/solve.js';
import { FakeBackend, vmSample } from '../helpers/fake-host.js';
import { counters, registerReport } from './counters.js';

registerReport();

const RUNS = Number(process.env.NUMAPLACE_INVARIANT_RUNS ?? 150);

interface World {
  topo: HostTopology;
  reserved: number[];
  vms: Parameters<typeof vmSample>[0][];
  excluded: string[];
  loads: number[][];
  maxVms: number;
  cooldown: number;
  maxVcpusCap: number;
}

const worldArb: fc.Arbitrary<World> = fc
  .record({
    n: fc.integer({ min: 1, max: 4 }),
    smt: fc.boolean(),
    seed: fc.array(fc.nat(1000), { minLength: 64, maxLength: 64 }),
    nVms: fc.integer({ min: 1, max: 6 }),
    cycles: fc.integer({ min: 2, max: 5 }),
    maxVms: fc.integer({ min: 1, max: 3 }),
    cooldown: fc.integer({ min: 0, max: 2 }),
    maxVcpusCap: fc.constantFrom(0, 3),
  })
  .map(({ n, smt, seed, nVms, cycles, maxVms, cooldown, maxVcpusCap }) => {
    let k = 0;
    const r = (m: number) => seed[k++ % seed.length] % m;
    // Node 0 always has CPUs and memory; others may be memory-only (0 cores) or memoryless (0 MiB).
    const cores = Array.from({ length: n }, (_, i) => (i === 0 ? 3 + r(4) : r(4) === 0 ? 0 : 2 + r(4)));
    const mem = Array.from({ length: n }, (_, i) => (i === 0 || cores[i] === 0 ? 8192 + 1024 * r(8) : r(3) === 0 ? 0 : 4096 + 1024 * r(8)));
    const distances = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 10 : 12 + Math.abs(i - j) * 5)));
    const topo = buildTopology({ coresPerNode: cores, threadsPerCore: smt ? 2 : 1, socketOf: cores.map((_, i) => i), memoryMiB: mem, freeMemoryMiB: mem.map((m) => Math.floor(m * 0.8)), distances }, 'random');
    // Offline CPUs: never CPU 0; a node may lose all its CPUs.
    for (const c of topo.cpus) {
      if (c.id !== 0 && r(6) === 0) c.online = false;
    }
    for (const node of topo.nodes) node.cpus = node.cpus.filter((id) => topo.cpus.find((c) => c.id === id)!.online);
    const online = topo.nodes.flatMap((x) => x.cpus);
    const reserved = online.filter((c) => c !== online[online.length - 1] && r(5) === 0);
    const allIds = [...topo.cpus.map((c) => c.id), topo.cpus.length + 3];
    const memNodes = topo.nodes.filter((x) => x.memoryMiB > 0).map((x) => x.id);
    const vms = Array.from({ length: nVms }, (_, i) => {
      const vcpus = 1 + r(3);
      const pin = () => (r(3) === 0 ? null : formatCpuSet([...new Set([allIds[r(allIds.length)], allIds[r(allIds.length)]])]));
      const home = memNodes[r(memNodes.length)];
      return {
        name: `vm${i}`,
        vcpusCurrent: vcpus,
        vcpusMax: vcpus + r(3),
        vcpuTimeNs: Array.from({ length: vcpus }, () => 0),
        vcpuPins: Array.from({ length: vcpus }, pin),
        vcpuLastCpu: Array.from({ length: vcpus }, () => null),
        emulatorPin: pin(),
        memoryMiB: 256 * (1 + r(6)),
        maxMemoryMiB: 256 * (8 + r(4)),
        maxMemorySlots: 8,
        numatune: { mode: r(4) === 0 ? 'strict' : 'restrictive', nodeset: String(home) },
        memoryByNode: { [String(home)]: 256 },
        guestCells: [{ id: 0, cpus: Array.from({ length: vcpus + 3 }, (_, j) => j), memoryMiB: 256 }],
      } as Parameters<typeof vmSample>[0];
    });
    for (const v of vms) {
      v.memoryByNode = { [v.numatune!.nodeset!]: v.memoryMiB! };
      v.guestCells = [{ ...v.guestCells![0], memoryMiB: v.memoryMiB! }]; // cells add up to the VM's memory, as libvirt requires
    }
    const excluded = vms.filter(() => r(4) === 0).map((v) => v.name);
    const loads = Array.from({ length: cycles }, () => vms.map(() => (r(4) === 0 ? r(101) : r(41)) / 100));
    return { topo, reserved, vms, excluded, loads, maxVms, cooldown, maxVcpusCap };
  });

function checkStep(w: World, s: Step, vmsNow: Map<string, { vcpusMax: number; memoryMiB: number; maxMemoryMiB?: number }>): void {
  const online = new Set(w.topo.nodes.flatMap((n) => n.cpus));
  const reserved = new Set(w.reserved);
  counters.invariantChecks++;
  expect(w.excluded, `excluded VM ${s.vm} in the plan`).to.not.include(s.vm);
  if (s.kind === 'pinVcpu' || s.kind === 'pinEmulator') {
    const cpus = parseCpuSet(s.cpuset);
    expect(cpus.length, JSON.stringify(s)).to.be.greaterThan(0);
    for (const c of cpus) {
      counters.invariantChecks++;
      expect(online.has(c), `${JSON.stringify(s)}: CPU ${c} is offline or does not exist`).to.equal(true);
      expect(reserved.has(c), `${JSON.stringify(s)}: CPU ${c} is reserved`).to.equal(false);
    }
  } else if (s.kind === 'setNodeset') {
    for (const id of parseCpuSet(s.nodeset)) {
      counters.invariantChecks++;
      const node = w.topo.nodes.find((n) => n.id === id);
      expect(node, `${JSON.stringify(s)}: node ${id} does not exist`).to.not.equal(undefined);
      expect(node!.memoryMiB, `${JSON.stringify(s)}: node ${id} has no memory`).to.be.greaterThan(0);
    }
  } else if (s.kind === 'setVcpus') {
    const v = vmsNow.get(s.vm)!;
    counters.invariantChecks++;
    expect(s.count, JSON.stringify(s)).to.be.at.most(v.vcpusMax);
    if (w.maxVcpusCap > 0) expect(s.count, `${JSON.stringify(s)} past hotplug.vcpu.maxVcpus`).to.be.at.most(w.maxVcpusCap);
  } else if (s.kind === 'attachMemory') {
    const v = vmsNow.get(s.vm)!;
    counters.invariantChecks++;
    expect(v.memoryMiB + s.MiB, `${JSON.stringify(s)} past maxMemory ${v.maxMemoryMiB}`).to.be.at.most(v.maxMemoryMiB ?? v.memoryMiB);
  }
}

describe('reliability: safety invariants over random topologies and states', function () {
  this.timeout(120_000);

  const solved = { solver: 0, fallback: 0 };
  after(() => console.log(`      placements: ${solved.solver} from the solver, ${solved.fallback} infeasible (then only violations are corrected)`));

  it(`${RUNS} random hosts x several cycles: pins, nodesets, hot-plug limits, exclusions, churn cap`, async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (w) => {
        const backend = new FakeBackend(w.topo, w.vms.map((v) => vmSample(v)));
        const settings = withSettings({
          mode: 'apply',
          reservedCpus: formatCpuSet(w.reserved),
          churn: { holdCycles: 1, improvementMargin: 0, maxVmsPerCycle: w.maxVms, cooldownCycles: w.cooldown },
          exclude: { names: w.excluded, metadata: true },
          hotplug: { ...withSettings({}).hotplug, vcpu: { ...withSettings({}).hotplug.vcpu, threshold: 0.5, windowCycles: 1, cooldownCycles: 0, maxVcpus: w.maxVcpusCap } },
          load: { windowCycles: 1 },
        } as Parameters<typeof withSettings>[0]);
        const daemon = new Daemon({ backend, settings, logger: memoryLogger(), stateDir: null, solve: async (p) => {
          // The real solver (the tests' greedy helper is no solver: it may put memory on a memoryless node).
          const pl = solveInProcess(p, { timeLimitMs: 200 });
          solved[pl.status === 'infeasible' ? 'fallback' : 'solver']++;
          return pl;
        } });
        for (const loads of w.loads) {
          backend.loads = Object.fromEntries(w.vms.map((v, i) => [v.name, loads[i]]));
          const before = new Map(backend.vms.map((v) => [v.name, { vcpusMax: v.vcpusMax, memoryMiB: v.memoryMiB, maxMemoryMiB: v.maxMemoryMiB }]));
          const r = await daemon.runCycle();
          expect(r.outcome, r.error).to.be.oneOf(['ok', 'warming-up']);
          for (const s of r.steps) checkStep(w, s, before);
          if (r.plan) {
            const corrected = new Set(r.plan.violations.map((v) => v.vm));
            const ordinary = r.plan.moving.filter((m) => !corrected.has(m));
            counters.invariantChecks++;
            expect(ordinary.length, `moved ${ordinary.join(',')} besides corrections ${[...corrected].join(',')}`).to.be.at.most(w.maxVms);
            // The documented exemption is exactly the corrections: each names a violation or overload.
            for (const v of r.plan.violations) expect(v.reason).to.match(/reserved|offline|node|capacity|CPU/);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
