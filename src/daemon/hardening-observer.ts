/** Feeds the hardening metrics (src/metrics/hardening.ts) from each cycle's health, beside metricsObserver. */
import { recordHardening, type HardeningMetrics } from '../metrics/hardening.js';
import type { CycleObserver } from './cycle.js';

export function hardeningObserver(m: HardeningMetrics): CycleObserver {
  return {
    cycle(r, health) {
      recordHardening(m, {
        journalWritable: health.journalProblem === null,
        journalFailures: health.journalFailures,
        numaMapsErrors: health.host.numaMapsErrors,
        ...(r.sample ? { vmsUnreadable: r.sample.skipped?.length ?? 0 } : {}),
      });
    },
  };
}
