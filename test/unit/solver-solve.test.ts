/** solve(): the worker, its hard deadline, and what comes back when the LP library never returns. */
import { expect } from 'chai';
import { performance } from 'node:perf_hooks';
import { makeHardInstance } from '../../benchmarks/hard-instances.js';
import { makeInstance } from '../../benchmarks/instances.js';
import { solve } from '../../solver/solve.js';
import { verify } from '../../solver/verify.js';

describe('solve() in a worker with a hard deadline', () => {
  // tight enough that the greedy start is not provably optimal, so the LP stage always runs
  const problem = makeInstance({ topology: '8x16', vms: 24, loadFraction: 0.9, memoryFraction: 0.85, withCurrent: true, seed: 1, timeLimitMs: 400 });

  it('returns a verified placement', async () => {
    const p = await solve(problem);
    expect(p.status).to.not.equal('infeasible');
    expect(verify(problem, p)).to.deep.equal([]);
    expect(p.solveMs).to.be.a('number');
  });

  for (const hook of ['hang-lp', 'hang-start'] as const) {
    it(`a solve that never returns (${hook}) costs the caller no more than its deadline, and the greedy answer is used`, async () => {
      // a limit long enough that the worker surely reaches the LP stage, even on a loaded machine
      const slow = { ...problem, options: { ...problem.options, timeLimitMs: 1500 } };
      const t0 = performance.now();
      const p = await solve(slow, { workerHook: hook });
      const elapsed = performance.now() - t0;
      // correctness bound, not a speed target: the deadline + generous slack for a loaded machine
      expect(elapsed).to.be.lessThan(1500 + 1500);
      expect(p.status).to.not.equal('infeasible');
      expect(verify(problem, p)).to.deep.equal([]);
      expect(p.reason).to.match(/deadline/);
    });
  }

  it('an answer the time guard stopped says so, even when the worker had already streamed the same placement', async () => {
    // An effort budget no deadline can spend: the worker's time guard (at 85% of the deadline), not the
    // budget, ends the search, and the worker sends its final answer before the deadline, usually the
    // placement it had streamed last. That copy used to be kept, without the reason.
    // (starved-1 with gapTolerance 0 keeps the search busy for seconds even on an idle machine)
    const big = { ...makeHardInstance({ family: 'starved', seed: 1 }), options: { timeLimitMs: 1500, gapTolerance: 0 } };
    const p = await solve(big, { effort: 1e12 });
    expect(p.status).to.not.equal('infeasible');
    expect(p.reason).to.match(/time guard|deadline/);
  });

  it('an infeasible problem comes back as a value with its reason', async () => {
    const bad = makeInstance({ topology: '2x8', vms: 4, loadFraction: 0.5, withCurrent: false, seed: 1, timeLimitMs: 400 });
    bad.vms[0].memoryMiB = 1024 * 1024;
    const p = await solve(bad);
    expect(p.status).to.equal('infeasible');
    expect(p.reason).to.contain(bad.vms[0].name);
  });
});
