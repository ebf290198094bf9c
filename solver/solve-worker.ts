/**
 * Worker thread running the LP pipeline. solver/solve.ts keeps one warm worker
 * (module loading and JIT warm-up are paid once, not per solve), sends it one job
 * at a time, and terminates it when a job overruns its deadline (the LP library has
 * been seen to loop forever). Streams every better verified placement, then the final one.
 */
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { effortBudget, runPipeline } from './pipeline.js';
import { effortDeadline } from './effort.js';
import type { LpHooks } from './lp.js';
import type { Placement, Problem } from './types.js';

export type WorkerMessage =
  | { job: number; kind: 'progress'; placement: Placement }
  | { job: number; kind: 'done'; placement: Placement }
  | { job: number; kind: 'error'; message: string };

export interface WorkerJob {
  job: number;
  problem: Problem;
  /** Wall-clock ms (Date.now()) by which the worker should have answered. */
  answerBy: number;
  /** Test hooks: 'hang-lp' makes every LP call loop forever; 'hang-start' hangs before any work. */
  hook?: 'hang-lp' | 'hang-start';
  /** Effort budget (solver/effort.ts); default effortBudget(problem). */
  effort?: number;
}

function hang(): never {
  for (;;) {
    // deliberately endless: stands in for the library's simplex loop that never returns
  }
}

parentPort!.on('message', (input: WorkerJob) => {
  const post = (m: WorkerMessage) => parentPort!.postMessage(m);
  try {
    if (input.hook === 'hang-start') hang();
    const lpHooks: LpHooks | undefined = input.hook === 'hang-lp' ? { beforeSolve: () => hang() } : undefined;
    const at = performance.now() + (input.answerBy - Date.now());
    const placement = runPipeline(input.problem, {
      // counted effort stops the search; the clock only guards the answer time
      deadline: effortDeadline(input.effort ?? effortBudget(input.problem), { now: () => performance.now(), at }),
      report: (p) => post({ job: input.job, kind: 'progress', placement: p }),
      lpHooks,
    });
    post({ job: input.job, kind: 'done', placement });
  } catch (e) {
    post({ job: input.job, kind: 'error', message: (e as Error).stack ?? String(e) });
  }
});
