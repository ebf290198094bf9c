/**
 * Deterministic effort limits (issue 14): the pipeline stops on counted work, not on the
 * clock, so the same problem gives the same placement run after run, and also when the
 * machine is slow (simulated here by burning time before every LP library call: the
 * answer must not change as long as the time guard is not reached).
 */
import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import { makeHardInstance } from '../../benchmarks/hard-instances.js';
import { makeInstance } from '../../benchmarks/instances.js';
import { charge, effortDeadline, effortUsed } from '../../solver/effort.js';
import { solveInProcess } from '../../solver/solve.js';
import type { Placement } from '../../solver/types.js';
import { verify } from '../../solver/verify.js';

const shape = (p: Placement) => JSON.stringify({ status: p.status, obj: p.objective, bound: p.bound, method: p.method, vms: p.vms.map((v) => [v.name, v.vcpus.map((c) => c.node), v.memory.MiB, v.cells]) });

function burn(ms: number) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // a loaded machine: the same work takes longer
  }
}

describe('solver: deterministic effort limits', function () {
  this.timeout(60000);

  it('an effort deadline counts work, and the wall-clock guard stops everything once passed', () => {
    const dl = effortDeadline(100);
    expect(dl.now()).to.equal(0);
    charge(60);
    expect(dl.now()).to.equal(60);
    expect(dl.now() < dl.at).to.equal(true);
    charge(50);
    expect(dl.now() >= dl.at).to.equal(true);
    const guarded = effortDeadline(1e12, { now: () => 10, at: 5 });
    expect(guarded.now()).to.equal(Infinity);
    expect(effortUsed()).to.be.greaterThan(0);
  });

  const cases = [
    ['a memory-starved 8x16 host (hard family "starved", 256 VMs)', () => makeHardInstance({ family: 'starved', seed: 1 })],
    ['VMs larger than a node near capacity (hard family "big")', () => makeHardInstance({ family: 'big', seed: 1 })],
    ['guest NUMA cells (hard family "cells")', () => makeHardInstance({ family: 'cells', seed: 2 })],
    ['a loaded 8x16 host with current placements', () => makeInstance({ topology: '8x16', vms: 64, loadFraction: 0.9, memoryFraction: 0.9, withCurrent: true, seed: 3 })],
  ] as const;
  for (const [what, make] of cases) {
    it(`${what}: the same placement twice, and again on a slowed machine`, () => {
      const problem = make();
      // a generous guard: the effort budget, not the clock, must end these solves
      const a = solveInProcess(problem, { timeLimitMs: 30000 });
      const b = solveInProcess(problem, { timeLimitMs: 30000 });
      const slow = solveInProcess(problem, { timeLimitMs: 30000, lpHooks: { beforeSolve: () => burn(3) } });
      expect(a.status).to.not.equal('infeasible');
      expect(verify(problem, a)).to.deep.equal([]);
      expect(a.reason ?? '').to.not.match(/time guard/);
      expect(shape(b)).to.equal(shape(a));
      expect(shape(slow)).to.equal(shape(a));
    });
  }
});
