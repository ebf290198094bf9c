/**
 * Counters the reliability suites add to, printed by a root-level `after` hook once the whole mocha
 * run ends (whatever subset of suites ran), and written as JSON to $NUMAPLACE_RELIABILITY_REPORT when
 * set (`npm run test:reliability` sets benchmarks/results/reliability.json; `npm test` writes nothing).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const counters = {
  faultsInjected: 0,
  faultsSurvived: 0,
  fuzzInputs: 0,
  fuzzParsed: 0,
  fuzzTypedErrors: 0,
  invariantChecks: 0,
  soakCycles: 0,
  soakHeapTrendMiBPer10kCycles: null as number | null,
  securityChecks: 0,
  /** Hostile or broken input and host conditions (issue 12): each case checked once. */
  hardeningChecks: 0,
  perHardening: {} as Record<string, number>,
  perFault: {} as Record<string, string>,
  perParser: {} as Record<string, number>,
  /** Issue 12 regressions reproduced and shown fixed (case -> what was measured). */
  issue12Cases: {} as Record<string, string>,
};

/** Count one issue-12 case as reproduced and fixed, with what the test measured. */
export function issue12Case(what: string, measured: string): void {
  counters.issue12Cases[what] = measured;
}

let registered = false;
/** Registers the root `after` hook once (call at module top level of each reliability suite). */
export function registerReport(): void {
  if (registered) return;
  registered = true;
  after(function () {
    const file = process.env.NUMAPLACE_RELIABILITY_REPORT;
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), ...counters }, null, 2) + '\n');
    }
    console.log(`\n  reliability report${file ? ` (${file})` : ''}:`);
    console.log(`    faults injected ${counters.faultsInjected}, survived ${counters.faultsSurvived}`);
    console.log(`    fuzz inputs tried ${counters.fuzzInputs} (parsed ${counters.fuzzParsed}, typed errors ${counters.fuzzTypedErrors})`);
    console.log(`    invariant checks ${counters.invariantChecks}, security checks ${counters.securityChecks}, hardening checks ${counters.hardeningChecks}`);
    console.log(`    issue 12 cases reproduced and fixed ${Object.keys(counters.issue12Cases).length}`);
    console.log(`    soak cycles ${counters.soakCycles}, live heap (post-GC) trend ${counters.soakHeapTrendMiBPer10kCycles?.toFixed(3) ?? 'n/a'} MiB/10k cycles`);
  });
}

/** Count one hardening case under `area` (e.g. "host-lock", "journal"). */
export function hardened(area: string, n = 1): void {
  counters.hardeningChecks += n;
  counters.perHardening[area] = (counters.perHardening[area] ?? 0) + n;
}
