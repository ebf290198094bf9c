import { expect } from 'chai';
import { newChurnState, recordMoves, type ChurnState } from '../../src/plan/churn.js';
import { plan, type PlanInput } from '../../src/plan/planner.js';
import { sampleToProblem } from '../../src/daemon/sample-to-problem.js';
import { withSettings, type Settings } from '../../src/daemon/settings.js';
import type { VmSample } from '../../src/host/backend.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { hostSample, placeAll, viewOf, vmSample } from '../helpers/fake-host.js';

const topo = syntheticTopology('2x8'); // node 0: 0-7, node 1: 8-15, distances 10/20 (or seed-like)

/** A VM settled on `node`: vCPUs, emulator, memory and shares as numaplace would leave them. */
function settled(name: string, node: number, over: Partial<VmSample> = {}): VmSample {
  const cpus = node === 0 ? '0-7' : '8-15';
  const vcpus = over.vcpusCurrent ?? 2;
  return vmSample({
    name,
    vcpusCurrent: vcpus,
    vcpuPins: Array.from({ length: vcpus }, () => cpus),
    emulatorPin: cpus,
    numatune: { mode: 'restrictive', nodeset: String(node) },
    memoryByNode: { [String(node)]: 1024 },
    cpuShares: 1024 * vcpus,
    ...over,
  });
}

/** VM whose vCPUs sit on node `cpuNode` while its memory sits on `memNode`. */
function split(name: string, cpuNode: number, memNode: number, over: Partial<VmSample> = {}): VmSample {
  return settled(name, cpuNode, { numatune: { mode: 'restrictive', nodeset: String(memNode) }, memoryByNode: { [String(memNode)]: 1024 }, ...over });
}

function input(vms: VmSample[], target: Record<string, number>, opts: { settings?: Settings; churn?: ChurnState; holdRule?: boolean; load?: number } = {}): PlanInput {
  const sample = hostSample(topo, vms);
  const settings = opts.settings ?? withSettings({});
  const loads = new Map(vms.map((v) => [v.name, Array.from({ length: v.vcpusCurrent }, () => opts.load ?? 0.5)]));
  const { problem, excluded } = sampleToProblem(viewOf(sample, settings), sample, loads, settings);
  const placement = placeAll(problem, (n) => target[n] ?? 0);
  return { view: viewOf(sample, settings), sample, problem, placement, excluded, settings, churn: opts.churn ?? newChurnState(), holdRule: opts.holdRule ?? true };
}

/** Run the planner `cycles` times on the same input, carrying the churn state; returns the last output. */
function cycles(inp: PlanInput, n: number) {
  let churn = inp.churn;
  let out = plan(inp);
  for (let i = 0; i < n; i++) {
    out = plan({ ...inp, churn });
    churn = out.churn;
  }
  return out;
}

