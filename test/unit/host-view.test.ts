import { expect } from 'chai';
import { Registry } from 'prom-client';
import { CONFIG_TABLE } from '../../src/core/config-table.js';
import { buildHostView } from '../../src/core/host-view.js';
import { cpuNodeMap } from '../../src/core/nodes.js';
import { distanceMatrix, distanceToMemory } from '../../src/core/quality.js';
import { desiredShares, SHARES_MAX, SHARES_MIN } from '../../src/core/shares.js';
import type { HostTopology } from '../../src/core/topology.js';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { metricsObserver } from '../../src/daemon/metrics-observer.js';
import { sampleToProblem } from '../../src/daemon/sample-to-problem.js';
import { DEFAULT_SETTINGS, withSettings } from '../../src/daemon/settings.js';
import { CPU_SHARES_MAX, CPU_SHARES_MIN } from '../../src/host/virsh-backend.js';
import { nodeRoom } from '../../src/hotplug/host-room.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { newChurnState } from '../../src/plan/churn.js';
import { plan } from '../../src/plan/planner.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { FakeBackend, hostSample, placeAll, viewOf, vmSample } from '../helpers/fake-host.js';

const topo = syntheticTopology('2x8'); // node 0: CPUs 0-7, node 1: 8-15

// Where the copies of these host facts used to disagree, the rule chosen and why.
describe('HostView: one answer per host fact', () => {
  it('CPU -> node: a node\'s CPU list wins over the per-CPU record; the record only adds CPUs no node lists', () => {
    const t: HostTopology = structuredClone(topo);
    t.cpus.find((c) => c.id === 3)!.node = 1; // a per-CPU record that contradicts node 0's list
    t.cpus.push({ id: 16, node: 1, socket: -1, die: -1, core: -1, siblings: [16], online: false });
    t.cpus.push({ id: 17, node: -1, socket: -1, die: -1, core: -1, siblings: [17], online: false });
    const m = cpuNodeMap(t);
    expect(m.get(3)).to.equal(0);
    expect(m.get(16)).to.equal(1);
    expect(m.has(17)).to.equal(false);
  });

  it('nodes a cpuset reaches: CPUs the host does not know reach none; an unreadable cpuset is null', () => {
    const view = buildHostView(topo, { reservedCpus: '', cpuOvercommit: 1 });
    expect([...view.nodesOf('0-1,99')!]).to.deep.equal([0]);
    expect([...view.nodesOf('7-8')!].sort()).to.deep.equal([0, 1]);
    expect(view.nodesOf('x')).to.equal(null);
    expect(view.nodesOf(null)).to.equal(null);
  });

  it('node capacity counts only online, unreserved CPUs (times overcommit)', () => {
    const view = buildHostView(topo, { reservedCpus: '0-3', cpuOvercommit: 1.5 });
    expect(view.usableCpus(0)).to.equal(4);
    expect(view.capacity(0)).to.equal(6);
    expect(view.capacity(1)).to.equal(12);
  });

  it('the node a vCPU is on follows the memory rule for hot-plug too: room is booked where the solver assumes the vCPU', () => {
    // Unpinned, last ran on CPU 1 (node 0), memory on node 1: pinning it to node 1 is no move.
    const vm = vmSample({ name: 'a', vcpuLastCpu: [1, 1], memoryByNode: { '1': 1024 }, numatune: { mode: 'restrictive', nodeset: '1' } });
    const sample = hostSample(topo, [vm]);
    const { problem } = sampleToProblem(viewOf(sample, DEFAULT_SETTINGS), sample, new Map([['a', [0.5, 0.5]]]), DEFAULT_SETTINGS);
    expect(problem.vms[0].current!.vcpuNodes).to.deep.equal([1, 1]);
    const rooms = nodeRoom(viewOf(sample), sample, new Map([['a', [0.5, 0.5]]]));
    expect(rooms.map((r) => r.used)).to.deep.equal([0, 1]);
  });

  it('node CPU usage in the metrics is over the CPUs VMs may use (reserved CPUs left out)', async () => {
    const vm = vmSample({ name: 'a', vcpuPins: ['4-7', '4-7'], emulatorPin: '4-7', memoryByNode: { '0': 1024 }, numatune: { mode: 'restrictive', nodeset: '0' }, cpuShares: 2048 });
    const backend = new FakeBackend(topo, [vm]);
    backend.loads = { a: 1 };
    const registry = new Registry();
    const daemon = new Daemon({
      backend,
      settings: withSettings({ reservedCpus: '0-3' }),
      solve: async (p) => placeAll(p, () => 0),
      logger: memoryLogger(),
      stateDir: null,
      observer: metricsObserver(createMetrics(registry)),
    });
    await daemon.runCycle();
    await daemon.runCycle();
    // 2 busy vCPUs on node 0, whose usable CPUs are 4-7: half busy (not 2/8).
    expect(await registry.metrics()).to.match(/^numaplace_node_vm_load_ratio\{node="0"\} 0\.5$/m);
  });

  it('cpu_shares: one range for the config check, the wanted value and the virsh backend', () => {
    expect([CPU_SHARES_MIN, CPU_SHARES_MAX]).to.deep.equal([SHARES_MIN, SHARES_MAX]);
    const check = CONFIG_TABLE['shares.perVcpu'].check;
    expect(check(SHARES_MAX)).to.equal(SHARES_MAX);
    expect(() => check(SHARES_MAX + 1)).to.throw(/from 2 to 262144/);
    expect(() => check(SHARES_MIN - 1)).to.throw();
    const s = withSettings({});
    expect(desiredShares(vmSample({ name: 'big', vcpusCurrent: 1000 }), s)).to.equal(SHARES_MAX);
  });

  it('the planner uses the quality measure itself: a missing distance is an error, not an assumed 20', () => {
    const t: HostTopology = structuredClone(topo);
    delete t.nodes[0].distances['1'];
    expect(() => distanceToMemory(distanceMatrix(t), 0, { '1': 1024 })).to.throw(/no distance from node 0 to node 1/);
    const vm = vmSample({ name: 'a', vcpuPins: ['0-7', '0-7'], emulatorPin: '0-7', memoryByNode: { '1': 1024 }, numatune: { mode: 'restrictive', nodeset: '1' } });
    const sample = hostSample(t, [vm]);
    const settings = withSettings({});
    const built = sampleToProblem(viewOf(sample, settings), sample, new Map([['a', [0.5, 0.5]]]), settings);
    const input = { view: viewOf(sample, settings), sample, problem: built.problem, placement: placeAll(built.problem, () => 1), excluded: built.excluded, settings, churn: newChurnState(), holdRule: true };
    expect(() => plan(input)).to.throw(/no distance from node 0 to node 1/);
  });
});
