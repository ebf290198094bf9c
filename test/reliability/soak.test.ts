/** Short soak (the long one is `npm run bench:soak`): the daemon over the simulated host, changing load. */
import { expect } from 'chai';
import { runSoak } from '../../benchmarks/soak.js';
import { counters, registerReport } from './counters.js';

registerReport();

const CYCLES = Number(process.env.NUMAPLACE_SOAK_CYCLES ?? 2000);

describe('reliability: short soak on the simulated host', function () {
  this.timeout(300_000);
  it(`${CYCLES} cycles of changing load: no errors, no unhandled rejections, steps applied`, async () => {
    const r = await runSoak({ cycles: CYCLES });
    counters.soakCycles += r.cycles;
    counters.soakMemoryTrendMiBPer10kCycles = r.memoryTrendMiBPer10kCycles;
    console.log(`      soak: ${r.cycles} cycles in ${r.wallSeconds.toFixed(1)} s, outcomes ${JSON.stringify(r.outcomes)}, ${r.stepsApplied} steps applied, rss ${r.rssMiB.first.toFixed(0)}->${r.rssMiB.last.toFixed(0)} MiB, trend ${r.memoryTrendMiBPer10kCycles.toFixed(2)} MiB/10k cycles (heap ${r.heapTrendMiBPer10kCycles.toFixed(2)})`);
    expect(r.unhandled).to.equal(0);
    expect(r.errors, r.errors.join('; ')).to.deep.equal([]);
    expect((r.outcomes.ok ?? 0) + (r.outcomes['warming-up'] ?? 0)).to.equal(r.cycles);
    expect(r.stepsApplied).to.be.greaterThan(0);
    // No memory assertion on a short run (GC noise); the trend is reported and asserted by bench:soak.
  });
});
