import { expect } from 'chai';
import { planHotplug, type HotplugPlan } from '../../../src/hotplug/plan-hotplug.js';
import { shouldLog, refusalReason } from '../../../src/hotplug/refusal.js';
import { emptyHotplugState, parseHotplugState, HotplugStateError, type HotplugState } from '../../../src/hotplug/state.js';
import type { HostSample, VmSample } from '../../../src/host/backend.js';
import type { HotplugPlanConfig } from '../../../src/hotplug/config.js';
import { config, host, loadsOf, vm } from './fixtures.js';
import { viewOf } from '../../helpers/fake-host.js';

/** Run `cycles` cycles of the same sample and loads (with the state carried over through a JSON round trip). */
function cycles(sample: (cycle: number) => HostSample, load: (cycle: number, v: VmSample) => number, n: number, cfg: HotplugPlanConfig) {
  let state: HotplugState = emptyHotplugState();
  const plans: HotplugPlan[] = [];
  for (let c = 0; c < n; c++) {
    const s = sample(c);
    const p = planHotplug(viewOf(s), s, loadsOf(s.vms, (v) => load(c, v)), state, cfg);
    plans.push(p);
    state = parseHotplugState(JSON.parse(JSON.stringify(p.state)));
  }
  return { plans, state };
}

const fast = config({ vcpu: { windowCycles: 3, cooldownCycles: 5 } });

