/**
 * What a cycle says in the log, step by step, and what it remembers having said so that it says
 * a lasting thing once (when it starts, changes or ends) rather than every cycle: VMs that cannot
 * be read, VMs left alone, and advisory-mode advice. Each function returns the updated memory.
 */
import type { ActionEvent, ExecuteResult } from '../apply/executor.js';
import type { RecoveryOutcome } from '../apply/recovery.js';
import type { HostSample } from '../core/sample.js';
import { describeStep, type Step } from '../core/steps.js';
import { changesSince, type Said } from './change-tracker.js';
import type { Logger } from './log.js';
import { NO_PLACEMENT_FALLBACK, type CyclePlan } from './plan-cycle.js';
import type { Settings } from './settings.js';

export interface LogMemory {
  /** VMs the host listed but could not read: vm -> error. */
  unreadable: Said;
  /** VMs left alone (excluded, another tool's): vm -> why. */
  excluded: Said;
  /** Advice given in advisory mode: the step as JSON. */
  advice: Said;
}

export const NOTHING_SAID: LogMemory = { unreadable: new Map(), excluded: new Map(), advice: new Map() };

/** The sample's warnings; VMs left out because they cannot be read (the others go on), said when it starts and ends. */
export function logSample(logger: Logger, sample: HostSample, said: LogMemory): LogMemory {
  for (const w of sample.warnings ?? []) logger.warn(w);
  const { changes, next } = changesSince(said.unreadable, new Map((sample.skipped ?? []).map((x) => [x.vm, x.error.message])), (m) => m);
  for (const [vm, error] of [...changes.added, ...changes.changed]) logger.warn('VM left out: it cannot be read; the other VMs are managed as usual', { vm, error });
  for (const vm of changes.removed) logger.info('VM readable again (or gone)', { vm });
  return { ...said, unreadable: next };
}

/** What the cycle decided and why, before anything is applied. */
export function logDecision(logger: Logger, cp: CyclePlan, said: LogMemory): LogMemory {
  const out = cp.planned;
  for (const n of cp.notes) logger.warn(n);
  const { changes, next } = changesSince(said.excluded, cp.excluded, (why) => why);
  for (const [vm, why] of [...changes.added, ...changes.changed]) logger.warn('left alone', { vm, reason: why });
  if (cp.placement.status === 'infeasible') logger.warn(`no feasible placement; ${NO_PLACEMENT_FALLBACK}`, { reason: cp.placement.reason });
  for (const v of out.violations) logger.info('correcting now', { vm: v.vm, why: v.reason });
  for (const r of cp.busy) logger.warn('left alone this cycle', { vm: r.vm, reason: r.reason });
  for (const r of out.refused) logger.warn('refused', { vm: r.vm, reason: r.reason });
  for (const l of cp.hotplug.log) logger.log(l.level, l.message, l.fields);
  for (const d of out.deferred) logger.debug('move waits', { vm: d.vm, why: d.reason });
  return { ...said, excluded: next };
}

/** Advisory mode: a step is logged when it first appears (and when it goes), not every cycle. */
export function logAdvice(logger: Logger, steps: readonly Step[], gains: readonly number[], said: LogMemory): LogMemory {
  const { changes, next } = changesSince(said.advice, new Map(steps.map((s, i) => [JSON.stringify(s), { s, gain: gains[i] }])), () => '');
  for (const [, { s, gain }] of changes.added) logger.info(`advice: ${describeStep(s)}`, { vm: s.vm, step: s.kind, gain: round(gain), result: 'not applied (advisory mode)' });
  for (const k of changes.removed) {
    const s = JSON.parse(k) as Step;
    logger.info(`advice withdrawn: ${describeStep(s)}`, { vm: s.vm, step: s.kind });
  }
  if (steps.length && !changes.added.length) logger.debug('advice unchanged', { steps: steps.length });
  return { ...said, advice: next };
}

/** One line per action the executor takes. */
export function logAction(logger: Logger, a: ActionEvent): void {
  const level = a.result === 'applied' || a.result === 'rolled-back' ? 'info' : a.result === 'refused' ? 'warn' : 'error';
  logger.log(level, describeStep(a.step), { vm: a.vm, step: a.step.kind, result: a.result, error: a.error });
}

/** VMs a killed predecessor left half-applied, and what was done about each. */
export function logRecovery(logger: Logger, outcomes: readonly RecoveryOutcome[]): void {
  for (const o of outcomes) {
    const fields = { vm: o.vm, began: o.at, undone: o.undone, problems: o.problems.join('; ') || undefined };
    if (o.result === 'rolled-back') logger.info('interrupted apply rolled back to the old settings', fields);
    else if (o.result === 'partial') logger.error('interrupted apply only partly rolled back', fields);
    else logger.warn('interrupted apply left alone', fields);
  }
}

export function logSummary(logger: Logger, settings: Settings, cp: CyclePlan, exec: ExecuteResult | null): void {
  const q = cp.planned.quality;
  logger.info('cycle done', {
    mode: settings.mode,
    now: round(q.now),
    planned: round(q.planned),
    allLocal: round(q.allLocal),
    steps: cp.steps.length,
    applied: exec?.applied.length ?? 0,
    failed: exec?.failed.length ?? 0,
    waiting: cp.planned.deferred.length,
  });
}

function round(x: number | undefined): number | undefined {
  return x === undefined ? undefined : Math.round(x * 100) / 100;
}
