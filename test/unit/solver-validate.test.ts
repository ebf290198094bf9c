/** validateProblem: every field checked, errors name the field by path. */
import { expect } from 'chai';
import { ProblemError, validateProblem } from '../../solver/validate-problem.js';

const topology = { nodes: [
  { id: 0, cpus: [0, 1, 2, 3], memoryMiB: 8192, freeMemoryMiB: 6000, distances: { 0: 10, 1: 21 } },
  { id: 1, cpus: [4, 5, 6, 7], memoryMiB: 8192, freeMemoryMiB: 6000, distances: { 0: 21, 1: 10 } },
] };
const good = () => ({
  topology: JSON.parse(JSON.stringify(topology)),
  reservedCpus: '0',
  vms: [
    { name: 'web1', vcpus: 2, load: [0.9, 0.1], memoryMiB: 2048, current: { vcpuNodes: [0, 1], memoryMiB: { 0: 2048 } } },
    { name: 'db', vcpus: 2, load: [0.5, 0.5], memoryMiB: 1024, cells: [{ id: 0, vcpus: [0], memoryMiB: 512 }, { id: 1, vcpus: [1], memoryMiB: 512 }] },
  ],
  options: { cpuOvercommit: 1.5, timeLimitMs: 500, housekeepingCpus: '0' },
});

describe('validateProblem', () => {
  it('accepts the contract example shape and fills per-CPU records', () => {
    const p = validateProblem(good());
    expect(p.topology.cpus).to.have.length(8);
    expect(p.topology.warnings).to.deep.equal([]);
    expect(p.vms[1].cells).to.have.length(2);
  });

  const cases: [string, (p: any) => void, string][] = [
    ['load entry above 1', (p) => (p.vms[0].load[1] = 1.5), 'vms[0].load[1]'],
    ['load length', (p) => p.vms[0].load.pop(), 'vms[0].load'],
    ['vcpus not an integer', (p) => (p.vms[1].vcpus = 1.5), 'vms[1].vcpus'],
    ['missing name', (p) => delete p.vms[0].name, 'vms[0].name'],
    ['duplicate name', (p) => (p.vms[1].name = 'web1'), 'vms[1].name'],
    ['negative memory', (p) => (p.vms[0].memoryMiB = -1), 'vms[0].memoryMiB'],
    ['unknown VM field', (p) => (p.vms[0].pinned = true), 'vms[0].pinned'],
    ['current on a missing node', (p) => (p.vms[0].current.vcpuNodes[1] = 7), 'vms[0].current.vcpuNodes[1]'],
    ['current memory on a missing node', (p) => (p.vms[0].current.memoryMiB = { 9: 1 }), 'vms[0].current.memoryMiB.9'],
    ['fixed without current', (p) => (p.vms[1].fixed = true), 'vms[1].fixed'],
    ['dedicated not boolean', (p) => (p.vms[0].dedicated = 'yes'), 'vms[0].dedicated'],
    ['cell vCPU out of range', (p) => (p.vms[1].cells[1].vcpus = [5]), 'vms[1].cells[1].vcpus[0]'],
    ['cells not covering every vCPU', (p) => (p.vms[1].cells[1].vcpus = [0]), 'vms[1].cells'],
    ['cells memory not adding up', (p) => (p.vms[1].cells[1].memoryMiB = 1), 'vms[1].cells'],
    ['bad reservedCpus', (p) => (p.reservedCpus = '3-1'), 'reservedCpus'],
    ['bad overcommit', (p) => (p.options.cpuOvercommit = 0), 'options.cpuOvercommit'],
    ['unknown option', (p) => (p.options.speed = 1), 'options.speed'],
    ['housekeeping CPU that does not exist', (p) => (p.options.housekeepingCpus = '99'), 'options.housekeepingCpus'],
    ['missing distance', (p) => delete p.topology.nodes[1].distances['0'], 'topology.nodes[1].distances'],
    ['free memory above memory', (p) => (p.topology.nodes[0].freeMemoryMiB = 9000), 'topology.nodes[0].freeMemoryMiB'],
    ['CPU in two nodes', (p) => (p.topology.nodes[1].cpus[0] = 0), 'topology'],
    ['vms not an array', (p) => (p.vms = {}), 'vms'],
    ['unknown top-level field', (p) => (p.extra = 1), 'problem.extra'],
  ];
  for (const [what, breakIt, path] of cases) {
    it(`names ${path} for ${what}`, () => {
      const p = good();
      breakIt(p);
      expect(() => validateProblem(p)).to.throw(ProblemError).that.satisfies((e: ProblemError) => e.path === path && e.message.startsWith(`${path}: `));
    });
  }
});