describe('hotplug: planHotplug (one cycle of policy)', () => {
  it('a VM saturated for windowCycles cycles gets one setVcpus step and a problem adjustment', () => {
    const busy = vm({ name: 'busy', guestCells: [] });
    const { plans } = cycles(() => host([busy]), () => 0.97, 3, fast);
    expect(plans[0].steps).to.deep.equal([]);
    expect(plans[1].steps).to.deep.equal([]);
    expect(plans[2].steps).to.deep.equal([{ vm: 'busy', kind: 'setVcpus', count: 5 }]);
    expect(plans[2].problemAdjustments).to.deep.equal([
      { vm: 'busy', kind: 'vcpus', vcpus: 5, addedVcpus: [4], addedLoad: 0.97, preferredNode: 0 },
    ]);
    expect(plans[2].state.vms.busy.pluggedVcpus).to.deep.equal([4]);
  });

  it('an idle VM gets nothing', () => {
    const { plans } = cycles(() => host([vm({ name: 'idle' })]), () => 0.02, 20, fast);
    expect(plans.flatMap((p) => p.steps)).to.deep.equal([]);
    expect(plans.flatMap((p) => p.refusals)).to.deep.equal([]);
  });

  it('a VM with one idle vCPU is not saturated', () => {
    const { plans } = cycles(() => host([vm()]), (_, v) => 1, 1, fast);
    expect(plans[0].steps).to.deep.equal([]);
    const s = host([vm()]);
    const loads = loadsOf(s.vms, (_, i) => (i === 3 ? 0.1 : 1));
    let state = emptyHotplugState();
    for (let c = 0; c < 10; c++) {
      const p = planHotplug(viewOf(s), s, loads, state, fast);
      expect(p.steps).to.deep.equal([]);
      state = p.state;
    }
  });

  it('no second hot-plug inside the cooldown while the burst goes on; the grown VM only grows again after the load dipped', () => {
    // The VM grows when told to: the sample follows the steps of the previous cycle.
    let vcpus = 4;
    const sample = () => host([vm({ name: 'busy', vcpusCurrent: vcpus, guestCells: [] })]);
    let state = emptyHotplugState();
    const grownAt: number[] = [];
    for (let c = 0; c < 40; c++) {
      const s = sample();
      const load = c === 20 ? 0.3 : 1; // one dip at cycle 20
      const p = planHotplug(viewOf(s), s, loadsOf(s.vms, load), state, fast);
      state = p.state;
      for (const st of p.steps) if (st.kind === 'setVcpus') ((vcpus = st.count), grownAt.push(c));
    }
    // fires at 2; disarmed through the burst; the dip at 20 re-arms; 21..23 saturated again -> 23 (cooldown long over).
    expect(grownAt).to.deep.equal([2, 23]);
    expect(vcpus).to.equal(6);
  });

  it('a lasting refusal is reported once as new, then as repeated without re-deciding, until the VM changes', () => {
    let max = 4;
    const sample = () => host([vm({ name: 'full', vcpusCurrent: 4, vcpusMax: max, guestCells: [] })]);
    let state = emptyHotplugState();
    const seen: { code: string; repeated: boolean }[][] = [];
    for (let c = 0; c < 6; c++) {
      if (c === 5) max = 8; // redefined with room: forgotten, decided again -> growth
      const s = sample();
      const p = planHotplug(viewOf(s), s, loadsOf(s.vms, 1), state, fast);
      state = p.state;
      seen.push(p.refusals.map((r) => ({ code: r.code, repeated: r.repeated })));
      if (c === 5) expect(p.steps).to.deep.equal([{ vm: 'full', kind: 'setVcpus', count: 5 }]);
    }
    expect(seen.slice(0, 5)).to.deep.equal([[], [], [{ code: 'at-maximum', repeated: false }], [{ code: 'at-maximum', repeated: true }], [{ code: 'at-maximum', repeated: true }]]);
    expect(seen[5]).to.deep.equal([]);
  });

  it('host-full is transient: re-evaluated every cycle, never remembered, never logged', () => {
    // 2x8 host, two 8-vCPU VMs each filling a node, a third saturated VM has nowhere to go.
    const a = vm({ name: 'a', uuid: 'a', vcpusCurrent: 8, vcpusMax: 8, vcpuPins: Array(8).fill('0-7'), guestCells: [] });
    const b = vm({ name: 'b', uuid: 'b', vcpusCurrent: 8, vcpusMax: 8, vcpuPins: Array(8).fill('8-15'), guestCells: [] });
    const c = vm({ name: 'c', uuid: 'c', vcpusCurrent: 1, vcpusMax: 4, vcpuPins: Array(4).fill('0-7'), guestCells: [] });
    const { plans, state } = cycles(() => host([a, b, c]), () => 1, 5, fast);
    const forC = plans.map((p) => p.refusals.filter((r) => r.vm === 'c'));
    expect(forC[2].map((r) => [r.code, r.lasting, r.repeated])).to.deep.equal([['host-full', false, false]]);
    expect(forC[4].map((r) => r.code)).to.deep.equal(['host-full']);
    expect(forC.flat().some(shouldLog)).to.equal(false);
    expect(state.vms.c.refused).to.deep.equal({});
    // a and b are at their maximum: lasting, logged once each.
    expect(plans.flatMap((p) => p.refusals).filter(shouldLog).map((r) => `${r.vm}:${r.code}`)).to.deep.equal(['a:at-maximum', 'b:at-maximum']);
    expect(refusalReason(forC[2][0])).to.match(/^vcpu hot-plug refused \(host-full\): /);
  });

  it('two saturated VMs do not both take the same last spare CPU', () => {
    const a = vm({ name: 'a', uuid: 'a', vcpusCurrent: 7, vcpusMax: 8, vcpuPins: Array(8).fill('0-7'), guestCells: [] });
    const b = vm({ name: 'b', uuid: 'b', vcpusCurrent: 7, vcpusMax: 8, vcpuPins: Array(8).fill('8-15'), guestCells: [] });
    const c = vm({ name: 'c', uuid: 'c', vcpusCurrent: 1, vcpusMax: 4, vcpuPins: Array(4).fill('0-15'), vcpuLastCpu: [3, null, null, null], guestCells: [] });
    const { plans } = cycles(() => host([a, b, c]), () => 1, 3, fast);
    // Spare: node 0 has 0 (7 + c's 1), node 1 has 1. a and b compete; only the first gets it... and c gets none.
    expect(plans[2].steps.map((s) => s.vm)).to.deep.equal(['a']);
    expect(plans[2].problemAdjustments[0]).to.include({ preferredNode: 1 });
    expect(plans[2].refusals.map((r) => `${r.vm}:${r.code}`)).to.deep.equal(['b:host-full', 'c:host-full']);
  });

  it('a VM that is not running resets its detector and gets nothing', () => {
    let running = true;
    const sample = () => host([vm({ name: 'x', running, state: running ? 'running' : 'paused', guestCells: [] })]);
    let state = emptyHotplugState();
    const steps = [];
    for (let c = 0; c < 5; c++) {
      running = c !== 1;
      const s = sample();
      const p = planHotplug(viewOf(s), s, loadsOf(s.vms, 1), state, fast);
      state = p.state;
      steps.push(...p.steps);
    }
    // saturated at 0, paused at 1 (reset), saturated 2,3,4 -> fires at 4
    expect(steps).to.have.length(1);
  });

  it('a new VM under an old name (different uuid) starts afresh', () => {
    const s1 = host([vm({ name: 'x', uuid: 'u1', guestCells: [] })]);
    let state = emptyHotplugState();
    for (let c = 0; c < 2; c++) state = planHotplug(viewOf(s1), s1, loadsOf(s1.vms, 1), state, fast).state;
    expect(state.vms.x.vcpu.count).to.equal(2);
    const s2 = host([vm({ name: 'x', uuid: 'u2', guestCells: [] })]);
    const p = planHotplug(viewOf(s2), s2, loadsOf(s2.vms, 1), state, fast);
    expect(p.steps).to.deep.equal([]);
    expect(p.state.vms.x.vcpu.count).to.equal(1);
  });

  it('VMs gone from the sample are dropped from the state; the input state is not modified', () => {
    const s = host([vm({ name: 'x', guestCells: [] })]);
    const state = parseHotplugState({ version: 1, vms: { gone: { uuid: 'g', vcpu: { count: 1, armed: true, cooldown: 0 }, memory: { count: 0, armed: true, cooldown: 0 }, refused: {}, pluggedVcpus: [], attachedMiB: 0 } } });
    const before = JSON.stringify(state);
    const p = planHotplug(viewOf(s), s, loadsOf(s.vms, 1), state, fast);
    expect(Object.keys(p.state.vms)).to.deep.equal(['x']);
    expect(JSON.stringify(state)).to.equal(before);
  });

  it('excluded VMs are neither watched nor grown', () => {
    const s = host([vm({ name: 'x', guestCells: [] })]);
    let state = emptyHotplugState();
    for (let c = 0; c < 5; c++) {
      const p = planHotplug(viewOf(s), s, loadsOf(s.vms, 1), state, fast, new Map([['x', 'excluded by exclude.names pattern "x"']]));
      expect(p.steps).to.deep.equal([]);
      state = p.state;
    }
    expect(state.vms).to.deep.equal({});
  });

  it('disabled detectors do nothing', () => {
    const cfg = config({ vcpu: { enabled: false, windowCycles: 1 }, memory: { enabled: false, windowCycles: 1 } });
    const s = host([vm({ guestCells: [], balloon: { availableKiB: 1000, usableKiB: 1 } })]);
    expect(planHotplug(viewOf(s), s, loadsOf(s.vms, 1), emptyHotplugState(), cfg).steps).to.deep.equal([]);
  });

  describe('memory', () => {
    const memCfg = config({ memory: { windowCycles: 2, cooldownCycles: 10 }, vcpu: { enabled: false } });
    const short = (over: Partial<VmSample> = {}) =>
      vm({
        name: 'm',
        balloon: { availableKiB: 4096 * 1024, usableKiB: 200 * 1024 },
        memnodes: [{ cellid: 0, mode: 'strict', nodeset: '1' }],
        ...over,
      });
    it('a VM short of memory for windowCycles gets one attachMemory step on the chosen guest and host node', () => {
      const { plans, state } = cycles(() => host([short()]), () => 0.1, 6, memCfg);
      const steps = plans.flatMap((p) => p.steps);
      expect(steps).to.deep.equal([{ vm: 'm', kind: 'attachMemory', MiB: 1024, guestNode: 0, sourceNodes: '1' }]);
      expect(plans[1].problemAdjustments).to.deep.equal([{ vm: 'm', kind: 'memory', MiB: 1024, guestNode: 0, hostNode: 1 }]);
      expect(state.vms.m.attachedMiB).to.equal(1024);
    });
    it('a VM with enough memory, or without balloon stats, gets none', () => {
      const ok = cycles(() => host([short({ balloon: { availableKiB: 4096 * 1024, usableKiB: 2048 * 1024 } })]), () => 0.1, 6, memCfg);
      expect(ok.plans.flatMap((p) => p.steps)).to.deep.equal([]);
      const unknown = cycles(() => host([short({ balloon: { currentKiB: 4096 * 1024 } })]), () => 0.1, 6, memCfg);
      expect(unknown.plans.flatMap((p) => p.steps)).to.deep.equal([]);
    });
    it('a refusal names the constraint (vhost-user) and is logged once', () => {
      const { plans } = cycles(() => host([short({ hasVhostUser: true })]), () => 0.1, 5, memCfg);
      const rs = plans.flatMap((p) => p.refusals);
      expect(rs.map((r) => r.code)).to.deep.equal(['vhost-user', 'vhost-user', 'vhost-user', 'vhost-user']);
      expect(rs.filter(shouldLog)).to.have.length(1);
      expect(rs[0].kind).to.equal('memory');
    });
    it('carries the Linux < 4 GiB warning with the step', () => {
      const v = short({ osType: 'linux', guestCells: [{ id: 0, cpus: [0, 1, 2, 3, 4, 5, 6, 7], memoryMiB: 1024 }] });
      const { plans } = cycles(() => host([v]), () => 0.1, 2, memCfg);
      expect(plans[1].warnings.map((w) => w.vm)).to.deep.equal(['m']);
    });
  });

  describe('state', () => {
    it('rejects a corrupt checkpoint with a clear error', () => {
      expect(() => parseHotplugState(null)).to.throw(HotplugStateError, /not an object/);
      expect(() => parseHotplugState({ version: 2, vms: {} })).to.throw(HotplugStateError, /version 2/);
      expect(() => parseHotplugState({ version: 1, vms: { a: { uuid: 'x', vcpu: {}, memory: {}, refused: {}, pluggedVcpus: [], attachedMiB: 0 } } })).to.throw(
        HotplugStateError,
        /vms\["a"\]\.vcpu/,
      );
      expect(() => parseHotplugState({ version: 1, vms: { a: { uuid: 'x', vcpu: { count: 0, armed: true, cooldown: 0 }, memory: { count: 0, armed: true, cooldown: 0 }, refused: { cpu: {} }, pluggedVcpus: [], attachedMiB: 0 } } })).to.throw(
        HotplugStateError,
        /unknown kind "cpu"/,
      );
    });
  });
});
