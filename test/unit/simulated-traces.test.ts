import { expect } from 'chai';
import { fairnessLevels, waterLevel } from '../../src/sim/contention.js';
import { migrateMemory } from '../../src/sim/memory.js';
import type { LoadTrace } from '../../src/sim/scenario.js';
import { traceLevel } from '../../src/sim/traces.js';

const at = (t: LoadTrace, s: number, seed = 1) => traceLevel(t, s, seed, [42, 0]);

describe('simulated load traces', () => {
  it('steady, ramping, saturating and diurnal follow their formulas', () => {
    expect(at({ kind: 'steady', level: 0.3 }, 999)).to.equal(0.3);
    const ramp: LoadTrace = { kind: 'ramping', from: 0.2, to: 0.6, startSeconds: 100, endSeconds: 200 };
    expect([0, 100, 150, 200, 500].map((s) => at(ramp, s))).to.deep.equal([0.2, 0.2, 0.4, 0.6, 0.6]);
    const sat: LoadTrace = { kind: 'saturating', from: 0.5, startSeconds: 10, rampSeconds: 100 };
    expect([0, 60, 110, 1e6].map((s) => at(sat, s))).to.deep.equal([0.5, 0.75, 1, 1]);
    const d: LoadTrace = { kind: 'diurnal', mean: 0.5, amplitude: 0.4, periodSeconds: 400, phaseSeconds: 0 };
    expect(at(d, 100)).to.be.closeTo(0.9, 1e-12);
    expect(at(d, 300)).to.be.closeTo(0.1, 1e-12);
  });

  it('bursty is seeded: a burst per window with about the given probability, same seed same answer', () => {
    const b: LoadTrace = { kind: 'bursty', base: 0.1, peak: 0.9, probability: 0.25, burstSeconds: 10 };
    const levels = Array.from({ length: 4000 }, (_, i) => at(b, i * 10));
    const bursts = levels.filter((l) => l === 0.9).length / levels.length;
    expect(bursts).to.be.within(0.2, 0.3);
    expect(levels.every((l) => l === 0.1 || l === 0.9)).to.equal(true);
    expect(Array.from({ length: 50 }, (_, i) => at(b, i * 10, 5))).to.deep.equal(Array.from({ length: 50 }, (_, i) => at(b, i * 10, 5)));
    expect(at(b, 3, 5)).to.equal(at(b, 7, 5)); // same window
  });

  it('phases switch traces at their start times', () => {
    const p: LoadTrace = { kind: 'phases', phases: [{ atSeconds: 10, trace: { kind: 'steady', level: 0.4 } }, { atSeconds: 20, trace: { kind: 'steady', level: 0.8 } }] };
    expect([0, 10, 19, 20].map((s) => at(p, s))).to.deep.equal([0, 0.4, 0.4, 0.8]);
  });
});

describe('simulated contention and memory primitives', () => {
  it('waterLevel meets small demands and splits the rest by weight', () => {
    expect(waterLevel([0.1, 1, 1], [1, 1, 1], 1)).to.be.closeTo(0.45, 1e-12);
    expect(waterLevel([1, 1], [3, 1], 1)).to.be.closeTo(0.25, 1e-12); // 0.75 and 0.25
  });

  it('fairnessLevels leaves uncrowded CPUs unlimited', () => {
    const lv = fairnessLevels([{ demand: 1, weight: 1, cpus: [0] }, { demand: 1, weight: 1, cpus: [0, 1] }], 2);
    expect(lv[1]).to.equal(Infinity);
    expect(Math.min(1, lv[0] * 1) + Math.min(0.5, lv[0] * 1)).to.be.closeTo(1, 1e-12);
  });

  it('migrateMemory moves whole MiB within budget into the nodeset, carrying fractions', () => {
    const mem = new Map([[0, 1000]]);
    const free = new Map([[0, 0], [1, 300], [2, 5000]]);
    const r = migrateMemory(mem, new Set([1, 2]), 500.5, free);
    expect(r).to.deep.equal({ movedMiB: 500, carry: 0.5 });
    expect(Object.fromEntries(mem)).to.deep.equal({ 0: 500, 2: 500 }); // the node with the most free memory first
    expect(Object.fromEntries(free)).to.deep.equal({ 0: 500, 1: 300, 2: 4500 });
    const r2 = migrateMemory(mem, new Set([1, 2]), 10_000, new Map([[1, 300], [2, 100]]));
    expect(r2).to.deep.equal({ movedMiB: 400, carry: 0 }); // then the next; the rest has nowhere to go
    expect(Object.fromEntries(mem)).to.deep.equal({ 0: 100, 1: 300, 2: 600 });
  });
});
