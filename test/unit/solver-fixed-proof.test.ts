/**
 * Issue 25: fixed VMs (excluded, foreign, in a job) must not break the optimality proof. The bound
 * covers the movable VMs' columns; the objective counts every VM; the fixed VMs' cost is one
 * constant that both must count. Before, a 2-VM problem with one fixed VM ended "feasible, gap 78 %"
 * and every host with an excluded VM spent its whole effort budget every cycle.
 */
import { expect } from 'chai';
import { makeInstance } from '../../benchmarks/instances.js';
import { buildModel } from '../../solver/model.js';
import { solve, solveInProcess } from '../../solver/solve.js';
import type { Placement, Problem } from '../../solver/types.js';
import { evaluate, verify } from '../../solver/verify.js';
import { validateProblem } from '../../solver/validate-problem.js';

const node = (id: number, cpus: number[], free: number, distances: Record<string, number>) => ({ id, cpus, memoryMiB: 8192, freeMemoryMiB: free, distances });

/** The case: one fixed VM with its memory remote, one movable VM split over two nodes. */
const twoVms = (fixed: boolean): Problem => validateProblem({
  topology: { nodes: [node(0, [0, 1, 2, 3], 4000, { 0: 10, 1: 21 }), node(1, [4, 5, 6, 7], 4000, { 0: 21, 1: 10 })] },
  vms: [
    { name: 'x', vcpus: 2, load: [0.5, 0.5], memoryMiB: 1024, fixed, current: { vcpuNodes: [0, 0], memoryMiB: { 1: 1024 } } },
    { name: 'a', vcpus: 2, load: [0.6, 0.4], memoryMiB: 2048, current: { vcpuNodes: [0, 1], memoryMiB: { 0: 2048 } } },
  ],
});

function expectProven(problem: Problem, p: Placement) {
  expect(verify(problem, p)).to.deep.equal([]);
  expect(p.status, `gap ${p.gap}, bound ${p.bound}, objective ${p.objective}`).to.equal('optimal');
  expect(p.bound).to.be.at.most(p.objective! + 1e-9);
  expect(p.gap).to.be.at.most(0.005);
}

describe('issue 25: the optimality proof holds with fixed VMs', () => {
  it('2 VMs, one fixed: optimal with gap 0, as without `fixed`', async () => {
    for (const fixed of [false, true]) {
      const problem = twoVms(fixed);
      const p = await solve(problem);
      expectProven(problem, p);
      expect(p.gap).to.equal(0);
    }
  });

  it('a quarter of the VMs fixed on 2x8, 4x16, 8x16: still proven optimal, and the bound counts the fixed VMs', () => {
    for (const [topology, vms, seed] of [['2x8', 12, 2], ['4x16', 32, 1], ['8x16', 48, 3]] as const) {
      const problem = makeInstance({ topology, vms, loadFraction: 0.8, withCurrent: true, seed, timeLimitMs: 20000 });
      problem.vms.forEach((vm, i) => (vm.fixed = i % 4 === 0));
      const p = solveInProcess(problem);
      expectProven(problem, p);
      const fixedCost = buildModel(problem).fixedCost;
      expect(fixedCost, 'some fixed VM costs something').to.be.greaterThan(0);
      // the movable VMs cost at least 10 per unit of load: a bound without the fixed VMs would be below this
      const movableFloor = 10 * problem.vms.filter((vm) => !vm.fixed).reduce((s, vm) => s + vm.load.reduce((a, b) => a + b, 0), 0);
      expect(p.bound).to.be.greaterThan(movableFloor + fixedCost - 1e-6);
    }
  });

  it("the model's fixed cost is what evaluate() charges the fixed VMs (memory split, guest cells, less memory held than configured)", () => {
    const problem = validateProblem({
      topology: { nodes: [node(0, [0, 1, 2, 3], 4000, { 0: 10, 1: 21 }), node(1, [4, 5, 6, 7], 4000, { 0: 21, 1: 10 })] },
      vms: [
        { name: 'split', vcpus: 2, load: [0.7, 0.2], memoryMiB: 2048, fixed: true, current: { vcpuNodes: [0, 1], memoryMiB: { 0: 300, 1: 900 } } },
        {
          name: 'cells', vcpus: 2, load: [0.5, 0.3], memoryMiB: 2048, fixed: true, current: { vcpuNodes: [1, 0], memoryMiB: { 0: 1024, 1: 1024 } },
          cells: [{ id: 0, vcpus: [0], memoryMiB: 1024 }, { id: 1, vcpus: [1], memoryMiB: 1024 }],
        },
        { name: 'idle', vcpus: 1, load: [0], memoryMiB: 512, fixed: true, current: { vcpuNodes: [0], memoryMiB: { 1: 100 } } },
        { name: 'free', vcpus: 1, load: [0.4], memoryMiB: 512 },
      ],
    });
    const p = solveInProcess(problem);
    expect(verify(problem, p)).to.deep.equal([]);
    const fixedOnly: Placement = { ...p, vms: p.vms.filter((v) => v.name !== 'free') };
    expect(buildModel(problem).fixedCost).to.be.closeTo(evaluate(problem, fixedOnly).objective, 1e-9);
    expectProven(problem, p);
  });
});
