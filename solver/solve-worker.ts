/**
 * Worker thread running the LP pipeline (solver/solve.ts starts it and kills it at
 * the deadline). Streams every better verified placement, then the final one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { runPipeline } from './pipeline.js';
import type { LpHooks } from './lp.js';
import type { Placement, Problem } from './types.js';

export type WorkerMessage = { kind: 'progress'; placement: Placement } | { kind: 'done'; placement: Placement } | { kind: 'error'; message: string };
export interface WorkerInput {
  problem: Problem;
  /** Wall-clock ms (Date.now()) at which the worker should have answered. */
  answerBy: number;
  /** Test hooks: 'hang-lp' makes every LP call loop forever; 'hang-start' hangs before any work. */
  hook?: 'hang-lp' | 'hang-start';
}

const input = workerData as WorkerInput;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);

function hang(): never {
  for (;;) {
    // deliberately endless: stands in for the library's simplex loop that never returns
  }
}

try {
  if (input.hook === 'hang-start') hang();
  const lpHooks: LpHooks | undefined = input.hook === 'hang-lp' ? { beforeSolve: () => hang() } : undefined;
  const at = performance.now() + (input.answerBy - Date.now());
  const placement = runPipeline(input.problem, {
    deadline: { now: () => performance.now(), at },
    report: (p) => post({ kind: 'progress', placement: p }),
    lpHooks,
  });
  post({ kind: 'done', placement });
} catch (e) {
  post({ kind: 'error', message: (e as Error).stack ?? String(e) });
}
