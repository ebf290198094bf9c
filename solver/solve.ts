/**
 * Entry points. `solve(problem)` runs the LP pipeline in a worker thread with a
 * hard deadline (options.timeLimitMs, default 1000 ms): the worker streams the
 * best verified placement so far; at the deadline it is terminated and the best
 * answer received is used (a greedy placement computed here in the caller's
 * thread at worst). javascript-lp-solver has been seen to loop forever, so
 * nothing it does may hold the caller beyond the deadline.
 * `solveInProcess` runs the same pipeline synchronously (benchmarks, tests).
 */
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { DEFAULTS } from './model.js';
import { runPipeline, type PipelineOptions } from './pipeline.js';
import type { WorkerInput, WorkerMessage } from './solve-worker.js';
import type { Placement, Problem } from './types.js';
import { verify } from './verify.js';

export interface SolveHooks {
  /** Test hook passed to the worker (see solve-worker.ts). */
  workerHook?: WorkerInput['hook'];
}

/** Share of the time limit the worker aims to finish in, leaving room to hand the answer over. */
const WORKER_SHARE = 0.85;

function better(a: Placement | undefined, b: Placement): boolean {
  if (!a || a.status === 'infeasible') return b.status !== 'infeasible';
  if (b.status === 'infeasible') return false;
  if ((b.objective ?? Infinity) < (a.objective ?? Infinity) - 1e-9) return true;
  // same answer with a better bound
  return (b.objective ?? Infinity) <= (a.objective ?? Infinity) + 1e-9 && (b.bound ?? -Infinity) > (a.bound ?? -Infinity);
}

export async function solve(problem: Problem, hooks: SolveHooks = {}): Promise<Placement> {
  const t0 = performance.now();
  const limit = problem.options?.timeLimitMs ?? DEFAULTS.timeLimitMs;
  const hardAt = t0 + limit;
  const answerBy = Date.now() + Math.max(1, limit * WORKER_SHARE - 20);
  const worker = new Worker(new URL('./solve-worker.js', import.meta.url), {
    workerData: { problem, answerBy, hook: hooks.workerHook } satisfies WorkerInput,
    resourceLimits: { maxOldGenerationSizeMb: 512 },
  });
  // Fallback computed here while the worker starts: greedy + a short local search.
  const fallback = runPipeline(problem, { greedyOnly: true, deadline: { now: () => performance.now(), at: t0 + limit * 0.25 } });
  let best: Placement | undefined = fallback;
  const notes: string[] = [];

  const result = await new Promise<Placement>((resolve) => {
    let settled = false;
    const finish = (why?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (why) notes.push(why);
      resolve(best ?? fallback);
    };
    const accept = (p: Placement) => {
      const v = verify(problem, p);
      if (v.length) {
        notes.push(`worker answer failed verification (${v[0]}${v.length > 1 ? `, +${v.length - 1} more` : ''}); kept the greedy placement`);
        return;
      }
      if (better(best, p)) best = p;
    };
    const remaining = Math.max(0, hardAt - performance.now());
    const timer = setTimeout(() => finish(`stopped at the ${limit} ms deadline; best answer so far`), remaining);
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.kind === 'progress') accept(msg.placement);
      else if (msg.kind === 'done') {
        if (msg.placement.status === 'infeasible' && best?.status !== 'infeasible') notes.push(`worker found no placement: ${msg.placement.reason}`);
        else if (msg.placement.status === 'infeasible') best = msg.placement;
        else accept(msg.placement);
        finish();
      } else finish(`solver worker failed: ${msg.message.split('\n')[0]}`);
    });
    worker.on('error', (e) => finish(`solver worker failed: ${e.message}`));
    worker.on('exit', () => finish());
  });
  const out: Placement = { ...result, solveMs: performance.now() - t0 };
  if (notes.length && out.status !== 'infeasible') {
    if (result === fallback) out.method = `${out.method ?? 'greedy'} (fallback)`;
    out.reason = [out.reason, ...notes].filter(Boolean).join('; ');
  }
  return out;
}

/** The same pipeline, synchronously in this thread, with an optional time budget. */
export function solveInProcess(problem: Problem, opts: Partial<Pick<PipelineOptions, 'lpHooks' | 'greedyOnly'>> & { timeLimitMs?: number } = {}): Placement {
  const t0 = performance.now();
  const limit = opts.timeLimitMs ?? problem.options?.timeLimitMs ?? DEFAULTS.timeLimitMs;
  const p = runPipeline(problem, { deadline: { now: () => performance.now(), at: t0 + limit }, lpHooks: opts.lpHooks, greedyOnly: opts.greedyOnly });
  return { ...p, solveMs: performance.now() - t0 };
}
