/**
 * The daemon's loop. Each cycle: sample -> problem -> solve -> plan -> apply (or advise) ->
 * checkpoint -> metrics. One cycle at a time: a tick that arrives while a cycle still runs is
 * skipped and counted. When the host cannot be sampled (libvirt unreachable) the loop backs off
 * (backoff.initialMs doubling up to backoff.maxMs) and resumes by itself. A cycle always finishes:
 * a VM whose steps fail is rolled back and reported, the others go on.
 *
 * `runCycle()` needs no cron (tests and benchmarks step it); `start()` adds the schedule, the
 * lock, the checkpoint and the signals (SIGHUP reloads the config, SIGTERM/SIGINT finish the
 * current VM's steps and stop).
 */
import cron from 'node-cron';
import { executePlan, type ActionEvent, type ExecuteResult } from '../apply/executor.js';
import { FileJournal, type Journal } from '../apply/journal.js';
import { journalWriteProblem } from '../apply/journal-probe.js';
import { findInterrupted, readJournalTail, recoverInterrupted, type InterruptedApply, type RecoveryOutcome } from '../apply/recovery.js';
import type { HostBackend } from '../host/backend.js';
import type { HostSample } from '../core/sample.js';
import { buildHostView, type HostView } from '../core/host-view.js';
import type { HotplugStage } from '../hotplug/stage.js';
import type { PlanOutput } from '../plan/planner.js';
import { describeStep, type FailedStep, type Quality, type Refusal, type Step } from '../core/steps.js';
import type { Placement } from '../../solver/index.js';
import { keepRunningValues, restartKeysChanged } from '../core/config-table.js';
import { acquireLock, type Lock } from './lock.js';
import { ChangeTracker } from './change-tracker.js';
import { statusFromReport, writeStatus, type DaemonStatus } from './status.js';
import { cronLogger } from './cron-logger.js';
import type { Logger } from './log.js';
import { NO_PLACEMENT_FALLBACK, planCycle, type CyclePlan, type SolveFn } from './plan-cycle.js';
import { newLoadTracker, trackLoads, type LoadTrackerState } from './sample-to-problem.js';
import type { Settings } from './settings.js';
import { commitCycle } from './commit-cycle.js';
import { freshState, loadState, saveState, type DaemonState } from './state.js';

export type { SolveFn } from './plan-cycle.js';

export type CycleOutcome = 'ok' | 'warming-up' | 'backoff' | 'host-error' | 'error';

export interface CycleReport {
  outcome: CycleOutcome;
  mode: 'advisory' | 'apply';
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

export interface DaemonCounters {
  cycles: number;
  overlapsSkipped: number;
  hostErrors: number;
  cycleErrors: number;
  stepsApplied: number;
  stepsFailed: number;
}

/** Receives every cycle's report (the metrics module implements it). */
export interface CycleObserver {
  cycle(report: CycleReport, daemon: Daemon): void;
  /** A tick that found the previous cycle still running. */
  tickSkipped?(): void;
  /** VMs found half-applied at start, and what was done about them. */
  recovered?(outcomes: readonly RecoveryOutcome[]): void;
}

export interface DaemonOptions {
  backend: HostBackend;
  settings: Settings;
  solve: SolveFn;
  logger: Logger;
  /** Where the checkpoint, journal and lock live; null keeps state in memory only (tests, one-shot runs). */
  stateDir: string | null;
  observer?: CycleObserver;
  /** Re-reads the configuration on SIGHUP; throws when the new one is invalid. */
  reloadSettings?: () => Settings | Promise<Settings>;
  /** Wall clock (ms) for backoff; injectable for tests. */
  now?: () => number;
}

export class Daemon {
  settings: Settings;
  state: DaemonState = freshState();
  readonly counters: DaemonCounters = { cycles: 0, overlapsSkipped: 0, hostErrors: 0, cycleErrors: 0, stepsApplied: 0, stepsFailed: 0 };
  /** Last cycle's report (metrics, tests). */
  last: CycleReport | null = null;
  private tracker: LoadTrackerState = newLoadTracker();
  private backoffDelayMs = 0;
  private backoffUntil = 0;
  private current: Promise<CycleReport> | null = null;
  private currentSinceMs = 0;
  private stopping = false;
  private task: { stop(): void | Promise<void>; destroy?(): void | Promise<void> } | null = null;
  private lock: Lock | null = null;
  private journal: Journal | undefined;
  /** Half-applied VMs from a previous process, put back before the next plan is applied. */
  private interrupted: InterruptedApply[] = [];
  private signalHandlers: [NodeJS.Signals, () => void][] = [];
  private finished: Promise<void> | null = null;
  private resolveFinished: (() => void) | null = null;
  private readonly now: () => number;
  /** Set while the journal cannot be written (nothing is applied meanwhile). */
  journalProblem: string | null = null;
  /** Times the journal was found unwritable (a probe or a write failed). */
  journalFailures = 0;
  checkpointProblem: string | null = null;
  private readonly advice = new ChangeTracker<{ s: Step; gain: number | undefined }>();
  private readonly unreadable = new ChangeTracker<string>();
  /** What status.json says (numaplace status). */
  private status: DaemonStatus | null = null;
  /** VMs left alone (excluded, another tool's): said once per VM, again only when the reason changes. */
  private readonly exclusions = new ChangeTracker<string>();

