import { expect } from 'chai';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { DEFAULT_SETTINGS, withSettings } from '../../src/daemon/settings.js';
import { settleHotplug, type HotplugDecision } from '../../src/hotplug/settle.js';
import { emptyHotplugState, initialVmState, type HotplugState } from '../../src/hotplug/state.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { FakeBackend, placeAll, vmSample } from '../helpers/fake-host.js';

const topo = syntheticTopology('2x8');

function saturatedHost() {
  const busy = vmSample({
    name: 'busy',
    vcpusCurrent: 2,
    vcpusMax: 4,
    vcpuPins: ['8-15', '8-15', null, null],
    vcpuTimeNs: [0, 0, null, null],
    emulatorPin: '8-15',
    numatune: { mode: 'restrictive', nodeset: '1' },
    memoryByNode: { '1': 1024 },
    cpuShares: 2048,
  });
  const backend = new FakeBackend(topo, [busy]);
  backend.loads = { busy: 1 };
  return backend;
}

describe('commitCycle: state from what was executed', () => {
  it('a hot-plug whose setVcpus failed is decided again the next cycle (no cooldown, nothing counted as plugged)', async () => {
    const backend = saturatedHost();
    let failures = 1;
    const setVcpus = backend.setVcpus.bind(backend);
    let attempts = 0;
    backend.setVcpus = async (vm, count, flags) => {
      attempts++;
      if (failures-- > 0) throw new Error('injected: setVcpus failed');
      return setVcpus(vm, count, flags);
    };
    const settings = withSettings({ mode: 'apply', hotplug: { vcpu: { ...DEFAULT_SETTINGS.hotplug.vcpu, windowCycles: 2 } } });
    const daemon = new Daemon({ backend, settings, solve: async (p) => placeAll(p, () => 1), logger: memoryLogger(), stateDir: null });
    await daemon.runCycle(); // warm-up
    await daemon.runCycle(); // saturated 1/2
    const failed = await daemon.runCycle(); // saturated 2/2: setVcpus, which fails
    expect(attempts).to.equal(1);
    expect(failed.failed.map((f) => f.step.kind)).to.deep.equal(['setVcpus']);
    expect(daemon.state.hotplug.vms.busy.pluggedVcpus).to.deep.equal([]);
    expect(daemon.state.hotplug.vms.busy.vcpu.cooldown).to.equal(0);
    const retried = await daemon.runCycle();
    expect(attempts).to.equal(2);
    expect(retried.applied).to.deep.include({ vm: 'busy', kind: 'setVcpus', count: 3 });
    expect(backend.vms[0].vcpusCurrent).to.equal(3);
    expect(daemon.state.hotplug.vms.busy.pluggedVcpus).to.deep.equal([2]);
    expect(daemon.state.hotplug.vms.busy.vcpu.cooldown).to.equal(DEFAULT_SETTINGS.hotplug.vcpu.cooldownCycles);
  });

  it('advisory mode records the decision as given advice: not repeated every cycle', async () => {
    const backend = saturatedHost();
    const settings = withSettings({ mode: 'advisory', hotplug: { vcpu: { ...DEFAULT_SETTINGS.hotplug.vcpu, windowCycles: 2 } } });
    const daemon = new Daemon({ backend, settings, solve: async (p) => placeAll(p, () => 1), logger: memoryLogger(), stateDir: null });
    const steps = [];
    for (let c = 0; c < 6; c++) steps.push(...(await daemon.runCycle()).steps.filter((s) => s.kind === 'setVcpus'));
    expect(steps).to.deep.equal([{ vm: 'busy', kind: 'setVcpus', count: 3 }]);
  });

  it('settleHotplug: done keeps the decision, refused keeps the cooldown but adds nothing, not-done restores the VM', () => {
    const before = { detector: { count: 3, armed: true, cooldown: 0 }, pluggedVcpus: [], attachedMiB: 0 };
    const decided: HotplugDecision[] = [
      { vm: 'a', kind: 'vcpu', step: { vm: 'a', kind: 'setVcpus', count: 3 }, before },
      { vm: 'b', kind: 'memory', step: { vm: 'b', kind: 'attachMemory', MiB: 1024, guestNode: 0 }, before },
      { vm: 'c', kind: 'vcpu', step: { vm: 'c', kind: 'setVcpus', count: 3 }, before },
    ];
    const state: HotplugState = emptyHotplugState();
    for (const vm of ['a', 'b', 'c']) {
      state.vms[vm] = { ...initialVmState(`uuid-${vm}`), vcpu: { count: 0, armed: false, cooldown: 30 }, memory: { count: 0, armed: false, cooldown: 30 }, pluggedVcpus: [2], attachedMiB: 1024 };
    }
    const outcome = { a: 'done', b: 'refused', c: 'not-done' } as const;
    const s = settleHotplug(state, decided, (step) => outcome[step.vm as 'a' | 'b' | 'c']);
    expect(s.vms.a).to.deep.equal(state.vms.a);
    expect(s.vms.b.memory).to.deep.equal({ count: 0, armed: false, cooldown: 30 });
    expect(s.vms.b.attachedMiB).to.equal(0);
    expect(s.vms.c.vcpu).to.deep.equal(before.detector);
    expect(s.vms.c.pluggedVcpus).to.deep.equal([]);
  });
});
