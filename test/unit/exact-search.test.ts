/**
 * exactSearch (solver/exact-search.ts), the branch and bound over every column of hosts with few
 * VMs (issue 25), against brute force over all column combinations: the optimum it proves is the
 * true one whatever prices it prunes with, it finds a packing where the greedy finds none, and it
 * says when no packing exists.
 */
import { expect } from 'chai';
import { makeHardInstance } from '../../benchmarks/hard-instances.js';
import { rng } from '../../benchmarks/instances.js';
import { selectionFits, totalCost } from '../../solver/greedy.js';
import { effortDeadline } from '../../solver/effort.js';
import { exactSearch } from '../../solver/exact-search.js';
import { buildModel, pairColumn, type Column, type Model } from '../../solver/model.js';
import { solveInProcess } from '../../solver/solve.js';
import type { Problem } from '../../solver/types.js';
import { verify } from '../../solver/verify.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';

/** A few big VMs at `loadShare` of the CPU capacity of 2x8, some with a current placement (stay columns). */
function tight(seed: number, vms: number, loadShare = 0.8): Problem {
  const rnd = rng(seed);
  const topology = syntheticTopology('2x8');
  topology.nodes[0].freeMemoryMiB = 6144 + Math.floor(rnd() * 8) * 1024;
  topology.nodes[1].freeMemoryMiB = 4096 + Math.floor(rnd() * 8) * 1024;
  const sizes = Array.from({ length: vms }, () => [2, 4, 6, 8][Math.floor(rnd() * 4)]);
  const perVcpu = (loadShare * 16) / sizes.reduce((a, b) => a + b, 0);
  return {
    topology,
    vms: sizes.map((k, i) => ({
      name: `v${i}`, vcpus: k, memoryMiB: 512 * (1 + Math.floor(rnd() * 6)),
      load: Array.from({ length: k }, () => Math.min(1, Math.round(perVcpu * (0.7 + 0.6 * rnd()) * 1000) / 1000)),
      ...(i % 2 === 0 ? { current: { vcpuNodes: new Array<number>(k).fill(i % 4 === 0 ? 0 : 1), memoryMiB: { [String(i % 3 === 0 ? 1 : 0)]: 512 } } } : {}),
    })),
  };
}

function columnsOf(m: Model, i: number): Column[] {
  const it = m.items[i];
  const out = [...it.explicit];
  for (let a = 0; a < m.N; a++) for (let b = 0; b < m.N; b++) if (it.pairCpuOk[a] && it.pairMemOk[b]) out.push(pairColumn(m, it, i, a, b));
  return out;
}

/** The cheapest fitting selection, trying every combination. */
function bruteForce(m: Model): number {
  const cols = m.items.map((_, i) => columnsOf(m, i));
  let best = Infinity;
  const sel: Column[] = [];
  const go = (d: number) => {
    if (d === cols.length) {
      if (selectionFits(m, sel)) best = Math.min(best, totalCost(sel));
      return;
    }
    for (const c of cols[d]) {
      sel[d] = c;
      go(d + 1);
    }
  };
  go(0);
  return best;
}

describe('exactSearch (solver/exact-search.ts)', () => {
  it('proves the brute-force optimum of tight 4-5 VM hosts, with zero prices and with arbitrary ones', () => {
    let compared = 0, none = 0;
    // 80% load: capacity binds on half of them; 97%: some have no packing at all
    for (let seed = 1; seed <= 16; seed++) {
      const m = buildModel(tight(seed, 4 + (seed % 2), seed <= 12 ? 0.8 : 0.97));
      const truth = bruteForce(m);
      const rnd = rng(seed * 31);
      for (const lam of [new Array(m.cap.length).fill(0), m.cap.map(() => rnd() * 3)]) {
        const r = exactSearch(m, lam, Infinity, 0, effortDeadline(1e9));
        expect(r.complete).to.equal(true);
        if (truth === Infinity) {
          expect(r.improved, `seed ${seed}: no packing exists`).to.equal(undefined);
          none++;
          continue;
        }
        expect(selectionFits(m, r.improved!)).to.equal(true);
        expect(totalCost(r.improved!), `seed ${seed}`).to.be.closeTo(truth, 1e-9);
        compared++;
      }
    }
    expect(compared, 'most of these hosts have a packing').to.be.greaterThan(16);
    expect(none, 'and some have none').to.be.greaterThan(0);
  });

  it('given an incumbent at the optimum it finds nothing better and completes (the proof); given a worse one it improves on it', () => {
    const m = buildModel(tight(3, 5));
    const truth = bruteForce(m);
    expect(truth).to.be.lessThan(Infinity);
    const lam = new Array(m.cap.length).fill(0);
    const atOpt = exactSearch(m, lam, truth, 0, effortDeadline(1e9));
    expect(atOpt).to.deep.equal({ improved: undefined, complete: true });
    const worse = exactSearch(m, lam, truth + 5, 0, effortDeadline(1e9));
    expect(totalCost(worse.improved!)).to.be.closeTo(truth, 1e-9);
  });

  it('stops on its effort budget and says it did not finish', () => {
    const m = buildModel(tight(5, 5));
    const r = exactSearch(m, new Array(m.cap.length).fill(0), Infinity, 0, effortDeadline(10));
    expect(r.complete).to.equal(false);
  });

  it('in the pipeline: 10 big VMs on 4x16 near capacity (packed-4), where the greedy finds no packing, solved to optimal', () => {
    // Before: "infeasible" (no start fitted, the library MILP charged the whole budget); HiGHS: 621.405, optimal.
    const problem = makeHardInstance({ family: 'packed', seed: 4 });
    const p = solveInProcess(problem, { timeLimitMs: 60000 });
    expect(p.status).to.equal('optimal');
    expect(verify(problem, p)).to.deep.equal([]);
    expect(p.objective).to.be.closeTo(621.405, 1e-6);
  });
});
