/**
 * The daemon around the cycle (runCycle in cycle.ts): the schedule (one cycle at a time: a tick
 * that arrives while a cycle still runs is skipped and counted), the state-directory lock, the
 * checkpoint and the journal's crash recovery at start, the signals (SIGHUP reloads the config,
 * SIGTERM/SIGINT finish the current VM's steps and stop), and the status file.
 *
 * `runCycle()` needs no cron (tests and benchmarks step it); `start()` adds the rest.
 */
import cron from 'node-cron';
import { FileJournal } from '../apply/journal.js';
import { interruptedApplies } from '../apply/recovery.js';
import { keepRunningValues, restartKeysChanged } from '../core/config-table.js';
import type { HostBackend } from '../host/backend.js';
import { backoffRemainingMs } from './backoff.js';
import { cronLogger } from './cron-logger.js';
import { freshCycleState, healthProblem, observers, runCycle, type CycleDeps, type CycleObserver, type CycleReport, type CycleState } from './cycle.js';
import { acquireLock, type Lock } from './lock.js';
import type { Logger } from './log.js';
import type { SolveFn } from './plan-cycle.js';
import type { Settings } from './settings.js';
import { loadState, saveState, type DaemonState } from './state.js';
import { statusObserver } from './status.js';

export interface DaemonCounters {
  cycles: number;
  overlapsSkipped: number;
  hostErrors: number;
  cycleErrors: number;
  stepsApplied: number;
  stepsFailed: number;
}

export interface DaemonOptions {
  backend: HostBackend;
  settings: Settings;
  solve: SolveFn;
  logger: Logger;
  /** Where the checkpoint, journal, lock and status live; null keeps state in memory only (tests, benchmarks). */
  stateDir: string | null;
  observer?: CycleObserver;
  /** Re-reads the configuration on SIGHUP; throws when the new one is invalid. */
  reloadSettings?: () => Settings | Promise<Settings>;
  /** Wall clock (ms) for backoff; injectable for tests. */
  now?: () => number;
}

export class Daemon {
  settings: Settings;
  readonly counters: DaemonCounters = { cycles: 0, overlapsSkipped: 0, hostErrors: 0, cycleErrors: 0, stepsApplied: 0, stepsFailed: 0 };
  /** Last cycle's report (metrics, tests). */
  last: CycleReport | null = null;
  private cycleState: CycleState = freshCycleState();
  private readonly deps: CycleDeps;
  private current: Promise<CycleReport> | null = null;
  private currentSinceMs = 0;
  private stopping = false;
  private task: { stop(): void | Promise<void>; destroy?(): void | Promise<void> } | null = null;
  private lock: Lock | null = null;
  private readonly journal: FileJournal | undefined;
  private signalHandlers: [NodeJS.Signals, () => void][] = [];
  private finished: Promise<void> | null = null;
  private resolveFinished: (() => void) | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: DaemonOptions) {
    this.settings = opts.settings;
    this.now = opts.now ?? Date.now;
    const dir = opts.stateDir;
    if (dir) this.journal = new FileJournal(dir);
    const status = dir ? [statusObserver(dir, opts.logger, this.now)] : [];
    this.deps = {
      backend: opts.backend,
      solve: opts.solve,
      logger: opts.logger,
      now: this.now,
      holdRule: true,
      journal: this.journal,
      stateDir: dir,
      ...(dir ? { checkpoint: (state: DaemonState) => this.checkpoint(dir, state) } : {}),
      observer: observers(...(opts.observer ? [opts.observer] : []), ...status),
      shouldStop: () => this.stopping,
    };
  }

  get backend(): HostBackend {
    return this.opts.backend;
  }

  get logger(): Logger {
    return this.opts.logger;
  }

  /** What the checkpoint keeps (applied settings, churn, hot-plug). */
  get state(): DaemonState {
    return this.cycleState.daemon;
  }

  /** Milliseconds until the next try while backing off, else 0. */
  backoffRemainingMs(): number {
    return backoffRemainingMs(this.cycleState.backoff, this.now());
  }

  /** A cycle is running now. */
  busy(): boolean {
    return this.current !== null;
  }

  /** How long the running cycle has run (ms), 0 when none runs: what the systemd watchdog watches. */
  cycleRunningForMs(): number {
    return this.current === null ? 0 : this.now() - this.currentSinceMs;
  }

  /** What makes the daemon unhealthy though cycles complete (state directory not writable), or null. */
  healthProblem(): string | null {
    return healthProblem(this.cycleState);
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
        this.deps.observer?.tickSkipped?.();
      } catch (e) {
        this.logger.error('cycle observer failed', { error: (e as Error).message });
      }
      return;
    }
    void this.runCycle();
  }

  private async cycle(): Promise<CycleReport> {
    const { report, state } = await runCycle(this.deps, this.cycleState, this.settings);
    this.cycleState = state;
    this.count(report);
    this.last = report;
    return report;
  }

  private count(r: CycleReport): void {
    const c = this.counters;
    c.cycles++;
    if (r.outcome === 'host-error') c.hostErrors++;
    if (r.outcome === 'error') c.cycleErrors++;
    c.stepsApplied += r.applied.length;
    c.stepsFailed += r.failed.length;
  }

  /** Writes the checkpoint; returns what went wrong (logged too), or null. */
  private checkpoint(dir: string, state: DaemonState): string | null {
    try {
      saveState(dir, state);
      return null;
    } catch (e) {
      this.logger.error('cannot write the checkpoint', { dir, error: (e as Error).message });
      return `cannot write the checkpoint in ${dir}: ${(e as Error).message}`;
    }
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

  /** Lock, checkpoint, crash recovery (done by the first cycle), schedule, signals. Resolves once running; `done()` resolves after stop(). */
  async start(opts: { signals?: boolean } = {}): Promise<void> {
    if (this.opts.stateDir) {
      this.lock = acquireLock(this.opts.stateDir);
      const loaded = loadState(this.opts.stateDir);
      if (loaded.problem) this.logger.error(loaded.problem);
      const path = this.journal!.path;
      const interrupted = interruptedApplies(path, (line, problem) => this.logger.warn('skipping a malformed journal entry', { file: path, line, problem }));
      if (interrupted.length) {
        this.logger.warn('the last run stopped in the middle of applying; those VMs go back to their old settings first', { vms: interrupted.map((i) => i.vm).join(',') });
      }
      this.cycleState = freshCycleState(loaded.state, interrupted);
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
    if (this.opts.stateDir) this.cycleState = { ...this.cycleState, checkpointProblem: this.checkpoint(this.opts.stateDir, this.cycleState.daemon) };
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
