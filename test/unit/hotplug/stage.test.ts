import { expect } from 'chai';
import { hotplugStage } from '../../../src/hotplug/stage.js';
import { emptyHotplugState, type HotplugState } from '../../../src/hotplug/state.js';
import { sampleToProblem } from '../../../src/daemon/sample-to-problem.js';
import { withSettings } from '../../../src/daemon/settings.js';
import { newChurnState } from '../../../src/plan/churn.js';
import { plan } from '../../../src/plan/planner.js';
import { syntheticTopology } from '../../../src/topology/synthetic.js';
import { hostSample, placeAll, viewOf, vmSample } from '../../helpers/fake-host.js';
import { config } from './fixtures.js';

const topo = syntheticTopology('2x8');

describe('hotplug: the daemon-cycle stage (planHotplug -> grown problem -> planner)', () => {
  it('a saturated VM gets setVcpus and, in the same plan, the new vCPU pinned on its node', () => {
    const vm = vmSample({
      name: 'busy',
      vcpusCurrent: 2,
      vcpusMax: 4,
      vcpuPins: ['8-15', '8-15', null, null],
      vcpuTimeNs: [1, 1, null, null],
      emulatorPin: '8-15',
      numatune: { mode: 'restrictive', nodeset: '1' },
      memoryByNode: { '1': 1024 },
      cpuShares: 2048,
    });
    const sample = hostSample(topo, [vm]);
    const settings = withSettings({ churn: { holdCycles: 5 } });
    const smoothed = new Map([['busy', [1, 1]]]);
    const build = sampleToProblem(viewOf(sample, settings), sample, smoothed, settings);
    const cfg = config({ vcpu: { windowCycles: 2 } });
    let state: HotplugState = emptyHotplugState();
    let stage = hotplugStage({ view: viewOf(sample), sample, lastLoads: smoothed, state, config: cfg, excluded: build.excluded, problem: build.problem });
    expect(stage.steps).to.deep.equal([]);
    expect(stage.problem).to.equal(build.problem);
    state = stage.state;
    stage = hotplugStage({ view: viewOf(sample), sample, lastLoads: smoothed, state, config: cfg, excluded: build.excluded, problem: build.problem });
    expect(stage.steps).to.deep.equal([{ vm: 'busy', kind: 'setVcpus', count: 3 }]);
    expect(stage.problem.vms[0]).to.deep.include({ vcpus: 3, load: [1, 1, 1] });
    expect(stage.fresh).to.deep.equal(new Map([['busy', [2]]]));
    expect(stage.log.map((l) => l.message)).to.deep.equal(['hot-plug: busy saturated, growing to 3 vCPUs']);
    expect(stage.guest).to.deep.equal([{ vm: 'busy', plugged: 2, guestOnline: null, hotplugged: 0, hotpluggedOnline: null }]);

    // The solver (here: everything on node 1) places the grown VM; the planner pins the fresh vCPU now.
    const out = plan({
      view: viewOf(sample, settings),
      sample,
      problem: stage.problem,
      placement: placeAll(stage.problem, () => 1),
      excluded: build.excluded,
      settings,
      churn: newChurnState(),
      holdRule: true,
      fresh: stage.fresh,
    });
    expect([...stage.steps, ...out.steps]).to.deep.equal([
      { vm: 'busy', kind: 'setVcpus', count: 3 },
      { vm: 'busy', kind: 'pinVcpu', vcpu: 2, cpuset: '8-15' },
    ]);
  });

  it('a new lasting refusal is a warn log line; repeated ones are not; every one is in `refused`', () => {
    const vm = vmSample({ name: 'full', vcpusCurrent: 2, vcpusMax: 2, vcpuTimeNs: [1, 1], vcpuPins: ['0-7', '0-7'] });
    const sample = hostSample(topo, [vm]);
    const loads = new Map([['full', [1, 1]]]);
    const build = sampleToProblem(viewOf(sample, withSettings({})), sample, loads, withSettings({}));
    const cfg = config({ vcpu: { windowCycles: 1 } });
    const first = hotplugStage({ view: viewOf(sample), sample, lastLoads: loads, state: emptyHotplugState(), config: cfg, excluded: build.excluded, problem: build.problem });
    expect(first.log.map((l) => [l.level, l.fields.code])).to.deep.equal([['warn', 'at-maximum']]);
    expect(first.refused[0].reason).to.match(/^vcpu hot-plug refused \(at-maximum\)/);
    const second = hotplugStage({ view: viewOf(sample), sample, lastLoads: loads, state: first.state, config: cfg, excluded: build.excluded, problem: build.problem });
    expect(second.log).to.deep.equal([]);
    expect(second.refused).to.have.length(1);
  });
});
