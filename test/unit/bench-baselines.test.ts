import { expect } from 'chai';
import type { HostSample, VmSample } from '../../src/host/backend.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { numadScan, pickNodes } from '../../benchmarks/policies/numad.js';
import { LoadTracker, type ObservedHost, type VmView } from '../../benchmarks/policies/observe.js';
import { vmSample } from '../helpers/fake-host.js';
import { pickCell } from '../../benchmarks/policies/static-pinning.js';

function vmView(name: string, cpus: number, memoryByNode: Record<string, number>, vcpus = 4): VmView {
  const vm = { name, vcpusCurrent: vcpus, vcpusMax: vcpus, memoryMiB: Object.values(memoryByNode).reduce((a, b) => a + b, 0) } as VmSample;
  return { vm, load: Array(vcpus).fill(cpus / vcpus), cpus, vcpuNodes: Array(vcpus).fill(0), memoryByNode, pinnedNodes: null };
}

function observed(vms: VmView[], used: [number, number]): ObservedHost {
  const topology = syntheticTopology('2x8');
  const sample = { atMs: 0, topology, vms: vms.map((v) => v.vm) } as HostSample;
  return { sample, vms, nodeCpuUsed: new Map([[0, used[0]], [1, used[1]]]) };
}

describe('numad-style baseline', () => {
  it('moves a process off a busy node to the idle one', () => {
    const v = vmView('a', 2, { 0: 4096 });
    expect(pickNodes(observed([v], [7, 0]), v, undefined, 2 / 0.85, 4096 / 0.85)).to.deep.equal([1]);
  });

  it('keeps a process where its memory is when CPU is equally free', () => {
    const v = vmView('a', 2, { 1: 4096 });
    expect(pickNodes(observed([v], [2, 2]), v, undefined, 2 / 0.85, 4096 / 0.85)).to.deep.equal([1]);
  });

  it('binds at most one process per scan, the biggest first, then waits the minimum interval', () => {
    const small = vmView('small', 1, { 0: 2048 });
    const big = vmView('big', 3, { 0: 8192 });
    const d = numadScan(observed([small, big], [4, 0]), new Map(), 0);
    expect(d.bind?.vm).to.equal('big');
    expect(d.nextMs).to.equal(5_000);
  });

  it('ignores processes under its thresholds and then waits the maximum interval', () => {
    const idle = vmView('idle', 0.2, { 0: 8192 });
    const tiny = vmView('tiny', 2, { 0: 200 });
    expect(numadScan(observed([idle, tiny], [2, 0]), new Map(), 0)).to.deep.equal({ bind: null, nextMs: 15_000 });
  });

  it('does not re-evaluate a process bound less than 300 s ago', () => {
    const v = vmView('a', 2, { 0: 4096 });
    const bound = new Map([['a', { nodes: [0], atMs: 0 }]]);
    expect(numadScan(observed([v], [8, 0]), bound, 299_000).bind).to.equal(null);
    expect(numadScan(observed([v], [8, 0]), bound, 301_000).bind?.nodes).to.deep.equal([1]);
  });
});

describe('static pinning baseline', () => {
  const cells = () => [
    { id: 0, vcpuSlots: 32, memoryMiB: 32768, vcpusUsed: 8, memoryUsed: 0 },
    { id: 1, vcpuSlots: 32, memoryMiB: 32768, vcpusUsed: 4, memoryUsed: 30000 },
  ];
  it('picks the node with most free vCPU slots that fits', () => {
    expect(pickCell(cells(), 4, 2048)?.id).to.equal(1);
  });
  it('skips a node without room for the memory', () => {
    expect(pickCell(cells(), 4, 4096)?.id).to.equal(0);
  });
  it('returns null when no single node fits', () => {
    expect(pickCell(cells(), 30, 1024)).to.equal(null);
  });
});

describe('what a baseline observes (benchmarks/policies/observe.ts)', () => {
  it('places CPUs by the daemon\'s rule: a node\'s CPU list wins over a per-CPU record (here one that says "unknown", -1)', () => {
    const topology = syntheticTopology('2x8');
    topology.cpus = topology.cpus.map((c) => (c.id === 9 ? { ...c, node: -1 } : c));
    const pinned = (ns: number) => vmSample({ name: 'a', vcpuPins: ['9', '9'], vcpuLastCpu: [9, 9], vcpuTimeNs: [ns, ns] });
    const tracker = new LoadTracker();
    tracker.update({ atMs: 0, topology, vms: [pinned(0)] });
    const seen = tracker.update({ atMs: 1000, topology, vms: [pinned(5e8)] })!;
    expect(seen.vms[0].pinnedNodes).to.deep.equal([1]);
    expect(seen.vms[0].vcpuNodes).to.deep.equal([1, 1]);
    expect(seen.nodeCpuUsed.get(1)).to.be.closeTo(1, 1e-9);
  });
});
