import { expect } from 'chai';
import { formatCpuSet } from '../../src/core/cpuset.js';
import { SYNTHETIC_TOPOLOGY_NAMES, syntheticTopology } from '../../src/topology/synthetic.js';

describe('synthetic topologies', () => {
  it('includes the hosts the benchmarks need', () => {
    expect(SYNTHETIC_TOPOLOGY_NAMES).to.include.members(['2x8', '4x16', '8x16', '16x16', '2x8-cxl']);
  });
  it('4x16 carries the seed distance matrix', () => {
    const t = syntheticTopology('4x16');
    expect(t.nodes.map((n) => Object.values(n.distances))).to.deep.equal([[10, 15, 20, 20], [15, 10, 20, 20], [20, 20, 10, 15], [20, 20, 15, 10]]);
    expect(t.nodes.map((n) => formatCpuSet(n.cpus))).to.deep.equal(['0-15', '16-31', '32-47', '48-63']);
  });
  it('8x16 numbers SMT siblings like Linux (0,64)', () => {
    const t = syntheticTopology('8x16');
    expect(t.cpus).to.have.length(128);
    expect(t.cpus[0].siblings).to.deep.equal([0, 64]);
    expect(formatCpuSet(t.nodes[1].cpus)).to.equal('8-15,72-79');
    expect(t.nodes[0].distances['3']).to.equal(12);
    expect(t.nodes[0].distances['4']).to.equal(32);
  });
  it('2x8-cxl has a memory-only node', () => {
    const t = syntheticTopology('2x8-cxl');
    expect(t.nodes[2].cpus).to.deep.equal([]);
    expect(t.nodes[2].memoryMiB).to.equal(131072);
  });
  it('rejects an unknown name listing the known ones', () => {
    expect(() => syntheticTopology('3x3')).to.throw(/unknown synthetic topology "3x3"; known: 2x8/);
  });
});
