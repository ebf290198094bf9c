/**
 * One cycle as a function: runCycle(deps, state, settings) -> { report, state }. In order:
 *
 *   sample   put back what a killed predecessor left half-applied, then sample the host
 *            (unreachable: back off)
 *   view     the host view of this sample (src/core/host-view.ts), passed to everything below;
 *            the first sample only starts the load figures (a warming-up cycle)
 *   problem, solve, plan   planCycle: problem, hot-plug decisions, the solver, the planner
 *   apply    execute the steps (journal first), or in advisory mode log them as advice
 *   commit   the new daemon state from what was executed (commitCycle), then the checkpoint
 *   observe  the report and the health go to the observers (metrics, status)
 *
 * The settings are read once, when the cycle starts, and carried in the report, so a SIGHUP
 * during a cycle changes the next one and never the label of this one. The daemon (loop.ts) keeps
 * the schedule, lock and signals around it; `numaplace plan` / `apply` call it too. Never throws:
 * a failure is the report's outcome.
 */
import { executePlan, type ExecuteResult } from '../apply/executor.js';
import type { Journal } from '../apply/journal.js';
import { journalWriteProblem } from '../apply/journal-probe.js';
import { recoverInterrupted, type InterruptedApply, type RecoveryOutcome } from '../apply/recovery.js';
import { buildHostView, type HostView } from '../core/host-view.js';
import type { HostSample } from '../core/sample.js';
import type { FailedStep, Quality, Refusal, Step } from '../core/steps.js';
import type { HostBackend, HostStats } from '../host/backend.js';
import type { HotplugStage } from '../hotplug/stage.js';
import type { PlanOutput } from '../plan/planner.js';
import type { Placement } from '../../solver/index.js';
import { backingOff, backoffAfterFailure, NO_BACKOFF, type Backoff } from './backoff.js';
import { commitCycle } from './commit-cycle.js';
import { logAction, logAdvice, logDecision, logRecovery, logSample, logSummary, NOTHING_SAID, type LogMemory } from './cycle-log.js';
import type { Logger } from './log.js';
import { planCycle, type CyclePlan, type SolveFn } from './plan-cycle.js';
import { newLoadTracker, trackLoads, type LoadTrackerState } from './sample-to-problem.js';
import type { Settings } from './settings.js';
import { freshState, type DaemonState } from './state.js';

export type CycleOutcome = 'ok' | 'warming-up' | 'backoff' | 'host-error' | 'error';

export interface CycleReport {
  outcome: CycleOutcome;
  /** The settings this cycle ran with (read once, at its start). */
  settings: Settings;
  mode: Settings['mode'];
  startedAtMs: number;
  durationMs: number;
  error?: string;
  steps: Step[];
  applied: Step[];
  failed: FailedStep[];
  refused: Refusal[];
  quality?: Quality;
  improvement?: number;
  placementStatus?: Placement['status'];
  solveMs?: number;
  /** VMs numaplace manages this cycle (running, not excluded) and VMs it leaves alone. */
  managedVms: number;
  excludedVms: number;
  deferred: PlanOutput['deferred'];
  /** The planner's output of this cycle. */
  plan?: PlanOutput;
  /**
   * This cycle's hot-plug stage, for metrics: `refusals` (count those with !repeated once each in
   * numaplace_hotplug_total{result="refused"}), `guest` (guest-reported online vCPUs, null = unknown);
   * done hot-plugs are the setVcpus / attachMemory steps in `applied`.
   */
  hotplug?: HotplugStage;
  /** The whole decision of this cycle (problem, placement, hot-plug), for metrics. */
  decision?: CyclePlan;
  /** The sample this cycle worked from (absent when sampling failed). */
  sample?: HostSample;
  /** The host view this cycle built from the sample (absent when it did not get that far). */
  view?: HostView;
}

/** How the daemon is, besides its last cycle: what observers get with each report. */
export interface Health {
  /** What makes the daemon unhealthy though cycles complete (the state directory not writable), or null. */
  problem: string | null;
  /** Set while the journal cannot be written (nothing is applied meanwhile). */
  journalProblem: string | null;
  /** Times the journal was found unwritable (a probe or a write failed). */
  journalFailures: number;
  checkpointProblem: string | null;
  /** The backend's counters so far (calls, errors, numa_maps read errors). */
  host: HostStats;
}

/** Receives every cycle's report and the daemon's health (metrics, status.json). */
export interface CycleObserver {
  cycle(report: CycleReport, health: Health): void;
  /** A tick that found the previous cycle still running. */
  tickSkipped?(): void;
  /** VMs found half-applied at start, and what was done about them. */
  recovered?(outcomes: readonly RecoveryOutcome[]): void;
}

/** Several observers as one. */
export function observers(...list: CycleObserver[]): CycleObserver {
  return {
    cycle: (r, h) => list.forEach((o) => o.cycle(r, h)),
    tickSkipped: () => list.forEach((o) => o.tickSkipped?.()),
    recovered: (x) => list.forEach((o) => o.recovered?.(x)),
  };
}

