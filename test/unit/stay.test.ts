/** The stay placement (no feasible placement): a VM whose nodes have no usable CPU gets no steps rather than empty cpusets. */
import { expect } from 'chai';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { withSettings } from '../../src/daemon/settings.js';
import type { HostTopology } from '../../src/core/topology.js';
import { solveInProcess } from '../../solver/solve.js';
import { FakeBackend, vmSample } from '../helpers/fake-host.js';

describe('stay placement', () => {
  // Shrunk from a failing case of test/reliability/invariants.test.ts: node 0's online CPUs are all
  // reserved, the excluded VMs overfill the host (infeasible), and vm3 sits on node 0.
  it('leaves out a VM whose node has no usable CPU (no pin to an empty cpuset)', async () => {
    const topo: HostTopology = {nodes: [{"id": 0, cpus: [0, 1], "memoryMiB": 9216, "freeMemoryMiB": 7372, "distances": {"0": 10, "1": 17}}, {"id": 1, cpus: [5], "memoryMiB": 4096, "freeMemoryMiB": 3276, "distances": {"0": 17, "1": 10}}], cpus: [{"id": 0, "node": 0, "socket": 0, "die": 0, "core": 0, "siblings": [0], "online": true}, {"id": 1, "node": 0, "socket": 0, "die": 0, "core": 1, "siblings": [1], "online": true}, {"id": 2, "node": 0, "socket": 0, "die": 0, "core": 2, "siblings": [2], "online": false}, {"id": 3, "node": 0, "socket": 0, "die": 0, "core": 3, "siblings": [3], "online": false}, {"id": 4, "node": 0, "socket": 0, "die": 0, "core": 4, "siblings": [4], "online": false}, {"id": 5, "node": 1, "socket": 1, "die": 0, "core": 5, "siblings": [5], "online": true}, {"id": 6, "node": 1, "socket": 1, "die": 0, "core": 6, "siblings": [6], "online": false}], warnings: [], source: "simulated:random"};
    const vm = (name: string, vcpus: number, pins: (string | null)[], emulatorPin: string | null) =>
      vmSample({ name, vcpusCurrent: vcpus, vcpusMax: vcpus, vcpuPins: pins, emulatorPin, memoryMiB: 256, numatune: { mode: 'strict', nodeset: '0' }, memoryByNode: { '0': 256 } });
    const backend = new FakeBackend(topo, [vm('vm0', 1, [null], null), vm('vm1', 3, [null, null, null], null), vm('vm2', 1, [null], '0'), vm('vm3', 1, ['0-1'], '0')]);
    backend.loads = { vm0: 0, vm1: 0.05, vm2: 0, vm3: 0 };
    const settings = withSettings({ mode: 'apply', reservedCpus: '0-1', churn: { holdCycles: 1, improvementMargin: 0 }, exclude: { names: ['vm0', 'vm1', 'vm2'], metadata: true } });
    const daemon = new Daemon({ backend, settings, logger: memoryLogger(), stateDir: null, solve: async (p) => solveInProcess(p, { timeLimitMs: 200 }) });
    await daemon.runCycle();
    const r = await daemon.runCycle();
    expect(r.outcome, r.error).to.equal('ok');
    expect(r.placementStatus).to.equal('infeasible');
    const empty = r.steps.filter((s) => 'cpuset' in s && s.cpuset.trim() === '');
    expect(empty, JSON.stringify(empty)).to.deep.equal([]);
  });
});
