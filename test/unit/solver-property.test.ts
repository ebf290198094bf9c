/** Property: whatever the instance, solve() returns a placement that passes verify (or says infeasible, with a reason). */
import { expect } from 'chai';
import fc from 'fast-check';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { solve } from '../../solver/solve.js';
import type { Problem, ProblemVm } from '../../solver/types.js';
import { verify } from '../../solver/verify.js';

const vmArb = fc.record({
  vcpus: fc.integer({ min: 1, max: 6 }),
  loads: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 6, maxLength: 6 }),
  memGiB: fc.integer({ min: 0, max: 24 }),
  hasCurrent: fc.boolean(),
  curNode: fc.nat(),
  memNode: fc.nat(),
  kind: fc.constantFrom('plain', 'plain', 'plain', 'dedicated', 'cells', 'fixed'),
});

const problemArb = fc.record({
  topo: fc.constantFrom('2x8', '4x16', '8x16', '2x8-cxl'),
  vms: fc.array(vmArb, { minLength: 1, maxLength: 10 }),
  reserve: fc.boolean(),
  overcommit: fc.constantFrom(1, 1, 1.5),
}).map(({ topo, vms, reserve, overcommit }): Problem => {
  const topology = syntheticTopology(topo);
  const cpuNodes = topology.nodes.filter((n) => n.cpus.length > 0).map((n) => n.id);
  const ids = topology.nodes.map((n) => n.id);
  const list: ProblemVm[] = vms.map((v, i) => {
    const load = v.loads.slice(0, v.vcpus).map((x) => x / 100);
    const memoryMiB = v.memGiB * 1024;
    const out: ProblemVm = { name: `vm${i}`, vcpus: v.vcpus, load, memoryMiB };
    if (v.hasCurrent || v.kind === 'fixed') {
      const n = cpuNodes[v.curNode % cpuNodes.length];
      out.current = { vcpuNodes: new Array(v.vcpus).fill(n), memoryMiB: { [ids[v.memNode % ids.length]]: memoryMiB } };
    }
    if (v.kind === 'dedicated') out.dedicated = true;
    if (v.kind === 'fixed') out.fixed = true;
    if (v.kind === 'cells' && v.vcpus >= 2) {
      const half = Math.floor(v.vcpus / 2);
      const m0 = Math.floor(memoryMiB / 2);
      out.cells = [
        { id: 0, vcpus: Array.from({ length: half }, (_, k) => k), memoryMiB: m0 },
        { id: 1, vcpus: Array.from({ length: v.vcpus - half }, (_, k) => half + k), memoryMiB: memoryMiB - m0 },
      ];
    }
    return out;
  });
  return { topology, vms: list, reservedCpus: reserve ? String(topology.nodes[0].cpus[0]) : undefined, options: { cpuOvercommit: overcommit, timeLimitMs: 300 } };
});

describe('solver property', () => {
  it('every returned placement passes verify (random instances, through the worker)', async function () {
    this.timeout(60000);
    await fc.assert(
      fc.asyncProperty(problemArb, async (problem) => {
        const p = await solve(problem);
        if (p.status === 'infeasible') {
          expect(p.reason, 'an infeasible answer says why').to.be.a('string').and.not.equal('');
          return;
        }
        expect(verify(problem, p)).to.deep.equal([]);
      }),
      { numRuns: 25, seed: 20261127 },
    );
  });
});
