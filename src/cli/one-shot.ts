/**
 * `numaplace plan` and `numaplace apply`: the daemon's cycle (runCycle), run twice (loads need two
 * samples), with no hold rule (an explicit operator action) and nothing kept afterwards, printed
 * as text or as the plan/apply JSON contract. `plan` runs it in advisory mode: nothing is applied.
 */
import { FileJournal } from '../apply/journal.js';
import { interruptedApplies, type RecoveryOutcome } from '../apply/recovery.js';
import { configFromFlags, type Config } from '../daemon/config.js';
import { freshCycleState, runCycle, type CycleDeps } from '../daemon/cycle.js';
import { SILENT_LOGGER } from '../daemon/log.js';
import { NO_PLACEMENT_FALLBACK, type CyclePlan } from '../daemon/plan-cycle.js';
import type { Settings } from '../daemon/settings.js';
import { freshState } from '../daemon/state.js';
import { describeStep, type PlanResult } from '../core/steps.js';
import { solve } from '../../solver/index.js';
import { EXIT_FAILURE, EXIT_OK, HOST_OPTIONS, HOST_OPTIONS_HELP, parseCommandArgs } from './args.js';
import { openHost } from './open-host.js';
import { takeHostLock } from './host-lock.js';
import { checkStateDir } from './state-dir.js';

export const ONE_SHOT_OPTIONS = { ...HOST_OPTIONS, json: { type: 'boolean' } } as const;

/** Time between the two samples on a real host: long enough for a load figure, short for an operator. */
export const WARMUP_MS = 1000;

export function oneShotHelp(name: 'plan' | 'apply'): string {
  const what = name === 'plan' ? 'Compute one cycle\'s plan and print it; nothing is applied.' : 'Compute one cycle\'s plan and apply it now (no hold rule: an explicit operator action).';
  return `usage: numaplace ${name} [host options] [--json]

${what}
Samples the host twice (${WARMUP_MS / 1000} s apart on a real host; two ticks on the simulated one) to measure loads.

${HOST_OPTIONS_HELP}
  --json                  print the plan/apply JSON (steps, applied, failed, refused, quality)
`;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function formatText(name: 'plan' | 'apply', cp: CyclePlan, result: PlanResult): string {
  const lines: string[] = [];
  const q = result.quality;
  lines.push(`quality (load-weighted NUMA distance, lower is better): now ${round(q.now)}, planned ${round(q.planned)}, all-local ${round(q.allLocal)}`);
  if (cp.placement.status === 'infeasible') {
    lines.push(`no feasible placement (${cp.placement.reason ?? 'no reason given'}): ${NO_PLACEMENT_FALLBACK}`);
  }
  if (result.steps.length === 0) lines.push('nothing to do: the host is as planned');
  else {
    lines.push(`${result.steps.length} step(s):`);
    result.steps.forEach((s, i) => {
      const gain = cp.gains[i] ?? 0;
      lines.push(`  ${s.vm}: ${describeStep(s)}${gain > 1e-9 ? `  (gain ${round(gain)})` : ''}`);
    });
  }
  if (name === 'apply') {
    lines.push(`applied ${result.applied.length}, failed ${result.failed.length}`);
    for (const f of result.failed) lines.push(`  failed: ${f.step.vm}: ${describeStep(f.step)}: ${f.error}`);
  }
  for (const r of result.refused) lines.push(`refused: ${r.vm}: ${r.reason}`);
  for (const d of cp.planned.deferred) lines.push(`waits: ${d.vm}: ${d.reason}`);
  for (const [vm, why] of cp.excluded) lines.push(`left alone: ${vm}: ${why}`);
  return lines.join('\n') + '\n';
}

export async function runOneShot(name: 'plan' | 'apply', argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, ONE_SHOT_OPTIONS);
  if (values.help) {
    process.stdout.write(oneShotHelp(name));
    return EXIT_OK;
  }
  const config: Config = configFromFlags(values);
  // apply changes the host: one numaplace per host, and a predecessor's half-done apply is undone first.
  const hostLock = name === 'apply' ? takeHostLock(values, config, 'apply') : null;
  if (hostLock) checkStateDir(config.stateDir, 'stateDir');
  const backend = await openHost(values, config);
  try {
    const real = backend.kind !== 'simulated';
    const journal = name === 'apply' && real ? new FileJournal(config.stateDir) : undefined;
    const deps: CycleDeps = {
      backend,
      solve,
      logger: SILENT_LOGGER,
      now: Date.now,
      holdRule: false,
      journal,
      stateDir: journal ? config.stateDir : null,
      observer: { cycle: () => {}, recovered: (outcomes) => outcomes.forEach(printRecovery) },
    };
    // The daemon's cycle, twice: the first sample only starts the load figures (and, for apply, the
    // first thing it does is put back what a killed numaplace left half-applied).
    const settings: Settings = { ...config, mode: name === 'apply' ? 'apply' : 'advisory' };
    const interrupted = hostLock && journal ? interruptedApplies(journal.path, (line, problem) => process.stderr.write(`numaplace apply: skipping a malformed journal entry (${journal.path}, line ${line} of its tail): ${problem}\n`)) : [];
    const first = await runCycle(deps, freshCycleState(freshState(), interrupted), settings);
    if (first.report.outcome !== 'warming-up') throw new Error(first.report.error ?? `the first sample ended ${first.report.outcome}`);
    if (real) await new Promise((r) => setTimeout(r, WARMUP_MS));
    const { report } = await runCycle(deps, first.state, settings);
    if (report.outcome !== 'ok' || !report.decision || !report.quality) throw new Error(report.error ?? `the cycle ended ${report.outcome}`);
    const result: PlanResult = { steps: report.steps, applied: report.applied, failed: report.failed, refused: report.refused, quality: report.quality };
    process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : formatText(name, report.decision, result));
    return result.failed.length > 0 ? EXIT_FAILURE : EXIT_OK;
  } finally {
    await backend.close();
    hostLock?.release();
  }
}

function printRecovery(o: RecoveryOutcome): void {
  process.stderr.write(`numaplace apply: interrupted apply of ${JSON.stringify(o.vm)} (began ${o.at}): ${o.result}, ${o.undone} step(s) undone${o.problems.length ? `; ${o.problems.join('; ')}` : ''}\n`);
}
