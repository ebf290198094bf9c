/**
 * `numaplace plan` and `numaplace apply`: one cycle from two samples (loads need two), with no
 * hold rule (an explicit operator action), printed as text or as the plan/apply JSON contract.
 */
import { executePlan } from '../apply/executor.js';
import { FileJournal, type Journal } from '../apply/journal.js';
import { configFromFlags, type Config } from '../daemon/config.js';
import { NO_PLACEMENT_FALLBACK, planCycle, type CyclePlan } from '../daemon/plan-cycle.js';
import { newLoadTracker, trackLoads } from '../daemon/sample-to-problem.js';
import { emptyHotplugState } from '../hotplug/state.js';
import { newChurnState } from '../plan/churn.js';
import { describeStep, type PlanResult } from '../core/steps.js';
import { buildHostView } from '../core/host-view.js';
import { solve } from '../../solver/index.js';
import { EXIT_FAILURE, EXIT_OK, HOST_OPTIONS, HOST_OPTIONS_HELP, parseCommandArgs } from './args.js';
import { openHost } from './open-host.js';
import { takeHostLock } from './host-lock.js';
import { checkStateDir } from './state-dir.js';
import { findInterrupted, readJournalTail, recoverInterrupted } from '../apply/recovery.js';
import type { HostBackend } from '../host/backend.js';

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
    if (hostLock) await recoverBeforeApply(backend, new FileJournal(config.stateDir));
    let tracker = newLoadTracker();
    tracker = trackLoads(tracker, await backend.sample(), config.load.windowCycles).state;
    if (backend.kind !== 'simulated') await new Promise((r) => setTimeout(r, WARMUP_MS));
    const sample = await backend.sample();
    const t = trackLoads(tracker, sample, config.load.windowCycles);
    const view = buildHostView(sample.topology, config);
    const cp = await planCycle({ sample, view, loads: t.loads, lastLoads: t.last, settings: config, churn: newChurnState(), hotplug: emptyHotplugState(), solve, holdRule: false });
    const result: PlanResult = { steps: cp.steps, applied: [], failed: [], refused: [...cp.refused], quality: cp.planned.quality };
    if (name === 'apply' && cp.steps.length > 0) {
      const journal: Journal | undefined = backend.kind === 'simulated' ? undefined : new FileJournal(config.stateDir);
      const exec = await executePlan(backend, cp.steps, sample, { persistConfig: config.persistConfig, journal });
      result.applied = exec.applied;
      result.failed = exec.failed;
      result.refused.push(...exec.refused);
    }
    process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : formatText(name, cp, result));
    return result.failed.length > 0 ? EXIT_FAILURE : EXIT_OK;
  } finally {
    await backend.close();
    hostLock?.release();
  }
}

/** What `run` does at start: put back the VMs a killed numaplace left half-applied (journal in stateDir). */
async function recoverBeforeApply(backend: HostBackend, journal: FileJournal): Promise<void> {
  const interrupted = findInterrupted(readJournalTail(journal.path, undefined, (line, problem) => process.stderr.write(`numaplace apply: skipping a malformed journal entry (${journal.path}, line ${line} of its tail): ${problem}\n`)));
  if (interrupted.length === 0) return;
  for (const o of await recoverInterrupted(backend, interrupted, journal)) {
    process.stderr.write(`numaplace apply: interrupted apply of ${JSON.stringify(o.vm)} (began ${o.at}): ${o.result}, ${o.undone} step(s) undone${o.problems.length ? `; ${o.problems.join('; ')}` : ''}\n`);
  }
}
