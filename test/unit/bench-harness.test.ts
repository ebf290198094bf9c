import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Placement, Problem } from '../../solver/types.js';
import type { HostBackend } from '../../src/host/backend.js';
import { SimulatedBackend } from '../../src/sim/backend.js';
import { loadScenario } from '../../src/sim/load.js';
import { parseScenario } from '../../src/sim/validate.js';
import { runScenario } from '../../benchmarks/closed-loop/harness.js';
import { nodeDemand } from '../../benchmarks/closed-loop/observe.js';
import { noPinningPolicy } from '../../benchmarks/policies/no-pinning.js';
import { LIVE, NO_BALANCING, type Policy } from '../../benchmarks/policies/types.js';
import { generateAll } from '../../benchmarks/scenarios/generate.js';

/**
 * 2x8 host (distance 21), two 1-vCPU VMs at load 0.5 with 1 GiB each: "far" has its memory on
 * node 0 but runs on node 1; "near" has both on node 1. Cost = 0.5*21 + 0.5*10 = 15.5, all-local 10.
 */
const tiny = parseScenario({
  name: 'tiny', seed: 1, topology: '2x8', tickSeconds: 10, hostUsedMiB: 0,
  vms: [
    { name: 'far', vcpus: 1, memoryMiB: 1024, load: { kind: 'steady', level: 0.5 },
      placement: { vcpuPins: '8-15', nodeset: '0', mode: 'restrictive', memoryByNode: { 0: 1024 } } },
    { name: 'near', vcpus: 1, memoryMiB: 1024, load: { kind: 'steady', level: 0.5 },
      placement: { vcpuPins: '8-15', nodeset: '1', mode: 'restrictive', memoryByNode: { 1: 1024 } } },
  ],
}, 'tiny');

/** The optimum of the tiny host, written by hand: each VM's vCPU on its memory's node. */
function handOptimum(p: Problem): Placement {
  return {
    status: 'optimal',
    vms: p.vms.map((vm) => {
      const node = vm.name === 'far' ? 0 : 1;
      return { name: vm.name, vcpus: [{ vcpu: 0, node, cpuset: '' }], emulator: { cpuset: '' }, memory: { nodeset: String(node), MiB: { [node]: vm.memoryMiB } } };
    }),
  };
}

/** Samples once (the first tick still runs as placed), pins "far" to its memory, then stays idle. */
const fixer: Policy = {
  name: 'fixer', description: 'test', host: NO_BALANCING,
  create: () => {
    let done = false;
    return {
      async act(b: HostBackend) {
        if (!done) { await b.sample(); await b.pinVcpu('far', 0, '0-7', LIVE); done = true; }
        return 10_000;
      },
    };
  },
};

describe('closed-loop harness', () => {
  it('computes quality, excess, locality and moves on a hand-checkable 2-node host', async () => {
    const r = await runScenario(tiny, { file: 'tiny', durationS: 60, measureEveryS: 10, cpuOvercommit: 1, capacityAllows: true },
      [noPinningPolicy, fixer], handOptimum);
    const idle = r.policies[0].figures, fixed = r.policies[1].figures;
    expect(idle.durationS).to.equal(60);
    expect(idle.quality).to.be.closeTo(15.5, 1e-9);
    expect(idle.allLocal).to.be.closeTo(10, 1e-9);
    expect(idle.excess).to.be.closeTo(5.5, 1e-9);
    expect(idle.locality).to.be.closeTo(0.5, 1e-9);
    expect(idle.ratioToOptimum).to.be.closeTo(1.55, 1e-9);
    expect(idle.overloadS).to.equal(0);
    expect(idle.vcpuMoves).to.equal(0);
    // The fixer's first tick runs as placed (15.5), the five after it all-local (10).
    expect(fixed.quality).to.be.closeTo((15.5 + 5 * 10) / 6, 1e-9);
    expect(fixed.excess).to.be.closeTo(5.5 / 6, 1e-9);
    expect(fixed.locality).to.be.closeTo((0.5 + 5) / 6, 1e-9);
    expect(fixed.ratioToOptimum).to.be.closeTo((15.5 + 50) / 60, 1e-9);
    expect(fixed.vcpuMoves).to.equal(1);
    expect(fixed.migratedMiB).to.equal(0);
    expect(r.policies[1].actions).to.deep.equal({ pinVcpu: 1 });
    expect(r.optimum.solves).to.equal(1); // same demand at every instant: one solve, cached
    expect(r.policies[0].series).to.have.length(6);
  });

  it('counts a node asked for more CPU than it has', () => {
    const s = parseScenario({ name: 'busy', seed: 1, topology: '2x8', tickSeconds: 10, vms: [
      { name: 'crowd', vcpus: 9, memoryMiB: 1024, load: { kind: 'steady', level: 1 }, placement: { vcpuPins: '0-7' } },
      { name: 'free', vcpus: 2, memoryMiB: 1024, load: { kind: 'steady', level: 0.8 } },
    ] }, 'busy');
    const b = new SimulatedBackend(s);
    b.advance(10);
    const d = nodeDemand(b);
    expect(d[0]).to.be.closeTo(9 + 0.8, 1e-9);
    expect(d[1]).to.be.closeTo(0.8, 1e-9);
  });
});

describe('closed-loop scenarios', () => {
  it('are what the generator writes (seeded), and every one loads in the simulated host', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-scen-'));
    try {
      const files = generateAll(dir);
      expect(files.length).to.be.at.least(11);
      for (const f of files) {
        const name = f.split('/').pop()!;
        const committed = join('benchmarks', 'scenarios', name);
        expect(existsSync(committed), `${committed} is committed`).to.equal(true);
        expect(readFileSync(committed, 'utf8'), `${name}: rerun the generator`).to.equal(readFileSync(f, 'utf8'));
        const sc = loadScenario(committed);
        expect(sc.vms.length).to.be.within(20, 200);
        new SimulatedBackend(sc);
      }
      expect(readdirSync(join('benchmarks', 'scenarios')).filter((f) => f.endsWith('.json'))).to.have.length(files.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
