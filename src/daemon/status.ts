/**
 * status.json in the state directory: what the daemon is doing, rewritten at the end of every
 * cycle (temp file + rename, mode 0600) for `numaplace status`. Informational: never read back by
 * the daemon, so it is not fsynced.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeStep, type FailedStep, type Quality, type Refusal, type Step } from '../core/steps.js';
import type { CycleObserver } from './cycle.js';
import type { Logger } from './log.js';

export const STATUS_FILE = 'status.json';

export interface DaemonStatus {
  pid: number;
  writtenAt: string;
  mode: 'advisory' | 'apply';
  lastCycle: { startedAt: string; durationMs: number; outcome: string; error?: string; steps: number; applied: number; failed: number; placement?: string };
  lastSuccessfulCycleAt: string | null;
  /** The quality measure now, planned and all-local (lower is better), from the last cycle that solved. */
  quality: Quality | null;
  /** Changes waiting: moves held back by the churn rules, and in advisory mode the advice not applied. */
  pending: { vm: string; what: string }[];
  refusals: { vm: string; reason: string }[];
  leftAlone: { vm: string; why: string }[];
  /** Why the daemon is unhealthy though it runs (e.g. the journal cannot be written), or null. */
  problem: string | null;
}

/** What a cycle report (src/daemon/cycle.ts) gives the status. */
export interface CycleFacts {
  outcome: string;
  mode: 'advisory' | 'apply';
  startedAtMs: number;
  durationMs: number;
  error?: string;
  steps: readonly Step[];
  applied: readonly Step[];
  failed: readonly FailedStep[];
  refused: readonly Refusal[];
  quality?: Quality;
  placementStatus?: string;
  deferred: readonly { vm: string; reason: string }[];
  decision?: { excluded: ReadonlyMap<string, string> };
}

export function statusFromReport(r: CycleFacts, previous: DaemonStatus | null, extra: { pid: number; now: Date; problem: string | null }): DaemonStatus {
  const ran = r.outcome === 'ok';
  const advice = r.mode === 'advisory' ? r.steps.map((s) => ({ vm: s.vm, what: `advice: ${describeStep(s)}` })) : [];
  return {
    pid: extra.pid,
    writtenAt: extra.now.toISOString(),
    mode: r.mode,
    lastCycle: {
      startedAt: new Date(r.startedAtMs).toISOString(),
      durationMs: r.durationMs,
      outcome: r.outcome,
      ...(r.error ? { error: r.error } : {}),
      steps: r.steps.length,
      applied: r.applied.length,
      failed: r.failed.length,
      ...(r.placementStatus ? { placement: r.placementStatus } : {}),
    },
    lastSuccessfulCycleAt: ran ? extra.now.toISOString() : (previous?.lastSuccessfulCycleAt ?? null),
    quality: r.quality ?? previous?.quality ?? null,
    pending: ran ? [...r.deferred.map((d) => ({ vm: d.vm, what: `waits: ${d.reason}` })), ...advice] : (previous?.pending ?? []),
    refusals: ran ? r.refused.map((x) => ({ vm: x.vm, reason: x.reason })) : (previous?.refusals ?? []),
    leftAlone: ran && r.decision ? [...r.decision.excluded].map(([vm, why]) => ({ vm, why })) : (previous?.leftAlone ?? []),
    problem: extra.problem,
  };
}

/** Rewrites status.json in `dir` after every cycle, from the report and the daemon's health. */
export function statusObserver(dir: string, logger: Logger, now: () => number): CycleObserver {
  let status: DaemonStatus | null = null;
  return {
    cycle(r, health) {
      status = statusFromReport(r, status, { pid: process.pid, now: new Date(now()), problem: health.problem });
      try {
        writeStatus(dir, status);
      } catch (e) {
        logger.debug('cannot write status.json', { error: (e as Error).message }); // the checkpoint's own error says more
      }
    },
  };
}

export function writeStatus(dir: string, status: DaemonStatus): void {
  const path = join(dir, STATUS_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(status, null, 1) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}
