/**
 * numaplace itself: the real daemon cycle (Daemon.runCycle in apply mode: sample -> problem ->
 * solve -> plan with the churn rules -> execute, hot-plug included) on its own simulated host,
 * every 10 s as the default schedule has it, with the documented defaults apart from the
 * scenario's cpuOvercommit. Its own cost is measured around each cycle: process CPU time
 * (the solver's worker thread included) minus the CPU time spent inside the backend, and the
 * process's peak RSS and heap.
 */
import type { HostBackend } from '../../src/host/backend.js';
import { Daemon } from '../../src/daemon/loop.js';
import type { CycleReport } from '../../src/daemon/cycle.js';
import type { SolveFn } from '../../src/daemon/plan-cycle.js';
import type { Logger } from '../../src/daemon/log.js';
import { withSettings } from '../../src/daemon/settings.js';
import { CountingBackend } from '../closed-loop/counting-backend.js';
import type { Policy, PolicyRun } from './types.js';
import { NO_BALANCING } from './types.js';

export const NUMAPLACE_CYCLE_MS = 10_000;

/** Keeps the daemon quiet but remembers what went wrong, for the results. */
function quietLogger(problems: string[]): Logger {
  const log = (level: string, msg: string, fields?: Record<string, unknown>) => {
    if (level === 'error' && problems.length < 20) problems.push(`${msg} ${fields ? JSON.stringify(fields) : ''}`.trim());
  };
  return {
    log: (l, m, f) => log(l, m, f),
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (m, f) => log('error', m, f),
  };
}

class NumaplaceRun implements PolicyRun {
  private daemon: Daemon | null = null;
  private nowMs = 0;
  private readonly cpuMs: number[] = [];
  private peakRss = 0;
  private peakHeap = 0;
  readonly problems: string[] = [];
  readonly outcomes: Record<string, number> = {};
  last: CycleReport | null = null;

  constructor(private readonly cpuOvercommit: number, private readonly solve: SolveFn) {}

  notes() {
    return { outcomes: this.outcomes, problems: this.problems };
  }

  async act(backend: HostBackend, nowMs: number): Promise<number> {
    this.nowMs = nowMs;
    this.daemon ??= new Daemon({
      backend,
      settings: withSettings({ mode: 'apply', cpuOvercommit: this.cpuOvercommit }),
      solve: this.solve,
      logger: quietLogger(this.problems),
      stateDir: null,
      now: () => this.nowMs,
    });
    const counting = backend instanceof CountingBackend ? backend : null;
    const backendBefore = counting?.backendCpuUs ?? 0;
    const cpu0 = process.cpuUsage();
    const report = await this.daemon.runCycle();
    const cpu = process.cpuUsage(cpu0);
    const backendUs = (counting?.backendCpuUs ?? 0) - backendBefore;
    this.cpuMs.push(Math.max(0, cpu.user + cpu.system - backendUs) / 1000);
    const mem = process.memoryUsage();
    this.peakRss = Math.max(this.peakRss, mem.rss);
    this.peakHeap = Math.max(this.peakHeap, mem.heapUsed);
    this.outcomes[report.outcome] = (this.outcomes[report.outcome] ?? 0) + 1;
    if (report.error && this.problems.length < 20) this.problems.push(report.error);
    this.last = report;
    return NUMAPLACE_CYCLE_MS;
  }

  cost() {
    return { cycles: this.cpuMs.length, cpuMsPerCycle: this.cpuMs, peakRssMiB: this.peakRss / 2 ** 20, peakHeapMiB: this.peakHeap / 2 ** 20 };
  }
}

/** `solve` is the daemon's solver (solver/solve.ts `solve`, a worker thread with a hard deadline). */
export function numaplacePolicy(solve: SolveFn): Policy {
  return {
    name: 'numaplace',
    description: 'numaplace: the daemon cycle in apply mode every 10 s, default configuration',
    host: NO_BALANCING,
    create: (ctx) => new NumaplaceRun(ctx.cpuOvercommit, solve),
  };
}
