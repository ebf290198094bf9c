/**
 * Issue 25: the solver worker is warm from the start. warmUp() (called by `numaplace run` at start)
 * sends a synthetic problem through the pipeline; it must be a valid, feasible problem that reaches
 * the stages a real host needs (memory-only nodes, guest cells, dedicated and fixed VMs, a current
 * placement), and a solve() asked for meanwhile must wait for it and still answer correctly.
 * (How much faster the first solve is, is the benchmark's: npm run bench:solver:warmup.)
 */
import { expect } from 'chai';
import { makeInstance } from '../../benchmarks/instances.js';
import { solve, solveInProcess, warmUp } from '../../solver/solve.js';
import { validateProblem } from '../../solver/validate-problem.js';
import { verify } from '../../solver/verify.js';
import { warmUpProblem } from '../../solver/warm-up.js';

describe('issue 25: solver warm-up', () => {
  it('the warm-up problem is valid, feasible, and has what real hosts have', () => {
    const problem = validateProblem(JSON.parse(JSON.stringify(warmUpProblem())));
    expect(problem.topology.nodes.filter((n) => n.cpus.length === 0)).to.have.length(2);
    expect(problem.vms.some((v) => v.cells?.length)).to.equal(true);
    expect(problem.vms.some((v) => v.dedicated)).to.equal(true);
    expect(problem.vms.some((v) => v.fixed)).to.equal(true);
    expect(problem.vms.some((v) => v.current && !v.fixed)).to.equal(true);
    const p = solveInProcess(problem, { timeLimitMs: 60000, effort: 4e5 });
    expect(p.status).to.not.equal('infeasible');
    expect(verify(problem, p)).to.deep.equal([]);
    // tight enough that the greedy start is not the end: the search improved on it
    expect(p.method).to.not.match(/^greedy\([a-z-]+\)\+local-search$/);
  });

  it('a solve() asked for while the worker warms up waits for it and answers correctly', async () => {
    const problem = makeInstance({ topology: '4x16', vms: 24, loadFraction: 0.85, withCurrent: true, seed: 7, timeLimitMs: 2000 });
    const warming = warmUp();
    const p = await solve(problem);
    expect(await warming).to.be.a('number').greaterThan(0);
    expect(p.status).to.not.equal('infeasible');
    expect(verify(problem, p)).to.deep.equal([]);
    expect(p.reason ?? '').to.not.match(/worker (failed|exited)/);
  });
});
