/** Baselines the solver is measured against, on instances worked out by hand. */
import { expect } from 'chai';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { noPinningBaseline, numadBaseline } from '../../solver/baselines.js';
import type { Problem } from '../../solver/types.js';

describe('baselines', () => {
  it('numad-style puts the biggest VM whole on the freest node, the next one on the other', () => {
    const topo = syntheticTopology('2x8');
    topo.nodes[0].freeMemoryMiB = 8192; // node 1 is freer
    const problem: Problem = { topology: topo, vms: [{ name: 'small', vcpus: 1, load: [0.5], memoryMiB: 1024 }, { name: 'big', vcpus: 4, load: [1, 1, 1, 1], memoryMiB: 4096 }] };
    const r = numadBaseline(problem);
    expect(r.placed[1].vcpuNodes).to.deep.equal([1, 1, 1, 1]);
    expect(r.placed[1].memoryMiB).to.deep.equal({ 1: 4096 });
    expect(r.excess).to.be.closeTo(0, 1e-9);
    expect(r.overloadedNodes).to.equal(0);
  });
  it('no pinning spreads each vCPU over the nodes by CPU count, memory where it was first touched', () => {
    // 2x8: half of each vCPU's time on each node; memory on node 0: 0.5 x 10 + 0.5 x 21 = 15.5 per unit of load
    const problem: Problem = { topology: syntheticTopology('2x8'), vms: [{ name: 'a', vcpus: 2, load: [1, 1], memoryMiB: 2048, current: { vcpuNodes: [0, 0], memoryMiB: { 0: 2048 } } }] };
    const r = noPinningBaseline(problem);
    expect(r.quality).to.be.closeTo(2 * 15.5, 1e-9);
    expect(r.excess).to.be.closeTo(2 * 5.5, 1e-9);
  });
});
