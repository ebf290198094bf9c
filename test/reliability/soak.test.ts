/** Short soak (the long ones are `npm run bench:soak`): the daemon over the simulated host, changing load. */
import { expect } from 'chai';
import { runSoak } from '../../benchmarks/soak.js';
import { counters, registerReport } from './counters.js';

registerReport();

const CYCLES = Number(process.env.NUMAPLACE_SOAK_CYCLES ?? 2000);

/**
 * Bound on the live heap's growth (post-GC heapUsed + external, slope over the second half). Measured
 * over 2000 cycles: 1.3 to 3.7 MiB/10k cycles alone, up to 4.9 inside the full suite (the tail of
 * warm-up: JIT code, feedback); over 100,000 cycles it is ~0. Retaining one 4 KiB record per cycle
 * shows as ~39 MiB/10k cycles (test/unit/memory-probe.test.ts), so a per-cycle leak cannot pass.
 */
const HEAP_MIB_PER_10K_CYCLES = 15;

describe('reliability: short soak on the simulated host', function () {
  this.timeout(300_000);
  it(`${CYCLES} cycles of changing load: no errors, no unhandled rejections, steps applied, live heap flat`, async () => {
    const r = await runSoak({ cycles: CYCLES, samples: 40 });
    const m = r.memory;
    counters.soakCycles += r.cycles;
    counters.soakHeapTrendMiBPer10kCycles = m.heapMiBPer10kCycles;
    console.log(
      `      soak: ${r.cycles} cycles in ${r.wallSeconds.toFixed(1)} s, outcomes ${JSON.stringify(r.outcomes)}, ${r.stepsApplied} steps applied; ` +
        `post-GC heap ${m.start.heapMiB.toFixed(2)}->${m.end.heapMiB.toFixed(2)} MiB, slope ${m.heapMiBPer10kCycles.toFixed(2)} MiB/10k cycles; ` +
        `rss ${m.start.rssMiB.toFixed(0)}->${m.end.rssMiB.toFixed(0)} MiB, slope ${m.rssMiBPer10kCycles.toFixed(1)} (not asserted: allocator pools)`,
    );
    const e = r.errors;
    expect(e.unhandledRejections + e.uncaughtExceptions).to.equal(0);
    expect(e.cycleErrors).to.deep.equal({});
    expect(e.hostErrors).to.deep.equal({});
    expect(e.loggedErrors).to.deep.equal({});
    expect((r.outcomes.ok ?? 0) + (r.outcomes['warming-up'] ?? 0)).to.equal(r.cycles);
    expect(r.stepsApplied).to.be.greaterThan(0);
    expect(m.fittedOn).to.be.at.least(20);
    expect(m.heapMiBPer10kCycles, 'live heap (after a forced GC) keeps growing').to.be.below(HEAP_MIB_PER_10K_CYCLES);
  });
});