  constructor(private readonly opts: DaemonOptions) {
    this.settings = opts.settings;
    this.now = opts.now ?? Date.now;
    if (opts.stateDir) this.journal = new FileJournal(opts.stateDir);
  }

  get backend(): HostBackend {
    return this.opts.backend;
  }

  get logger(): Logger {
    return this.opts.logger;
  }

  /** Milliseconds until the next try while backing off, else 0. */
  backoffRemainingMs(): number {
    return Math.max(0, this.backoffUntil - this.now());
  }

  /** A cycle is running now. */
  busy(): boolean {
    return this.current !== null;
  }

  /** How long the running cycle has run (ms), 0 when none runs: what the systemd watchdog watches. */
  cycleRunningForMs(): number {
    return this.current === null ? 0 : this.now() - this.currentSinceMs;
  }

  /** One cycle; never throws. Concurrent calls wait for the running one rather than overlap. */
  async runCycle(): Promise<CycleReport> {
    while (this.current) await this.current;
    const p = this.cycle().finally(() => {
      this.current = null;
    });
    this.current = p;
    this.currentSinceMs = this.now();
    return p;
  }

  /** A cron tick: runs a cycle unless one is still running (then the tick is skipped and counted). */
  tick(): void {
    if (this.stopping) return;
    if (this.current) {
      this.counters.overlapsSkipped++;
      this.logger.warn('cycle still running; this tick is skipped', { skipped: this.counters.overlapsSkipped });
      try {
        this.opts.observer?.tickSkipped?.();
      } catch (e) {
        this.logger.error('metrics observer failed', { error: (e as Error).message });
      }
      return;
    }
    void this.runCycle();
  }

  private report(r: Omit<CycleReport, 'mode' | 'durationMs' | 'managedVms' | 'excludedVms' | 'deferred' | 'steps' | 'applied' | 'failed' | 'refused'> & Partial<CycleReport>): CycleReport {
    return {
      mode: this.settings.mode,
      durationMs: this.now() - r.startedAtMs,
      managedVms: 0,
      excludedVms: 0,
      deferred: [],
      steps: [],
      applied: [],
      failed: [],
      refused: [],
      ...r,
    };
  }

  private finish(r: CycleReport): CycleReport {
    this.counters.cycles++;
    this.last = r;
    try {
      this.opts.observer?.cycle(r, this);
    } catch (e) {
      this.logger.error('metrics observer failed', { error: (e as Error).message });
    }
    if (this.opts.stateDir) {
      this.status = statusFromReport(r, this.status, { pid: process.pid, now: new Date(this.now()), problem: this.healthProblem() });
      try {
        writeStatus(this.opts.stateDir, this.status);
      } catch (e) {
        this.logger.debug('cannot write status.json', { error: (e as Error).message }); // the checkpoint's own error says more
      }
    }
    return r;
  }

