import { expect } from 'chai';
import { planCycle } from '../../src/daemon/plan-cycle.js';
import { withSettings } from '../../src/daemon/settings.js';
import { freshState } from '../../src/daemon/state.js';
import { solveInProcess } from '../../solver/solve.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { hostSample, viewOf, vmSample } from '../helpers/fake-host.js';

const topo = syntheticTopology('2x8'); // node 0: CPUs 0-7, node 1: 8-15

describe('planCycle when the solver finds no placement', () => {
  it('keeps every VM on its nodes, yet takes a vCPU and an emulator off a reserved CPU at once', async () => {
    // 'hog' is left alone (excluded) and alone needs more CPU than node 0 has once CPU 0 is reserved.
    const hog = vmSample({ name: 'hog', vcpusCurrent: 8, vcpuPins: Array(8).fill('0-7'), numatune: { mode: 'restrictive', nodeset: '0' }, memoryByNode: { '0': 1024 } });
    const onReserved = vmSample({ name: 'a', vcpuPins: ['0', '1-7'], emulatorPin: '0', numatune: { mode: 'restrictive', nodeset: '0-1' }, memoryByNode: { '0': 512, '1': 512 } });
    const elsewhere = vmSample({ name: 'b', vcpuPins: ['0-7', '8-15'], emulatorPin: '0-15', numatune: { mode: 'restrictive', nodeset: '1' }, memoryByNode: { '1': 1024 } });
    const sample = hostSample(topo, [hog, onReserved, elsewhere]);
    const loads = new Map([['hog', Array(8).fill(1)], ['a', [0.5, 0.5]], ['b', [0.5, 0.5]]]);
    const settings = withSettings({ mode: 'apply', reservedCpus: '0', exclude: { names: ['hog'] }, churn: { holdCycles: 1 } });
    const state = freshState();
    const out = await planCycle({ sample, view: viewOf(sample, settings), loads, lastLoads: loads, settings, churn: state.churn, hotplug: state.hotplug, solve: async (p) => solveInProcess(p), holdRule: true });

    expect(out.placement.status).to.equal('infeasible');
    expect(out.placement.reason).to.match(/node 0/);
    // a: vCPU 0 and the emulator leave reserved CPU 0, staying on node 0; its memory is not touched.
    expect(out.steps.filter((s) => s.vm === 'a')).to.deep.include.members([
      { vm: 'a', kind: 'pinVcpu', vcpu: 0, cpuset: '1-7' },
      { vm: 'a', kind: 'pinEmulator', cpuset: '1-7' },
    ]);
    expect(out.steps.some((s) => s.kind === 'setNodeset')).to.equal(false);
    // b spans nodes 0 and 1 and is not on a reserved CPU: nothing moves between nodes while overloaded.
    for (const s of out.steps) {
      if (s.vm === 'b' && s.kind === 'pinVcpu') expect(s.cpuset).to.equal(s.vcpu === 0 ? '1-7' : '8-15');
    }
    expect(out.steps.some((s) => s.vm === 'hog')).to.equal(false);
  });
});
