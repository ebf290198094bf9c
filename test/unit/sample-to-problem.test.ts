import { expect } from 'chai';
import { globMatch, newLoadTracker, sampleToProblem, trackLoads } from '../../src/daemon/sample-to-problem.js';
import { vcpuNodes as currentVcpuNodes, vmMemoryByNode as currentMemory } from '../../src/core/host-view.js';
import { cpuNodeMap } from '../../src/core/nodes.js';
import { desiredShares, shareWeight } from '../../src/core/shares.js';
import { DEFAULT_SETTINGS, withSettings, type Settings } from '../../src/daemon/settings.js';
import type { HostSample } from '../../src/core/sample.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { hostSample, viewOf, vmSample } from '../helpers/fake-host.js';

const topo = syntheticTopology('2x8');
const S = 1e9; // ns per second

describe('sample-to-problem', () => {
  describe('loads', () => {
    it('is the busy-time delta over elapsed time, per vCPU, clamped to 0..1', () => {
      let t = newLoadTracker();
      const a = hostSample(topo, [vmSample({ name: 'a', vcpuTimeNs: [0, 0] })], 0);
      const b = hostSample(topo, [vmSample({ name: 'a', vcpuTimeNs: [0.5 * S, 3 * S] })], 1000);
      let r = trackLoads(t, a, 6);
      expect(r.loads.has('a')).to.equal(false); // one sample: no load yet
      r = trackLoads(r.state, b, 6);
      expect(r.loads.get('a')).to.deep.equal([0.5, 1]);
    });
    it('averages over load.windowCycles cycles and forgets older ones', () => {
      let st = newLoadTracker();
      const times = [0, 1, 1, 1, 2]; // cumulative seconds: loads 1, 0, 0, 1
      let loads: number[] | undefined;
      const last: (number[] | undefined)[] = [];
      times.forEach((sec, i) => {
        const r = trackLoads(st, hostSample(topo, [vmSample({ name: 'a', vcpusCurrent: 1, vcpuTimeNs: [sec * S] })], i * 1000), 2);
        st = r.state;
        loads = r.loads.get('a');
        last.push(r.last.get('a'));
      });
      expect(loads).to.deep.equal([0.5]); // last two cycles: 0 and 1
      // `last` is each cycle's own load, unsmoothed (what hot-plug counts saturated cycles on).
      expect(last).to.deep.equal([undefined, [1], [0], [0], [1]]);
    });
    it('starts over for a VM re-created under the same name (new uuid)', () => {
      let r = trackLoads(newLoadTracker(), hostSample(topo, [vmSample({ name: 'a', vcpuTimeNs: [5 * S, 5 * S] })], 0), 6);
      r = trackLoads(r.state, hostSample(topo, [vmSample({ name: 'a', uuid: 'other', vcpuTimeNs: [0, 0] })], 1000), 6);
      expect(r.loads.has('a')).to.equal(false);
    });
    it('treats an offline vCPU or a counter going backwards as idle', () => {
      let r = trackLoads(newLoadTracker(), hostSample(topo, [vmSample({ name: 'a', vcpuTimeNs: [5 * S, null] })], 0), 6);
      r = trackLoads(r.state, hostSample(topo, [vmSample({ name: 'a', vcpuTimeNs: [1 * S, 1 * S] })], 1000), 6);
      expect(r.loads.get('a')).to.deep.equal([0, 0]);
    });
  });

  describe('current placement', () => {
    const cpuNode = cpuNodeMap(topo);
    it('takes a pin within one node, else the node of the CPU last run on', () => {
      const vm = vmSample({ name: 'a', vcpusCurrent: 3, vcpuPins: ['8-15', '0-15', null], vcpuLastCpu: [1, 2, 9] });
      expect(currentVcpuNodes(vm, cpuNode)).to.deep.equal([1, 0, 1]);
    });
    it('puts a vCPU free to run on several nodes on the allowed node with most of its memory (pinning it there is no move)', () => {
      // Without this the last CPU (a random one for an unpinned vCPU) made its "current" node, and the
      // solver's vCPU move cost kept such vCPUs pinned on random nodes, away from their memory.
      const vm = vmSample({ name: 'a', vcpusCurrent: 3, vcpuPins: ['8-15', '0-15', null], vcpuLastCpu: [1, 2, 3], memoryByNode: { '0': 100, '1': 924 } });
      expect(currentVcpuNodes(vm, cpuNode)).to.deep.equal([1, 1, 1]);
      const pinnedAway = vmSample({ name: 'b', vcpusCurrent: 1, vcpuPins: ['0-3,5'], vcpuLastCpu: [2], memoryByNode: { '0': 100, '1': 924 } });
      expect(currentVcpuNodes(pinnedAway, cpuNode)).to.deep.equal([0]);
    });
    it('memory: memoryByNode first', () => {
      const vm = vmSample({ name: 'a', memoryByNode: { '0': 100, '1': 924 }, numatune: { mode: 'strict', nodeset: '1' } });
      expect(currentMemory(vm, topo, [0, 0])).to.deep.equal({ '0': 100, '1': 924 });
    });
    it('memory: else the numatune nodeset split evenly', () => {
      const vm = vmSample({ name: 'a', numatune: { mode: 'strict', nodeset: '0-1' } });
      expect(currentMemory(vm, topo, [0, 0])).to.deep.equal({ '0': 512, '1': 512 });
    });
    it('memory: per guest cell from memnodes', () => {
      const vm = vmSample({
        name: 'a',
        guestCells: [
          { id: 0, cpus: [0], memoryMiB: 256 },
          { id: 1, cpus: [1], memoryMiB: 768 },
        ],
        memnodes: [
          { cellid: 0, mode: 'strict', nodeset: '0' },
          { cellid: 1, mode: 'strict', nodeset: '1' },
        ],
      });
      expect(currentMemory(vm, topo, null)).to.deep.equal({ '0': 256, '1': 768 });
    });
    it('memory: unknown -> spread like the vCPUs', () => {
      const vm = vmSample({ name: 'a', vcpusCurrent: 4, numatune: null });
      expect(currentMemory(vm, topo, [0, 0, 0, 1])).to.deep.equal({ '0': 768, '1': 256 });
    });
  });

  describe('policy', () => {
    it('globs match whole names with * and ?', () => {
      expect(globMatch('db-*', 'db-1')).to.equal(true);
      expect(globMatch('db-?', 'db-12')).to.equal(false);
      expect(globMatch('a.b', 'axb')).to.equal(false);
    });
    it('share weight: config weights > metadata weight > class > 1, clamped 2..262144', () => {
      const s = withSettings({ shares: { weights: { w: 3 } } });
      expect(shareWeight(vmSample({ name: 'w', metadata: { weight: '5', class: 'gold' } }), s)).to.equal(3);
      expect(shareWeight(vmSample({ name: 'x', metadata: { weight: '5', class: 'gold' } }), s)).to.equal(5);
      expect(shareWeight(vmSample({ name: 'x', metadata: { class: 'bronze' } }), s)).to.equal(0.5);
      expect(shareWeight(vmSample({ name: 'x', metadata: { class: 'unknown' } }), s)).to.equal(1);
      expect(desiredShares(vmSample({ name: 'x', vcpusCurrent: 4, metadata: { class: 'gold' } }), s)).to.equal(8192);
      expect(desiredShares(vmSample({ name: 'x', vcpusCurrent: 512, metadata: { weight: '2' } }), s)).to.equal(262144);
      expect(desiredShares(vmSample({ name: 'x', vcpusCurrent: 1, metadata: { weight: '0.0001' } }), s)).to.equal(2);
    });
  });

  describe('sampleToProblem', () => {
    const problemOf = (sample: HostSample, loads: ReadonlyMap<string, number[]>, settings: Settings) => sampleToProblem(viewOf(sample, settings), sample, loads, settings);
    const vms = [
      vmSample({ name: 'web', vcpusCurrent: 2, vcpuPins: ['0-7', '0-7'], numatune: { mode: 'restrictive', nodeset: '0' } }),
      vmSample({ name: 'db-1', vcpusCurrent: 1, vcpuPins: ['9'], numatune: { mode: 'strict', nodeset: '1' } }),
      vmSample({ name: 'tagged', vcpusCurrent: 1, vcpuPins: ['10'], metadata: { exclude: 'true' } }),
      vmSample({ name: 'off', running: false, state: 'shut off' }),
      vmSample({ name: 'cells', vcpusCurrent: 2, vcpuPins: ['1', '9'], guestCells: [{ id: 0, cpus: [0, 2], memoryMiB: 512 }, { id: 1, cpus: [1, 3], memoryMiB: 512 }] }),
    ];
    const loads = new Map([['web', [0.5, 0.25]], ['db-1', [1]]]);
    const s = withSettings({ exclude: { names: ['db-*'] }, reservedCpus: '0,8', cpuOvercommit: 1.5 });
    const { problem, excluded } = problemOf(hostSample(topo, vms), loads, s);
    it('places only running VMs, with their loads (idle when none yet)', () => {
      expect(problem.vms.map((v) => v.name)).to.deep.equal(['web', 'db-1', 'tagged', 'cells']);
      expect(problem.vms[0].load).to.deep.equal([0.5, 0.25]);
      expect(problem.vms[2].load).to.deep.equal([0]);
    });
    it('marks excluded VMs fixed (glob and metadata), with their current place', () => {
      expect([...excluded.keys()]).to.deep.equal(['db-1', 'tagged']);
      expect(problem.vms[1]).to.include({ fixed: true });
      expect(problem.vms[1].current).to.deep.equal({ vcpuNodes: [1], memoryMiB: { '1': 1024 } });
      expect(problem.vms[0].fixed).to.equal(undefined);
    });
    it('leaves a VM with a running libvirt job alone (fixed, listed as busy with the job named)', () => {
      const withJob = [vmSample({ name: 'mig', vcpusCurrent: 1, vcpuPins: ['9'], job: 'Unbounded' }), vmSample({ name: 'calm', vcpusCurrent: 1, job: 'None' })];
      const r = problemOf(hostSample(topo, withJob), new Map(), withSettings({}));
      expect([...r.excluded.keys()]).to.deep.equal([]);
      expect(r.problem.vms.find((v) => v.name === 'mig')).to.include({ fixed: true });
      expect(r.problem.vms.find((v) => v.name === 'calm')!.fixed).to.equal(undefined);
      expect(r.busy).to.have.length(1);
      expect(r.busy[0].vm).to.equal('mig');
      expect(r.busy[0].reason).to.match(/libvirt job \(Unbounded\) is running/);
      expect(problemOf(hostSample(topo, vms), loads, s).busy).to.deep.equal([]);
    });
    it('ignores metadata exclusion when exclude.metadata is false', () => {
      const r = problemOf(hostSample(topo, vms), loads, withSettings({ exclude: { metadata: false } }));
      expect([...r.excluded.keys()]).to.deep.equal([]);
    });
    it('carries guest cells (only online vCPUs), reserved CPUs and options', () => {
      expect(problem.vms[3].cells).to.deep.equal([{ id: 0, vcpus: [0], memoryMiB: 512 }, { id: 1, vcpus: [1], memoryMiB: 512 }]);
      expect(problem.reservedCpus).to.equal('0,8');
      // The memory move cost as configured, and the cooldown it is spread over (6 cycles by default:
      // paid once, earned that long); the solver does the division, for the daemon and `solve` alike.
      expect(problem.options).to.deep.include({ cpuOvercommit: 1.5, timeLimitMs: DEFAULT_SETTINGS.solver.timeLimitMs, vcpuMoveCost: 0.5, memoryMoveCostPerGiB: 0.05, memoryMovePaybackCycles: 6 });
      const once = problemOf(hostSample(topo, vms), loads, withSettings({ churn: { cooldownCycles: 0 } })).problem;
      expect(once.options).to.deep.include({ memoryMoveCostPerGiB: 0.05, memoryMovePaybackCycles: 1 });
    });
  });
});