  private async cycle(): Promise<CycleReport> {
    const startedAtMs = this.now();
    const settings = this.settings;
    if (this.backoffUntil > startedAtMs) {
      return this.finish(this.report({ outcome: 'backoff', startedAtMs }));
    }
    let sample;
    try {
      await this.recoverInterrupted();
      sample = await this.backend.sample();
    } catch (e) {
      this.counters.hostErrors++;
      this.backoffDelayMs = this.backoffDelayMs === 0 ? settings.backoff.initialMs : Math.min(settings.backoff.maxMs, this.backoffDelayMs * 2);
      this.backoffUntil = this.now() + this.backoffDelayMs;
      const error = (e as Error).message;
      this.logger.error('cannot sample the host; backing off', { error, retryInMs: this.backoffDelayMs });
      return this.finish(this.report({ outcome: 'host-error', startedAtMs, error }));
    }
    this.logUnreadable(sample);
    if (this.backoffDelayMs > 0) {
      this.logger.info('host reachable again; resuming');
      this.backoffDelayMs = 0;
      this.backoffUntil = 0;
    }
    try {
      const warm = this.tracker.prevAtMs !== null;
      const t = trackLoads(this.tracker, sample, settings.load.windowCycles);
      this.tracker = t.state;
      if (!warm) {
        this.logger.info('first sample taken; loads need a second one', { vms: sample.vms.length });
        return this.finish(this.report({ outcome: 'warming-up', startedAtMs, sample }));
      }
      const view = buildHostView(sample.topology, settings);
      const cp = await planCycle({ sample, view, loads: t.loads, lastLoads: t.last, settings, churn: this.state.churn, hotplug: this.state.hotplug, solve: this.opts.solve, holdRule: true, clock: this.now });
      const { placement, planned: out, solveMs } = cp;
      for (const n of cp.notes) this.logger.warn(n);
      this.announceExclusions(cp.excluded);
      if (placement.status === 'infeasible') this.logger.warn(`no feasible placement; ${NO_PLACEMENT_FALLBACK}`, { reason: placement.reason });
      for (const v of out.violations) this.logger.info('correcting now', { vm: v.vm, why: v.reason });
      for (const r of cp.busy) this.logger.warn('left alone this cycle', { vm: r.vm, reason: r.reason });
      for (const r of out.refused) this.logger.warn('refused', { vm: r.vm, reason: r.reason });
      for (const l of cp.hotplug.log) this.logger.log(l.level, l.message, l.fields);
      for (const d of out.deferred) this.logger.debug('move waits', { vm: d.vm, why: d.reason });
      let exec: ExecuteResult | null = null;
      // No change without its journal record: while the state directory cannot be written nothing is
      // applied, and the cycle counts as executed with nothing done (hot-plugs are decided again).
      const journalDown = settings.mode === 'apply' && (cp.steps.length > 0 || this.journalProblem !== null) && !this.journalWritable();
      if (journalDown && cp.steps.length > 0) exec = { applied: [], failed: [], refusedSteps: [], refused: [], succeededVms: [], failedVms: [], notReached: [...new Set(cp.steps.map((s) => s.vm))] };
      else if (settings.mode === 'apply' && cp.steps.length > 0) {
        exec = await executePlan(this.backend, cp.steps, sample, {
          persistConfig: settings.persistConfig,
          journal: this.journal,
          shouldStop: () => this.stopping,
          onAction: (a) => this.logAction(a),
        });
        this.counters.stepsApplied += exec.applied.length;
        this.counters.stepsFailed += exec.failed.length;
        if (this.journal?.healthy?.() === false) this.journalWritable(`cannot write the journal: ${(this.journal as FileJournal).lastError?.message}; nothing more is applied until it can be written`);
      } else if (settings.mode === 'advisory') {
        this.logAdvice(cp.steps, cp.gains);
      }
      this.state = commitCycle(this.state, { decision: cp, executed: exec, listed: listedVms(sample) }, settings);
      this.checkpoint();
      const managed = sample.vms.filter((v) => v.running && !cp.excluded.has(v.name)).length;
      this.logger.info('cycle done', {
        mode: settings.mode,
        now: round(out.quality.now),
        planned: round(out.quality.planned),
        allLocal: round(out.quality.allLocal),
        steps: cp.steps.length,
        applied: exec?.applied.length ?? 0,
        failed: exec?.failed.length ?? 0,
        waiting: out.deferred.length,
      });
      return this.finish(
        this.report({
          outcome: 'ok',
          startedAtMs,
          steps: cp.steps,
          applied: exec?.applied ?? [],
          failed: exec?.failed ?? [],
          refused: [...cp.refused, ...(exec?.refused ?? [])],
          quality: out.quality,
          improvement: out.improvement,
          placementStatus: placement.status,
          solveMs,
          managedVms: managed,
          excludedVms: cp.excluded.size,
          deferred: out.deferred,
          plan: out,
          hotplug: cp.hotplug,
          decision: cp,
          sample,
          view,
        }),
      );
    } catch (e) {
      this.counters.cycleErrors++;
      const error = (e as Error).message;
      this.logger.error('cycle failed', { error });
      return this.finish(this.report({ outcome: 'error', startedAtMs, error }));
    }
  }

