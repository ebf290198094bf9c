/** The soak's memory measure: post-GC heap slope sees retained data and ignores garbage. */
import { expect } from 'chai';
import { gcFunction, memoryPoint, memoryTrend, percentiles, slope, type MemoryPoint } from '../../benchmarks/memory-probe.js';

/** 2000 "cycles" allocating 4 KiB each, keeping it (a leak) or dropping it (garbage). */
function run(keep: boolean): number {
  const gc = gcFunction();
  const kept: object[] = [];
  const points: MemoryPoint[] = [];
  let sink = 0;
  for (let c = 1; c <= 2000; c++) {
    // Half on the JS heap, half off it (a typed array's store is external memory).
    const a = { nums: Array.from({ length: 256 }, (_, i) => i + c + 0.5), buf: new Float64Array(256).fill(c) };
    sink += a.nums[0] + a.buf[0];
    if (keep) kept.push(a);
    // Garbage besides, as a daemon cycle makes: plain heapUsed would saw-tooth with it.
    const junk = Array.from({ length: 200 }, (_, i) => ({ i, s: String(i + c) }));
    sink += junk.length;
    if (c % 100 === 0) points.push(memoryPoint(c, gc));
  }
  expect(sink).to.be.greaterThan(0);
  expect(kept.length).to.equal(keep ? 2000 : 0);
  return memoryTrend(points).heapSlope * 10_000;
}

describe('memory probe (soak memory measure)', () => {
  it('gcFunction works without --expose-gc and frees garbage', () => {
    const gc = gcFunction();
    let big: number[][] | null = Array.from({ length: 2000 }, () => new Array(500).fill(1));
    const withBig = memoryPoint(0, gc).heapMiB;
    expect(big.length).to.equal(2000);
    big = null;
    expect(memoryPoint(1, gc).heapMiB).to.be.below(withBig - 4);
  });

  it('a 4 KiB-per-cycle leak shows as ~39 MiB/10k cycles; the same allocations dropped show ~0', function () {
    this.timeout(120_000); // 40 forced full GCs: seconds on a quiet machine, far more on a loaded one
    const leak = run(true);
    const none = run(false);
    expect(leak).to.be.within(30, 50);
    expect(Math.abs(none)).to.be.below(2);
  });

  it('slope and percentiles', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).to.equal(2);
    expect(slope([1], [5])).to.equal(0);
    // The trend is fitted on the second half only: a warm-up jump in the first half does not count.
    const pts = [0, 1, 2, 3, 4, 5, 6, 7].map((x) => ({ x, rssMiB: 50, heapMiB: x < 4 ? x * 10 : 40, heapUsedMiB: 0, heapTotalMiB: 0, externalMiB: 0 }));
    const t = memoryTrend(pts);
    expect(t.samples).to.equal(4);
    expect(t.heapSlope).to.equal(0);
    expect(t.start.heapMiB).to.equal(0);
    expect(t.end.heapMiB).to.equal(40);
    expect(percentiles([5, 1, 4, 2, 3], [50, 100])).to.deep.equal({ p50: 3, p100: 5, max: 5 });
  });
});
