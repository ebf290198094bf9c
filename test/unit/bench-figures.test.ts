import { expect } from 'chai';
import { excessReduction, series, summarize, type Observation } from '../../benchmarks/closed-loop/figures.js';

const obs = (o: Partial<Observation>): Observation => ({
  atMs: 0, dtMs: 10_000, cost: 0, allLocal: 0, optimum: 0, localLoad: 0, totalLoad: 0,
  overloadedNodes: 0, vcpuMoves: 0, migratedMiB: 0, ...o,
});

describe('closed-loop figures', () => {
  it('time-weights quality, optimum, excess and locality', () => {
    // 10 s at cost 30 (load 2, all local 20, optimum 25), then 30 s at cost 20 (all local, optimal).
    const f = summarize([
      obs({ atMs: 0, dtMs: 10_000, cost: 30, allLocal: 20, optimum: 25, localLoad: 1, totalLoad: 2, overloadedNodes: 1 }),
      obs({ atMs: 10_000, dtMs: 30_000, cost: 20, allLocal: 20, optimum: 20, localLoad: 2, totalLoad: 2, vcpuMoves: 3, migratedMiB: 512 }),
    ]);
    expect(f.durationS).to.equal(40);
    expect(f.quality).to.equal((30 * 10 + 20 * 30) / 40);
    expect(f.optimum).to.equal((25 * 10 + 20 * 30) / 40);
    expect(f.ratioToOptimum).to.be.closeTo(900 / 850, 1e-12);
    expect(f.excess).to.equal((10 * 10) / 40);
    expect(f.locality).to.equal((1 * 10 + 2 * 30) / (2 * 40));
    expect(f.overloadS).to.equal(10);
    expect(f.vcpuMoves).to.equal(3);
    expect(f.migratedMiB).to.equal(512);
  });

  it('takes the ratio over the instants with an optimum only', () => {
    const f = summarize([
      obs({ cost: 12, allLocal: 10, optimum: 10, totalLoad: 1, localLoad: 1 }),
      obs({ cost: 30, allLocal: 10, optimum: null, totalLoad: 1, localLoad: 0 }),
    ]);
    expect(f.ratioToOptimum).to.be.closeTo(1.2, 1e-12);
    expect(f.optimum).to.equal(10);
    expect(f.quality).to.equal(21);
    expect(f.locality).to.equal(0.5);
    expect(series([obs({ optimum: null }), obs({ optimum: 5, cost: 5 })])).to.have.length(1);
  });

  it('gives the instantaneous ratio and locality per instant', () => {
    const s = series([obs({ atMs: 60_000, cost: 33, optimum: 30, localLoad: 3, totalLoad: 4 }), obs({ atMs: 70_000 })]);
    expect(s[0]).to.deep.equal({ tS: 60, ratio: 1.1, locality: 0.75 });
    expect(s[1]).to.deep.equal({ tS: 70, ratio: 1, locality: 1 });
  });

  it('compares excess costs', () => {
    const base = summarize([obs({ cost: 140, allLocal: 100, optimum: 100 })]);
    const better = summarize([obs({ cost: 110, allLocal: 100, optimum: 100 })]);
    expect(excessReduction(better, base)).to.be.closeTo(0.75, 1e-12);
    expect(excessReduction(base, better)).to.be.closeTo(-3, 1e-12);
  });
});
