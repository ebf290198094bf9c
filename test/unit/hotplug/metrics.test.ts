import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { recordHotplugCycle } from '../../../src/daemon/hotplug-metrics.js';
import { hotplugStage } from '../../../src/hotplug/stage.js';
import { emptyHotplugState } from '../../../src/hotplug/state.js';
import { sampleToProblem } from '../../../src/daemon/sample-to-problem.js';
import { withSettings } from '../../../src/daemon/settings.js';
import { syntheticTopology } from '../../../src/topology/synthetic.js';
import { hostSample, viewOf, vmSample } from '../../helpers/fake-host.js';
import { config } from './fixtures.js';

describe('hotplug: cycle metrics', () => {
  it('counts applied hot-plugs as done and each new refusal once, by reason', async () => {
    const full = vmSample({ name: 'full', vcpusCurrent: 2, vcpusMax: 2, vcpuTimeNs: [1, 1], vcpuPins: ['0-7', '0-7'], guestVcpusOnline: [0, 1] });
    const sample = hostSample(syntheticTopology('2x8'), [full]);
    const loads = new Map([['full', [1, 1]]]);
    const build = sampleToProblem(viewOf(sample, withSettings({})), sample, loads, withSettings({}));
    const cfg = config({ vcpu: { windowCycles: 1 } });
    const registry = new Registry();
    const m = createMetrics(registry);
    let state = emptyHotplugState();
    for (let c = 0; c < 3; c++) {
      const stage = hotplugStage({ view: viewOf(sample), sample, lastLoads: loads, state, config: cfg, excluded: build.excluded, problem: build.problem });
      state = stage.state;
      const f = recordHotplugCycle(m, { applied: [{ vm: 'other', kind: 'setVcpus', count: 4 }], hotplug: stage });
      expect(f.guestVcpusOnline.get('full')).to.equal(2);
    }
    const text = await registry.metrics();
    expect(text).to.contain('numaplace_hotplug_total{kind="vcpu",result="refused",reason="at-maximum"} 1');
    expect(text).to.contain('numaplace_hotplug_total{kind="vcpu",result="done",reason="none"} 3');
  });
});
