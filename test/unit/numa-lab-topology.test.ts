import { expect } from 'chai';
import { loadTopologies, qemuTopologyArgs, nodeCpus, validateTopology } from '../lab/numa-lab.js';
import { domainXml } from '../lab/lab-host.js';

describe('NUMA lab topologies (data -> QEMU arguments)', () => {
  it('every topology in scripts/numa-lab/topologies.json is valid, including the three the issue names', () => {
    const all = loadTopologies();
    for (const t of Object.values(all)) validateTopology(t);
    expect(all['four-node'].nodes.map((n) => n.cpus)).to.deep.equal([2, 2, 2, 2]);
    expect(all['four-node'].distances[0]).to.deep.equal([10, 16, 32, 32]);
    expect(all['memory-only'].nodes.some((n) => n.cpus === 0)).to.equal(true);
    expect(new Set(all.asymmetric.nodes.map((n) => n.memMiB)).size).to.be.greaterThan(1);
  });

  it('a node without CPUs becomes a memory-only -numa node; distances become -numa dist pairs', () => {
    const t = loadTopologies()['memory-only'];
    const a = qemuTopologyArgs(t);
    expect(nodeCpus(t)).to.deep.equal([[0, 1, 2], [3], []]);
    expect(a).to.include('node,nodeid=0,cpus=0-2,memdev=m0');
    expect(a).to.include('node,nodeid=2,memdev=m2');
    expect(a).to.include('dist,src=1,dst=2,val=20');
    expect(a.filter((x) => x.startsWith('dist,'))).to.have.length(6);
    expect(a[a.indexOf('-smp') + 1]).to.equal('4,sockets=4,cores=1,threads=1');
    expect(a[a.indexOf('-m') + 1]).to.equal(`${640 + 384 + 1024}M`);
  });

  it('rejects a bad matrix or a host without CPUs', () => {
    expect(() => validateTopology({ nodes: [{ cpus: 0, memMiB: 512 }], distances: [[10]] })).to.throw(/no node has CPUs/);
    expect(() => validateTopology({ nodes: [{ cpus: 1, memMiB: 512 }, { cpus: 1, memMiB: 512 }], distances: [[10, 20], [20]] })).to.throw(/2x2/);
    expect(() => validateTopology({ nodes: [{ cpus: 1, memMiB: 512 }, { cpus: 1, memMiB: 512 }], distances: [[10, 5], [5, 10]] })).to.throw(/distances\[0\]\[1\]/);
  });

  it('lab VMs: restrictive numatune, preallocated RAM, a memnode per guest cell', () => {
    const x = domainXml({ name: 'v', vcpus: 2, memMiB: 160, nodeset: '0', cpuset: '0-1', cells: [{ cpus: '0', memMiB: 64, nodeset: '0' }, { cpus: '1', memMiB: 96, nodeset: '0' }] });
    expect(x).to.contain("<memory mode='restrictive' nodeset='0'/>");
    expect(x).to.contain("<allocation mode='immediate'/>");
    expect(x).to.contain("<memnode cellid='1' mode='restrictive' nodeset='0'/>");
    expect(x).to.contain("<cell id='1' cpus='1' memory='96' unit='MiB'/>");
  });
});
