/** Small hand-checked instances whose optimum is known (worked out in the comments). */
import { expect } from 'chai';
import { parseCpuSet } from '../../src/core/cpuset.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { solveInProcess } from '../../solver/solve.js';
import type { Placement, Problem, ProblemVm } from '../../solver/types.js';
import { verify } from '../../solver/verify.js';

const vm = (name: string, load: number[], memoryMiB: number, extra: Partial<ProblemVm> = {}): ProblemVm => ({ name, vcpus: load.length, load, memoryMiB, ...extra });

function run(problem: Problem): Placement {
  const p = solveInProcess(problem, { timeLimitMs: 2000 });
  if (p.status !== 'infeasible') expect(verify(problem, p), 'verify').to.deep.equal([]);
  return p;
}
const byName = (p: Placement, name: string) => p.vms.find((v) => v.name === name)!;
const nodesOf = (p: Placement, name: string) => byName(p, name).vcpus.map((v) => v.node);

describe('solver: hand-checked instances', () => {
  it('uses a memory-only node for memory that does not fit next to the vCPUs, never for vCPUs', () => {
    // 2x8-cxl: node 0 has 4 GiB free, node 1 none, CXL node 2 (distance 24 from 0, 30 from 1) plenty.
    // VM: 4 vCPUs at 1.0, 8 GiB. Best: vCPUs on 0, 4 GiB on 0 + 4 GiB on 2: 4 x (0.5x10 + 0.5x24) = 68.
    const topo = syntheticTopology('2x8-cxl');
    topo.nodes[0].freeMemoryMiB = 4096;
    topo.nodes[1].freeMemoryMiB = 0;
    const problem: Problem = { topology: topo, vms: [vm('big', [1, 1, 1, 1], 8192)] };
    const p = run(problem);
    expect(nodesOf(p, 'big')).to.deep.equal([0, 0, 0, 0]);
    expect(byName(p, 'big').memory.MiB).to.deep.equal({ 0: 4096, 2: 4096 });
    expect(byName(p, 'big').memory.nodeset).to.equal('0,2');
    expect(p.cost).to.be.closeTo(68, 1e-9);
  });

  it('keeps reserved CPUs out of every cpuset and counts only unreserved CPUs as capacity', () => {
    // 2x8, reserved 0-5 and 8: node 0 keeps CPUs 6-7 (capacity 2), node 1 keeps 9-15 (7).
    // a (7 x 0.9 = 6.3) only fits node 1; b (2 x 0.9) then only fits node 0. All local: 10 x 8.1 = 81.
    const problem: Problem = {
      topology: syntheticTopology('2x8'),
      reservedCpus: '0-5,8',
      vms: [vm('a', new Array(7).fill(0.9), 4096), vm('b', [0.9, 0.9], 2048)],
    };
    const p = run(problem);
    expect(nodesOf(p, 'a')).to.deep.equal(new Array(7).fill(1));
    expect(nodesOf(p, 'b')).to.deep.equal([0, 0]);
    expect(byName(p, 'a').vcpus.map((v) => v.cpuset)).to.deep.equal(new Array(7).fill('9-15'));
    expect(byName(p, 'b').emulator.cpuset).to.equal('6-7');
    expect(p.cost).to.be.closeTo(81, 1e-9);
    expect(p.status).to.equal('optimal');
  });

  it('splits a VM too large for one node over the nearest nodes, memory where most vCPUs are', () => {
    // 2x8: 12 vCPUs at 1.0 cannot fit 8 CPUs. With s = share of memory on node 0 and 8 vCPUs there,
    // cost = 8(21 - 11s) + 4(10 + 11s) = 208 - 44s, lowest at s = 1: 164.
    const problem: Problem = { topology: syntheticTopology('2x8'), vms: [vm('huge', new Array(12).fill(1), 16384)] };
    const p = run(problem);
    const nodes = nodesOf(p, 'huge');
    expect(nodes.filter((n) => n === 0).length === 8 || nodes.filter((n) => n === 1).length === 8).to.equal(true);
    expect(Object.values(byName(p, 'huge').memory.MiB)).to.deep.equal([16384]);
    expect(p.cost).to.be.closeTo(164, 1e-9);
  });

  it('places a guest-NUMA VM cell by cell, each cell whole on one node', () => {
    // 2 cells of 6 vCPUs at 1.0 (12 > 8 per node): one cell per node, each vCPU half local: 12 x 15.5 = 186.
    const load = new Array(12).fill(1);
    const cells = [{ id: 0, vcpus: [0, 1, 2, 3, 4, 5], memoryMiB: 4096 }, { id: 1, vcpus: [6, 7, 8, 9, 10, 11], memoryMiB: 4096 }];
    const problem: Problem = { topology: syntheticTopology('2x8'), vms: [vm('numa', load, 8192, { cells })] };
    const p = run(problem);
    const placed = byName(p, 'numa');
    expect(placed.cells).to.have.length(2);
    expect(placed.cells![0].node).to.not.equal(placed.cells![1].node);
    for (const c of placed.cells!) {
      const cell = cells.find((x) => x.id === c.id)!;
      expect(cell.vcpus.map((i) => placed.vcpus[i].node)).to.deep.equal(new Array(6).fill(c.node));
      expect(placed.memory.MiB[String(c.node)]).to.equal(4096);
    }
    expect(p.cost).to.be.closeTo(186, 1e-9);
  });

  it('gives a dedicated VM whole cores (siblings together) that no other VM shares', () => {
    // 8x16: 8 cores x 2 threads per node. 3 dedicated vCPUs take 2 whole cores (4 CPUs).
    const topo = syntheticTopology('8x16');
    const problem: Problem = {
      topology: topo,
      vms: [vm('ded', [0.5, 0.5, 0.5], 4096, { dedicated: true }), vm('shared', [0.2, 0.2], 2048, { current: { vcpuNodes: [0, 0], memoryMiB: { 0: 2048 } } })],
    };
    const p = run(problem);
    const ded = byName(p, 'ded');
    const cpus = ded.vcpus.map((v) => parseCpuSet(v.cpuset));
    expect(cpus.every((c) => c.length === 1)).to.equal(true);
    const sib = new Map(topo.cpus.map((c) => [c.id, c.siblings]));
    expect(sib.get(cpus[0][0])).to.include(cpus[1][0]); // vCPUs 0 and 1 share a core
    const owned = new Set(cpus.flatMap((c) => sib.get(c[0])!));
    expect(owned.size).to.equal(4);
    const shared = byName(p, 'shared');
    for (const v of shared.vcpus) for (const c of parseCpuSet(v.cpuset)) expect(owned.has(c)).to.equal(false);
    expect(p.cost).to.be.closeTo(10 * 1.9, 1e-9);
  });

  it('leaves a fixed VM exactly where it is and places the others around it', () => {
    // fixed VM sits remote (vCPUs on 0, memory on 1) and fills node 0's CPUs: the other VM must go to node 1.
    const problem: Problem = {
      topology: syntheticTopology('2x8'),
      vms: [
        vm('pinned', new Array(8).fill(0.9), 4096, { fixed: true, current: { vcpuNodes: new Array(8).fill(0), memoryMiB: { 1: 4096 } } }),
        vm('free', [1, 1], 2048),
      ],
    };
    const p = run(problem);
    expect(nodesOf(p, 'pinned')).to.deep.equal(new Array(8).fill(0));
    expect(byName(p, 'pinned').memory.MiB).to.deep.equal({ 1: 4096 });
    expect(nodesOf(p, 'free')).to.deep.equal([1, 1]);
    expect(p.cost).to.be.closeTo(8 * 0.9 * 21 + 2 * 10, 1e-9);
  });

  it('reports memory that fits nowhere as infeasible with the reason, not an exception', () => {
    const problem: Problem = { topology: syntheticTopology('2x8'), vms: [vm('whale', [0.5], 200 * 1024)] };
    const p = run(problem);
    expect(p.status).to.equal('infeasible');
    expect(p.vms).to.deep.equal([]);
    expect(p.reason).to.match(/whale.*204800 MiB/);
  });

  it('moves nothing when the current placement is already optimal', () => {
    const problem: Problem = {
      topology: syntheticTopology('4x16'),
      vms: [0, 1, 2, 3, 0, 1].map((n, i) => vm(`v${i}`, [0.8, 0.7, 0.6], 4096, { current: { vcpuNodes: [n, n, n], memoryMiB: { [n]: 4096 } } })),
    };
    const p = run(problem);
    expect(p.moves).to.deep.equal({ vcpus: 0, memoryMiB: 0 });
    p.vms.forEach((v, i) => expect(v.vcpus.map((x) => x.node)).to.deep.equal(problem.vms[i].current!.vcpuNodes));
    expect(p.status).to.equal('optimal');
  });

  it('pays to move memory only when the gain outweighs the move cost', () => {
    // vCPUs on 0 (load 0.1), memory on 1: remote costs 0.1 x 11 = 1.1; moving 16 GiB x 21 x 0.05 = 16.8, or
    // moving 1 vCPU (0.5) to node 1 makes it local: 0.5 + 1.0 = 1.5 < 2.1. So the vCPU moves, memory stays.
    const problem: Problem = {
      topology: syntheticTopology('2x8'),
      vms: [vm('lazy', [0.1], 16384, { current: { vcpuNodes: [0], memoryMiB: { 1: 16384 } } })],
    };
    const p = run(problem);
    expect(nodesOf(p, 'lazy')).to.deep.equal([1]);
    expect(p.moves).to.deep.equal({ vcpus: 1, memoryMiB: 0 });
    expect(p.objective).to.be.closeTo(1.5, 1e-9);
  });
});