describe('planner', () => {
  it('a host already as planned gives no steps', () => {
    const out = plan(input([settled('a', 0), settled('b', 1)], { a: 0, b: 1 }));
    expect(out.steps).to.deep.equal([]);
    expect(out.quality.now).to.be.closeTo(out.quality.allLocal, 1e-9);
  });

  it('changes only what differs, comparing normalised cpusets', () => {
    const vm = settled('a', 0, { vcpuPins: ['0-7', '0,1,2,3,4,5,6,7'], emulatorPin: '0-3', cpuShares: 999 });
    const out = plan(input([vm], { a: 0 }));
    expect(out.steps).to.deep.equal([
      { vm: 'a', kind: 'pinEmulator', cpuset: '0-7' },
      { vm: 'a', kind: 'setShares', shares: 2048 },
    ]);
  });

  it('moves a VM to its memory only after the improvement has held holdCycles cycles, reporting the gain', () => {
    const inp = input([split('a', 1, 0)], { a: 0 }, { settings: withSettings({ churn: { holdCycles: 3 } }) });
    let churn = inp.churn;
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const out = plan({ ...inp, churn });
      churn = out.churn;
      seen.push(out.steps.length);
      if (i < 2) expect(out.deferred[0].reason).to.match(/held/);
      else {
        expect(out.steps.map((s) => s.kind)).to.deep.equal(['pinVcpu', 'pinVcpu', 'pinEmulator']);
        // two vCPUs at load 0.5 from the remote distance to 10
        const remote = topo.nodes[0].distances['1'];
        expect(out.gains).to.deep.equal([0.5 * (remote - 10), 0.5 * (remote - 10), 0]);
        expect(out.quality.now).to.be.greaterThan(out.quality.planned);
        expect(out.quality.planned).to.be.closeTo(out.quality.allLocal, 1e-9);
      }
    }
    expect(seen).to.deep.equal([0, 0, 3]);
  });

  it('a hold counter resets when the improvement drops below the margin', () => {
    const s = withSettings({ churn: { holdCycles: 2 } });
    const far = input([split('a', 1, 0)], { a: 0 }, { settings: s });
    const fine = input([settled('a', 1)], { a: 1 }, { settings: s });
    let out = plan(far);
    out = plan({ ...fine, churn: out.churn });
    expect(out.churn.heldCycles).to.equal(0);
    out = plan({ ...far, churn: out.churn });
    expect(out.steps).to.deep.equal([]);
  });

  it('does not move for an improvement within improvementMargin', () => {
    // 1 of 20 VMs slightly remote: improvement below 50%
    const vms = [split('a', 1, 0), ...Array.from({ length: 19 }, (_, i) => settled(`s${i}`, 1))];
    const target = Object.fromEntries(vms.map((v) => [v.name, v.name === 'a' ? 0 : 1]));
    const out = cycles(input(vms, target, { settings: withSettings({ churn: { improvementMargin: 0.5, holdCycles: 1 } }), load: 0.1 }), 3);
    expect(out.steps).to.deep.equal([]);
    expect(out.deferred[0].reason).to.match(/within churn.improvementMargin/);
  });

  it('moves at most maxVmsPerCycle VMs, best gain first', () => {
    const vms = [split('a', 1, 0), split('b', 1, 0, { vcpusCurrent: 4 }), split('c', 1, 0)];
    const out = cycles(input(vms, { a: 0, b: 0, c: 0 }, { settings: withSettings({ churn: { holdCycles: 1, maxVmsPerCycle: 2 } }) }), 1);
    expect(out.moving).to.deep.equal(['a', 'b']);
    expect(out.deferred.find((d) => d.vm === 'c')!.reason).to.match(/maxVmsPerCycle/);
  });

  it('keeps memory moved per cycle within memoryMigrationMiBPerCycle (the first move may exceed it alone)', () => {
    const vms = [settled('a', 0, { memoryByNode: { '1': 1024 }, numatune: { mode: 'restrictive', nodeset: '1' } }), settled('b', 0, { memoryByNode: { '1': 1024 }, numatune: { mode: 'restrictive', nodeset: '1' } })];
    // the target moves memory to node 0 (where the vCPUs are): 1024 MiB each, budget 1500
    const out = cycles(input(vms, { a: 0, b: 0 }, { settings: withSettings({ churn: { holdCycles: 1, memoryMigrationMiBPerCycle: 1500 } }) }), 1);
    expect(out.steps.filter((s) => s.kind === 'setNodeset')).to.have.length(1);
    expect(out.deferred[0].reason).to.match(/memoryMigrationMiBPerCycle/);
  });

  it('does not move a VM again while it cools down', () => {
    const s = withSettings({ churn: { holdCycles: 1, cooldownCycles: 2 } });
    const inp = input([split('a', 1, 0)], { a: 0 }, { settings: s });
    const churn = recordMoves(newChurnState(), ['a'], 2);
    let out = plan({ ...inp, churn });
    expect(out.steps).to.deep.equal([]);
    expect(out.deferred[0].reason).to.match(/cooling down/);
    out = plan({ ...inp, churn: out.churn });
    expect(out.moving).to.deep.equal(['a']);
  });

  it('does not move a VM whose target keeps changing', () => {
    const s = withSettings({ churn: { holdCycles: 2 } });
    const vms = [split('a', 1, 0, { vcpusCurrent: 2 })];
    const toA = input(vms, { a: 0 }, { settings: s });
    // same VM, planned elsewhere: the memory goes to node 1 instead
    const toB = input(vms, { a: 1 }, { settings: s });
    let out = plan(toA);
    out = plan({ ...toB, churn: out.churn });
    out = plan({ ...toA, churn: out.churn });
    expect(out.churn.heldCycles).to.be.greaterThanOrEqual(2);
    expect(out.steps).to.deep.equal([]);
    expect(out.deferred[0].reason).to.match(/target has held 1\/2/);
  });

  it('corrects violations in the first cycle: unpinned, reserved, offline, spanning nodes', () => {
    const s = withSettings({ reservedCpus: '0', churn: { holdCycles: 5, maxVmsPerCycle: 1 } });
    const vms = [
      settled('unpinned', 0, { vcpuPins: [null, null] }),
      settled('reserved', 0, { vcpuPins: ['0-7', '0-7'] }),
      settled('offline', 1, { vcpuPins: ['8-15', '8-16'] }),
      settled('spanning', 0, { vcpuPins: ['1-15', '1-7'] }),
    ];
    const inp = input(vms, { unpinned: 0, reserved: 0, offline: 1, spanning: 0 }, { settings: s });
    // the trivial placement ignores reservations; give the planner the pins a solver would
    for (const p of inp.placement.vms) for (const v of p.vcpus) v.cpuset = v.node === 0 ? '1-7' : '8-15';
    const out = plan(inp);
    expect(out.violations.map((v) => v.vm)).to.deep.equal(['unpinned', 'reserved', 'offline', 'spanning']);
    expect(out.violations.map((v) => v.reason)).to.satisfy((r: string[]) => /not pinned/.test(r[0]) && /reserved CPU 0/.test(r[1]) && /offline or absent CPU 16/.test(r[2]) && /2 nodes/.test(r[3]));
    expect(new Set(out.steps.filter((x) => x.kind === 'pinVcpu').map((x) => x.vm)).size).to.equal(4);
  });

  it('corrects a node over capacity at once', () => {
    // overcommit 0.5: 4 per node; node 1 carries 4 VMs x 2 vCPUs at load 1 = 8; the plan moves two to node 0
    const vms = ['a', 'b', 'c', 'd'].map((n) => settled(n, 1, { memoryByNode: { '0': 512, '1': 512 }, numatune: { mode: 'restrictive', nodeset: '0-1' } }));
    const out = plan(input(vms, { a: 0, b: 1, c: 0, d: 1 }, { settings: withSettings({ cpuOvercommit: 0.5, churn: { holdCycles: 9 } }), load: 1 }));
    expect(out.violations.map((v) => v.reason)).to.deep.equal(['node 1 is over its CPU capacity', 'node 1 is over its CPU capacity']);
    expect(out.moving).to.have.length(2);
  });

  it('never moves a VM onto a node it would overload', () => {
    const vms = [settled('full', 0, { vcpusCurrent: 8 }), split('a', 1, 0, { vcpusCurrent: 2 })];
    const out = cycles(input(vms, { full: 0, a: 0 }, { settings: withSettings({ churn: { holdCycles: 1 } }), load: 1 }), 1);
    expect(out.moving).to.deep.equal([]);
    expect(out.deferred[0].reason).to.match(/no room/);
  });

  it('excluded VMs never appear in a plan', () => {
    const vms = [settled('keep', 0, { vcpuPins: [null, null], cpuShares: 1, metadata: { exclude: 'true' } }), settled('db-1', 1, { emulatorPin: null })];
    const out = plan(input(vms, { keep: 1, 'db-1': 0 }, { settings: withSettings({ exclude: { names: ['db-*'] } }) }));
    expect(out.steps).to.deep.equal([]);
  });

  it('sets shares only when they differ', () => {
    const vms = [settled('g', 0, { metadata: { class: 'gold' } }), settled('w', 0, { cpuShares: 4096 }), settled('x', 0)];
    const out = plan(input(vms, { g: 0, w: 0, x: 0 }, { settings: withSettings({ shares: { weights: { w: 2 } } }) }));
    expect(out.steps).to.deep.equal([{ vm: 'g', kind: 'setShares', shares: 4096 }]);
    expect(plan(input(vms, { g: 0 }, { settings: withSettings({ shares: { enabled: false } }) })).steps).to.deep.equal([]);
  });

  it('refuses a memory move in strict mode once, with a reason, and writes it with --config when persistConfig', () => {
    const vm = split('s', 0, 1, { numatune: { mode: 'strict', nodeset: '1' } });
    // plan: vCPUs stay on 0, memory should come to 0
    const inp = input([vm], { s: 0 }, { settings: withSettings({ persistConfig: true, churn: { holdCycles: 1 } }) });
    const first = plan(inp);
    expect(first.refused).to.have.length(1);
    expect(first.refused[0].reason).to.match(/numatune mode is strict.*restrictive.*next boot/);
    expect(first.steps).to.deep.equal([{ vm: 's', kind: 'setNodeset', nodeset: '0' }]);
    const second = plan({ ...inp, churn: first.churn });
    expect(second.refused).to.deep.equal([]);
    expect(second.steps).to.deep.equal([]);
    const noPersist = plan(input([vm], { s: 0 }, { settings: withSettings({ persistConfig: false }) }));
    expect(noPersist.steps).to.deep.equal([]);
    expect(noPersist.refused[0].reason).to.match(/restrictive/);
  });

  it('does not refuse anything for a strict VM whose memory is already where planned', () => {
    const vm = settled('s', 0, { numatune: null });
    const out = plan(input([vm], { s: 0 }));
    expect(out.refused).to.deep.equal([]);
    expect(out.steps).to.deep.equal([]);
  });

  it('without the hold rule (numaplace apply) moves at once', () => {
    const out = plan(input([split('a', 1, 0)], { a: 0 }, { settings: withSettings({ churn: { holdCycles: 5 } }), holdRule: false }));
    expect(out.moving).to.deep.equal(['a']);
  });

  it('pins vCPUs hot-plugged this cycle at once, whatever the churn rules say (they have no place yet)', () => {
    // 'h' settled on node 1 with 2 of 4 vCPUs; the problem says 3 after the hot-plug (vCPU 2 is fresh).
    const vm = settled('h', 1, { vcpusMax: 4, vcpuPins: ['8-15', '8-15', '0-15', '0-15'] });
    const inp = input([vm], { h: 1 }, { settings: withSettings({ churn: { holdCycles: 5 } }) });
    const grown = { ...inp.problem, vms: inp.problem.vms.map((v) => ({ ...v, vcpus: 3, load: [...v.load, 0.9], current: { ...v.current!, vcpuNodes: [...v.current!.vcpuNodes, 1] } })) };
    const placement = placeAll(grown, () => 1);
    const out = plan({ ...inp, problem: grown, placement, fresh: new Map([['h', [2]]]) });
    expect(out.steps).to.deep.equal([{ vm: 'h', kind: 'pinVcpu', vcpu: 2, cpuset: '8-15' }]);
    expect(out.deferred).to.deep.equal([]);
    // Without `fresh` the vCPU beyond the sampled count is not touched.
    expect(plan({ ...inp, problem: grown, placement }).steps).to.deep.equal([]);
  });
});
