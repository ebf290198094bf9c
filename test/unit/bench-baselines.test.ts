import { expect } from 'chai';
import type { HostSample, VmSample } from '../../src/host/backend.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { numadScan, pickNodes } from '../../benchmarks/policies/numad.js';
import type { HostView, VmView } from '../../benchmarks/policies/observe.js';
import { pickCell } from '../../benchmarks/policies/static-pinning.js';

function vmView(name: string, cpus: number, memoryByNode: Record<string, number>, vcpus = 4): VmView {
  const vm = { name, vcpusCurrent: vcpus, vcpusMax: vcpus, memoryMiB: Object.values(memoryByNode).reduce((a, b) => a + b, 0) } as VmSample;
  return { vm, load: Array(vcpus).fill(cpus / vcpus), cpus, vcpuNodes: Array(vcpus).fill(0), memoryByNode, pinnedNodes: null };
}

function hostView(vms: VmView[], used: [number, number]): HostView {
  const topology = syntheticTopology('2x8');
  const sample = { atMs: 0, topology, vms: vms.map((v) => v.vm) } as HostSample;
  return { sample, vms, nodeCpuUsed: new Map([[0, used[0]], [1, used[1]]]), nodeOfCpu: new Map(topology.cpus.map((c) => [c.id, c.node])) };
}

describe('numad-style baseline', () => {
  it('moves a process off a busy node to the idle one', () => {
    const v = vmView('a', 2, { 0: 4096 });
    expect(pickNodes(hostView([v], [7, 0]), v, undefined, 2 / 0.85, 4096 / 0.85)).to.deep.equal([1]);
  });

  it('keeps a process where its memory is when CPU is equally free', () => {
    const v = vmView('a', 2, { 1: 4096 });
    expect(pickNodes(hostView([v], [2, 2]), v, undefined, 2 / 0.85, 4096 / 0.85)).to.deep.equal([1]);
  });

  it('binds at most one process per scan, the biggest first, then waits the minimum interval', () => {
    const small = vmView('small', 1, { 0: 2048 });
    const big = vmView('big', 3, { 0: 8192 });
    const d = numadScan(hostView([small, big], [4, 0]), new Map(), 0);
    expect(d.bind?.vm).to.equal('big');
    expect(d.nextMs).to.equal(5_000);
  });

  it('ignores processes under its thresholds and then waits the maximum interval', () => {
    const idle = vmView('idle', 0.2, { 0: 8192 });
    const tiny = vmView('tiny', 2, { 0: 200 });
    expect(numadScan(hostView([idle, tiny], [2, 0]), new Map(), 0)).to.deep.equal({ bind: null, nextMs: 15_000 });
  });

  it('does not re-evaluate a process bound less than 300 s ago', () => {
    const v = vmView('a', 2, { 0: 4096 });
    const bound = new Map([['a', { nodes: [0], atMs: 0 }]]);
    expect(numadScan(hostView([v], [8, 0]), bound, 299_000).bind).to.equal(null);
    expect(numadScan(hostView([v], [8, 0]), bound, 301_000).bind?.nodes).to.deep.equal([1]);
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
