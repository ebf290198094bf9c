/** Feeds the hardening metrics (src/metrics/hardening.ts) from each cycle, beside metricsObserver. */
import { recordHardening, type HardeningMetrics } from '../metrics/hardening.js';
import type { CycleObserver } from './loop.js';

export function hardeningObserver(m: HardeningMetrics): CycleObserver {
  return {
    cycle(r, daemon) {
      const stats = daemon.backend as { numaMapsErrors?: number };
      recordHardening(m, {
        journalWritable: daemon.journalProblem === null,
        journalFailures: daemon.journalFailures,
        numaMapsErrors: stats.numaMapsErrors,
        ...(r.sample ? { vmsUnreadable: r.sample.skipped?.length ?? 0 } : {}),
      });
    },
  };
}

/** Several observers as one. */
export function observers(...list: CycleObserver[]): CycleObserver {
  return {
    cycle: (r, d) => list.forEach((o) => o.cycle(r, d)),
    tickSkipped: () => list.forEach((o) => o.tickSkipped?.()),
    recovered: (x) => list.forEach((o) => o.recovered?.(x)),
  };
}