  /** Put back the VMs a killed predecessor left half-applied; throws (to back off) when the host cannot be reached. */
  private async recoverInterrupted(): Promise<void> {
    if (this.interrupted.length === 0 || !this.journal) return;
    const outcomes = await recoverInterrupted(this.backend, this.interrupted, this.journal);
    this.interrupted = [];
    for (const o of outcomes) {
      const fields = { vm: o.vm, began: o.at, undone: o.undone, problems: o.problems.join('; ') || undefined };
      if (o.result === 'rolled-back') this.logger.info('interrupted apply rolled back to the old settings', fields);
      else if (o.result === 'partial') this.logger.error('interrupted apply only partly rolled back', fields);
      else this.logger.warn('interrupted apply left alone', fields);
    }
    try {
      this.opts.observer?.recovered?.(outcomes);
    } catch (e) {
      this.logger.error('metrics observer failed', { error: (e as Error).message });
    }
  }

  /** Advisory mode: a step is logged when it first appears (and when it goes), not every cycle. */
  private logAdvice(steps: readonly Step[], gains: readonly number[]): void {
    const changes = this.advice.update(new Map(steps.map((s, i) => [JSON.stringify(s), { s, gain: gains[i] }])), () => '');
    for (const [, { s, gain }] of changes.added) this.logger.info(`advice: ${describeStep(s)}`, { vm: s.vm, step: s.kind, gain: round(gain), result: 'not applied (advisory mode)' });
    for (const k of changes.removed) {
      const s = JSON.parse(k) as Step;
      this.logger.info(`advice withdrawn: ${describeStep(s)}`, { vm: s.vm, step: s.kind });
    }
    if (steps.length && !changes.added.length) this.logger.debug('advice unchanged', { steps: steps.length });
  }

  /** VMs the host listed but could not be read: left out of the cycle (the others go on); said when it starts and ends. */
  private logUnreadable(sample: HostSample): void {
    for (const w of sample.warnings ?? []) this.logger.warn(w);
    const changes = this.unreadable.update(new Map((sample.skipped ?? []).map((x) => [x.vm, x.error.message])), (m) => m);
    for (const [vm, error] of [...changes.added, ...changes.changed]) this.logger.warn('VM left out: it cannot be read; the other VMs are managed as usual', { vm, error });
    for (const vm of changes.removed) this.logger.info('VM readable again (or gone)', { vm });
  }

  /** Log each VM left alone (excluded, another tool's) once, not every cycle. */
  private announceExclusions(excluded: ReadonlyMap<string, string>): void {
    const changes = this.exclusions.update(excluded, (why) => why);
    for (const [vm, why] of [...changes.added, ...changes.changed]) this.logger.warn('left alone', { vm, reason: why });
  }

  private logAction(a: ActionEvent): void {
    const level = a.result === 'applied' || a.result === 'rolled-back' ? 'info' : a.result === 'refused' ? 'warn' : 'error';
    this.logger.log(level, describeStep(a.step), { vm: a.vm, step: a.step.kind, result: a.result, error: a.error });
  }

  private checkpoint(): void {
    if (!this.opts.stateDir) return;
    try {
      saveState(this.opts.stateDir, this.state);
      this.checkpointProblem = null;
    } catch (e) {
      this.checkpointProblem = `cannot write the checkpoint in ${this.opts.stateDir}: ${(e as Error).message}`;
      this.logger.error('cannot write the checkpoint', { dir: this.opts.stateDir, error: (e as Error).message });
    }
  }

  /**
   * Applying needs a writable journal (no change without its record). Probes the state directory
   * (or takes `failure` from a write that just failed); says so when it starts and when it ends.
   */
  private journalWritable(failure?: string): boolean {
    if (!this.opts.stateDir) return true;
    const problem = failure ?? journalWriteProblem(this.opts.stateDir);
    if (problem && this.journalProblem === null) this.logger.error('applying stopped: the journal cannot be written', { dir: this.opts.stateDir, error: problem });
    if (problem) this.journalFailures++;
    if (!problem && this.journalProblem !== null) this.logger.info('the journal can be written again; applying resumes', { dir: this.opts.stateDir });
    this.journalProblem = problem;
    return problem === null;
  }