/** What a cycle works with besides its state and settings. */
export interface CycleDeps {
  backend: HostBackend;
  solve: SolveFn;
  logger: Logger;
  /** Wall clock (ms). */
  now: () => number;
  /** False for an explicit operator action (`numaplace apply`): no hold rule, no cooldown. */
  holdRule: boolean;
  /** Where each VM's steps are recorded before they run; absent: not journalled (simulated host, tests). */
  journal?: Journal;
  /** The directory the journal lives in, probed before applying (no change without its record); absent: not probed. */
  stateDir?: string | null;
  /** Writes the checkpoint; returns what went wrong, or null. Absent: the state lives in memory only. */
  checkpoint?: (state: DaemonState) => string | null;
  observer?: CycleObserver;
  /** Checked between VMs while applying: true stops before the next VM (SIGTERM finishes the current VM only). */
  shouldStop?: () => boolean;
}

/** What one cycle hands the next. */
export interface CycleState {
  /** What the checkpoint keeps: applied settings, churn counters, hot-plug detectors. */
  daemon: DaemonState;
  loads: LoadTrackerState;
  backoff: Backoff;
  /** Half-applied VMs from a previous process, put back before the next sample. */
  interrupted: readonly InterruptedApply[];
  said: LogMemory;
  journal: { problem: string | null; failures: number };
  checkpointProblem: string | null;
}

export function freshCycleState(daemon: DaemonState = freshState(), interrupted: readonly InterruptedApply[] = []): CycleState {
  return { daemon, loads: newLoadTracker(), backoff: NO_BACKOFF, interrupted, said: NOTHING_SAID, journal: { problem: null, failures: 0 }, checkpointProblem: null };
}

/** Why the daemon is unhealthy though cycles complete, or null. */
export function healthProblem(state: CycleState): string | null {
  return state.journal.problem ?? state.checkpointProblem;
}

export async function runCycle(deps: CycleDeps, state: CycleState, settings: Settings): Promise<{ report: CycleReport; state: CycleState }> {
  const startedAtMs = deps.now();
  const finish = (s: CycleState, r: Partial<CycleReport> & Pick<CycleReport, 'outcome'>) => {
    const report: CycleReport = { settings, mode: settings.mode, startedAtMs, durationMs: deps.now() - startedAtMs, managedVms: 0, excludedVms: 0, deferred: [], steps: [], applied: [], failed: [], refused: [], ...r };
    observe(deps, report, s);
    return { report, state: s };
  };
  if (backingOff(state.backoff, startedAtMs)) return finish(state, { outcome: 'backoff' });
  const sampled = await sampleHost(deps, state, settings);
  let s = sampled.state;
  if (!('sample' in sampled)) return finish(s, { outcome: 'host-error', error: sampled.error });
  const { sample } = sampled;
  try {
    const view = buildHostView(sample.topology, settings);
    const warm = s.loads.prevAtMs !== null;
    const loads = trackLoads(s.loads, sample, settings.load.windowCycles);
    s = { ...s, loads: loads.state };
    if (!warm) {
      deps.logger.info('first sample taken; loads need a second one', { vms: sample.vms.length });
      return finish(s, { outcome: 'warming-up', sample, view });
    }
    const decision = await planCycle({ sample, view, loads: loads.loads, lastLoads: loads.last, settings, churn: s.daemon.churn, hotplug: s.daemon.hotplug, solve: deps.solve, holdRule: deps.holdRule, clock: deps.now });
    s = { ...s, said: logDecision(deps.logger, decision, s.said) };
    const applied = await applyPlan(deps, s, settings, decision, sample);
    s = commit(deps, applied.state, settings, decision, applied.exec, sample);
    logSummary(deps.logger, settings, decision, applied.exec);
    return finish(s, okReport(decision, applied.exec, sample, view));
  } catch (e) {
    const error = (e as Error).message;
    deps.logger.error('cycle failed', { error });
    return finish(s, { outcome: 'error', error });
  }
}

/** Put back what a killed predecessor left half-applied, then sample; a host that cannot be reached starts (or lengthens) the backoff. */
async function sampleHost(deps: CycleDeps, state: CycleState, settings: Settings): Promise<{ sample: HostSample; state: CycleState } | { error: string; state: CycleState }> {
  let s = state;
  try {
    if (s.interrupted.length > 0 && deps.journal) {
      const outcomes = await recoverInterrupted(deps.backend, s.interrupted, deps.journal);
      s = { ...s, interrupted: [] };
      logRecovery(deps.logger, outcomes);
      notify(deps, (o) => o.recovered?.(outcomes));
    }
    const sample = await deps.backend.sample();
    s = { ...s, said: logSample(deps.logger, sample, s.said) };
    if (s.backoff.delayMs > 0) {
      deps.logger.info('host reachable again; resuming');
      s = { ...s, backoff: NO_BACKOFF };
    }
    return { sample, state: s };
  } catch (e) {
    const error = (e as Error).message;
    const backoff = backoffAfterFailure(s.backoff, settings.backoff, deps.now());
    deps.logger.error('cannot sample the host; backing off', { error, retryInMs: backoff.delayMs });
    return { error, state: { ...s, backoff } };
  }
}

