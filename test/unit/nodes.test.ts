import { expect } from 'chai';
import { addNodeLoad, cpuNodeMap, mostCommonNode, nodeLoads, onlineCpuNodes, reservedCpuSet, usableCpusOf } from '../../src/core/nodes.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';

describe('node facts shared by the daemon and the solver (src/core/nodes.ts)', () => {
  it('most common node: the most frequent, the lowest id on a tie, null for none', () => {
    expect(mostCommonNode([2, 1, 2, 1, 3])).to.equal(1);
    expect(mostCommonNode([3, 2, 3])).to.equal(3);
    expect(mostCommonNode([])).to.equal(null);
  });

  it('CPU -> node: the online map is the nodes\' CPU lists (what the solver\'s verifier accepts); the full map adds offline CPUs by their record', () => {
    const topo = syntheticTopology('2x8');
    topo.nodes[1].cpus = topo.nodes[1].cpus.filter((c) => c !== 15);
    topo.cpus = topo.cpus.map((c) => (c.id === 15 ? { ...c, online: false } : c));
    expect(onlineCpuNodes(topo).has(15)).to.equal(false);
    expect(cpuNodeMap(topo).get(15)).to.equal(1);
    expect(onlineCpuNodes(topo).get(14)).to.equal(1);
  });

  it('reserved and usable CPUs: "" or absent reserves nothing; usable is the node\'s CPUs minus the reserved', () => {
    expect([...reservedCpuSet(undefined)]).to.deep.equal([]);
    expect([...reservedCpuSet('')]).to.deep.equal([]);
    const reserved = reservedCpuSet('0,2-3');
    expect(usableCpusOf({ cpus: [0, 1, 2, 3, 4] }, reserved)).to.deep.equal([1, 4]);
  });

  it('node load from where VMs are now: unplaced VMs count nowhere; a move takes load off one node and puts it on another', () => {
    const load = nodeLoads([
      { load: [0.5, 0.25], current: { vcpuNodes: [0, 1] } },
      { load: [1], current: { vcpuNodes: [1] } },
      { load: [0.9] },
    ]);
    expect([...load].sort()).to.deep.equal([[0, 0.5], [1, 1.25]]);
    addNodeLoad(load, [1], [1], -1);
    addNodeLoad(load, [0], [1]);
    expect([...load].sort()).to.deep.equal([[0, 1.5], [1, 0.25]]);
  });
});