  /** What makes the daemon unhealthy though cycles complete (state directory not writable), or null. */
  healthProblem(): string | null {
    return this.journalProblem ?? this.checkpointProblem;
  }

  /** Replace the settings (SIGHUP). The schedule is re-armed when it changed. */
  applySettings(next: Settings): void {
    const scheduleChanged = next.schedule !== this.settings.schedule;
    this.settings = next;
    if (scheduleChanged && this.task) {
      void this.task.stop();
      this.schedule();
    }
  }

  async reload(): Promise<boolean> {
    if (!this.opts.reloadSettings) return false;
    try {
      const read = await this.opts.reloadSettings();
      // Keys built into what was made at start (connection, logger, metrics endpoint, state dir)
      // keep their running value; saying so beats a reload that silently does nothing.
      const stale = restartKeysChanged(this.settings, read);
      const next = stale.length > 0 ? keepRunningValues(read, this.settings, stale) : read;
      this.applySettings(next);
      this.logger.info('configuration reloaded', { mode: next.mode, schedule: next.schedule });
      if (stale.length > 0) this.logger.warn('configuration reloaded; these keys need a restart to take effect (running values kept)', { keys: stale.join(', ') });
      return true;
    } catch (e) {
      this.logger.error('configuration reload failed; keeping the running configuration', { error: (e as Error).message });
      return false;
    }
  }

  private schedule(): void {
    this.task = cron.schedule(this.settings.schedule, () => this.tick(), { logger: cronLogger(this.logger) });
  }

  /** Lock, checkpoint, schedule, signals. Resolves once running; `done()` resolves after stop(). */
  async start(opts: { signals?: boolean } = {}): Promise<void> {
    if (this.opts.stateDir) {
      this.lock = acquireLock(this.opts.stateDir);
      const loaded = loadState(this.opts.stateDir);
      if (loaded.problem) this.logger.error(loaded.problem);
      this.state = loaded.state;
      if (this.journal instanceof FileJournal) {
        const path = this.journal.path;
        this.interrupted = findInterrupted(readJournalTail(path, undefined, (line, problem) => this.logger.warn('skipping a malformed journal entry', { file: path, line, problem })));
      }
      if (this.interrupted.length) {
        this.logger.warn('the last run stopped in the middle of applying; those VMs go back to their old settings first', { vms: this.interrupted.map((i) => i.vm).join(',') });
      }
    }
    this.finished = new Promise((r) => (this.resolveFinished = r));
    this.schedule();
    if (opts.signals !== false) {
      const on = (sig: NodeJS.Signals, f: () => void) => {
        process.on(sig, f);
        this.signalHandlers.push([sig, f]);
      };
      on('SIGHUP', () => void this.reload());
      on('SIGTERM', () => void this.stop('SIGTERM'));
      on('SIGINT', () => void this.stop('SIGINT'));
    }
    this.logger.info('numaplace started', { mode: this.settings.mode, schedule: this.settings.schedule, host: this.backend.kind, stateDir: this.opts.stateDir ?? '(memory)' });
  }

  /** Finish the current VM's steps, checkpoint, release the lock. Idempotent. */
  async stop(why = 'stop'): Promise<void> {
    if (this.stopping) return this.finished ?? undefined;
    this.stopping = true;
    this.logger.info('stopping', { why });
    await this.task?.stop();
    await this.task?.destroy?.();
    this.task = null;
    if (this.current) await this.current;
    this.checkpoint();
    for (const [sig, f] of this.signalHandlers) process.off(sig, f);
    this.signalHandlers = [];
    try {
      await this.backend.close();
    } catch {
      // closing is best effort
    }
    this.lock?.release();
    this.lock = null;
    this.logger.info('stopped');
    this.resolveFinished?.();
  }

  /** Resolves once the daemon has stopped. */
  done(): Promise<void> {
    return this.finished ?? Promise.resolve();
  }
}

/** Every VM the host listed this cycle: those sampled and those it could not read (virsh backend's `skipped`). */
function listedVms(sample: HostSample): Set<string> {
  const names = new Set(sample.vms.map((v) => v.name));
  for (const s of sample.skipped ?? []) names.add(s.vm);
  return names;
}

function round(x: number | undefined): number | undefined {
  return x === undefined ? undefined : Math.round(x * 100) / 100;
}