/**
 * Apply mode: execute the steps, unless the journal cannot be written (no change without its
 * record: then nothing is applied and the cycle counts as executed with nothing done, so hot-plugs
 * are decided again). Advisory mode: log the steps as advice.
 */
async function applyPlan(deps: CycleDeps, s: CycleState, settings: Settings, cp: CyclePlan, sample: HostSample): Promise<{ exec: ExecuteResult | null; state: CycleState }> {
  if (settings.mode === 'advisory') return { exec: null, state: { ...s, said: logAdvice(deps.logger, cp.steps, cp.gains, s.said) } };
  if (cp.steps.length === 0 && s.journal.problem === null) return { exec: null, state: s };
  let journal = journalGate(deps, s.journal);
  if (cp.steps.length === 0) return { exec: null, state: { ...s, journal } };
  if (journal.problem !== null) {
    const exec: ExecuteResult = { applied: [], failed: [], refusedSteps: [], refused: [], succeededVms: [], failedVms: [], notReached: [...new Set(cp.steps.map((x) => x.vm))] };
    return { exec, state: { ...s, journal } };
  }
  const exec = await executePlan(deps.backend, cp.steps, sample, {
    persistConfig: settings.persistConfig,
    journal: deps.journal,
    shouldStop: deps.shouldStop,
    onAction: (a) => logAction(deps.logger, a),
  });
  if (deps.journal?.healthy?.() === false) {
    journal = journalGate(deps, journal, `cannot write the journal: ${deps.journal.lastError?.message}; nothing more is applied until it can be written`);
  }
  return { exec, state: { ...s, journal } };
}

/**
 * Applying needs a writable journal. Probes its directory (or takes `failure` from a write that
 * just failed) and says so when applying stops and when it resumes.
 */
function journalGate(deps: CycleDeps, was: CycleState['journal'], failure?: string): CycleState['journal'] {
  if (!deps.stateDir) return was;
  const problem = failure ?? journalWriteProblem(deps.stateDir);
  if (problem && was.problem === null) deps.logger.error('applying stopped: the journal cannot be written', { dir: deps.stateDir, error: problem });
  if (!problem && was.problem !== null) deps.logger.info('the journal can be written again; applying resumes', { dir: deps.stateDir });
  return { problem, failures: was.failures + (problem ? 1 : 0) };
}

/** The daemon's new state from what was executed, then the checkpoint. */
function commit(deps: CycleDeps, s: CycleState, settings: Settings, cp: CyclePlan, exec: ExecuteResult | null, sample: HostSample): CycleState {
  const daemon = commitCycle(s.daemon, { decision: cp, executed: exec, listed: listedVms(sample) }, settings);
  return { ...s, daemon, checkpointProblem: deps.checkpoint ? deps.checkpoint(daemon) : s.checkpointProblem };
}

function okReport(cp: CyclePlan, exec: ExecuteResult | null, sample: HostSample, view: HostView): Partial<CycleReport> & Pick<CycleReport, 'outcome'> {
  const out = cp.planned;
  return {
    outcome: 'ok',
    steps: cp.steps,
    applied: exec?.applied ?? [],
    failed: exec?.failed ?? [],
    refused: [...cp.refused, ...(exec?.refused ?? [])],
    quality: out.quality,
    improvement: out.improvement,
    placementStatus: cp.placement.status,
    solveMs: cp.solveMs,
    managedVms: sample.vms.filter((v) => v.running && !cp.excluded.has(v.name)).length,
    excludedVms: cp.excluded.size,
    deferred: out.deferred,
    plan: out,
    hotplug: cp.hotplug,
    decision: cp,
    sample,
    view,
  };
}

function observe(deps: CycleDeps, report: CycleReport, s: CycleState): void {
  notify(deps, (o) => o.cycle(report, { problem: healthProblem(s), journalProblem: s.journal.problem, journalFailures: s.journal.failures, checkpointProblem: s.checkpointProblem, host: deps.backend.stats() }));
}

/** An observer that throws is logged; the cycle goes on. */
function notify(deps: CycleDeps, call: (o: CycleObserver) => void): void {
  if (!deps.observer) return;
  try {
    call(deps.observer);
  } catch (e) {
    deps.logger.error('cycle observer failed', { error: (e as Error).message });
  }
}

/** Every VM the host listed this cycle: those sampled and those it could not read (virsh backend's `skipped`). */
function listedVms(sample: HostSample): Set<string> {
  const names = new Set(sample.vms.map((v) => v.name));
  for (const x of sample.skipped ?? []) names.add(x.vm);
  return names;
}
