/** verify(): each promise of a placement, broken one at a time on a valid placement. */
import { expect } from 'chai';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { solveInProcess } from '../../solver/solve.js';
import type { Placement, Problem } from '../../solver/types.js';
import { verify } from '../../solver/verify.js';

const problem: Problem = {
  topology: syntheticTopology('8x16'),
  reservedCpus: '0,64',
  vms: [
    { name: 'a', vcpus: 2, load: [0.5, 0.5], memoryMiB: 2048, current: { vcpuNodes: [0, 0], memoryMiB: { 0: 2048 } } },
    { name: 'b', vcpus: 2, load: [0.5, 0.5], memoryMiB: 2048, dedicated: true },
    { name: 'c', vcpus: 2, load: [0.3, 0.3], memoryMiB: 1024, cells: [{ id: 0, vcpus: [0], memoryMiB: 512 }, { id: 1, vcpus: [1], memoryMiB: 512 }] },
    { name: 'f', vcpus: 1, load: [0.2], memoryMiB: 1024, fixed: true, current: { vcpuNodes: [2], memoryMiB: { 3: 1024 } } },
  ],
};

const clone = (p: Placement): Placement => JSON.parse(JSON.stringify(p));
const vmOf = (p: Placement, n: string) => p.vms.find((v) => v.name === n)!;

describe('verify', () => {
  const good = solveInProcess(problem, { timeLimitMs: 2000 });
  it('accepts the solver\'s placement', () => expect(verify(problem, good)).to.deep.equal([]));

  const cases: [string, (p: Placement) => void, RegExp][] = [
    ['a reserved CPU in a vCPU cpuset', (p) => (vmOf(p, 'a').vcpus[0].cpuset = '0-7'), /reserved CPU 0/],
    ['a CPU that does not exist', (p) => (vmOf(p, 'a').vcpus[0].cpuset = '999'), /999.*offline or does not exist/],
    ['a cpuset on another node than the vCPU', (p) => (vmOf(p, 'a').vcpus[0].cpuset = String(problem.topology.nodes[5].cpus[1])), /of node 5/],
    ['a vCPU left out', (p) => vmOf(p, 'a').vcpus.pop(), /vCPU 1 is placed 0 times/],
    ['a VM left out', (p) => p.vms.splice(0, 1), /VM a is not placed/],
    ['memory that does not add up', (p) => (vmOf(p, 'a').memory.MiB = { 0: 100 }), /places 100 MiB/],
    ['a nodeset that is not where the memory is', (p) => (vmOf(p, 'a').memory.nodeset = '7'), /nodeset/],
    ['a fixed VM that moved', (p) => (vmOf(p, 'f').vcpus[0] = { vcpu: 0, node: 1, cpuset: '8-15' }), /fixed but its vCPUs moved/],
    ['a split guest cell', (p) => {
      const c = vmOf(p, 'c');
      const other = c.vcpus[0].node === 0 ? 1 : 0;
      c.vcpus[1] = { vcpu: 1, node: other, cpuset: other === 0 ? '1-7,65-71' : '8-15,72-79' };
      c.cells = [{ id: 0, node: c.vcpus[0].node }, { id: 1, node: c.vcpus[0].node }];
    }, /cell 1 is said to be on node/],
    ['a dedicated core shared with another VM', (p) => {
      const cpu = vmOf(p, 'b').vcpus[0];
      vmOf(p, 'a').vcpus[0] = { vcpu: 0, node: cpu.node, cpuset: cpu.cpuset };
    }, /belongs to dedicated VM b/],
  ];
  for (const [what, breakIt, expected] of cases) {
    it(`reports ${what}`, () => {
      const p = clone(good);
      breakIt(p);
      expect(verify(problem, p).join('\n')).to.match(expected);
    });
  }

  it('reports CPU load beyond a node\'s capacity and memory beyond its free memory', () => {
    const tight: Problem = JSON.parse(JSON.stringify(problem));
    tight.topology.nodes[0].freeMemoryMiB = 1000;
    const p = clone(good);
    const a = vmOf(p, 'a');
    a.memory = { nodeset: '0', MiB: { 0: 2048 } };
    tight.vms[0].current = undefined;
    tight.vms[0].load = [1, 1];
    tight.vms[0].vcpus = 2;
    tight.options = { cpuOvercommit: 0.1 };
    a.vcpus.forEach((x) => { x.node = 0; x.cpuset = '1-7,65-71'; });
    const v = verify(tight, p).join('\n');
    expect(v).to.match(/node 0: vCPU load .* exceeds/);
    expect(v).to.match(/node 0: \d+ MiB of memory placed .* only 1000 MiB free/);
  });
});
