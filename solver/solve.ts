/**
 * Entry points. `solve(problem)` runs the LP pipeline in a worker thread with a
 * hard deadline (options.timeLimitMs, default 1000 ms): the worker streams the
 * best verified placement so far; at the deadline it is terminated and the best
 * answer received is used (a greedy placement computed here in the caller's
 * thread at worst). The worker is kept between solves (unref'd while idle), and
 * warmUp() makes it warm from the start. javascript-lp-solver has been seen to loop forever, so
 * nothing it does may hold the caller beyond the deadline.
 * `solveInProcess` runs the same pipeline synchronously (benchmarks, tests).
 */
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { DEFAULTS } from './model.js';
import { effortBudget, infeasible, runPipeline, type PipelineOptions } from './pipeline.js';
import { effortDeadline } from './effort.js';
import type { WorkerJob, WorkerMessage } from './solve-worker.js';
import type { Placement, Problem } from './types.js';
import { verify } from './verify.js';
import { warmUpProblem } from './warm-up.js';

export interface SolveHooks {
  /** Test hook passed to the worker (see solve-worker.ts). */
  workerHook?: WorkerJob['hook'];
  /** Effort budget instead of effortBudget(problem) (tests, benchmarks). */
  effort?: number;
}

/** Share of the time limit the worker aims to finish in, leaving room to hand the answer over. */
const WORKER_SHARE = 0.85;
/** Share of the time limit after which the caller computes its own greedy fallback if the worker has sent nothing. */
const FALLBACK_AT = 0.2;

function better(a: Placement | undefined, b: Placement): boolean {
  if (!a || a.status === 'infeasible') return b.status !== 'infeasible';
  if (b.status === 'infeasible') return false;
  if ((b.objective ?? Infinity) < (a.objective ?? Infinity) - 1e-9) return true;
  // same answer with a better bound
  return (b.objective ?? Infinity) <= (a.objective ?? Infinity) + 1e-9 && (b.bound ?? -Infinity) > (a.bound ?? -Infinity);
}

/** One warm worker, reused while it behaves; a busy or killed one is replaced. */
let idle: Worker | undefined;
let jobs = 0;

function takeWorker(): Worker {
  const w = idle ?? new Worker(new URL('./solve-worker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 512 } });
  idle = undefined;
  w.ref();
  return w;
}

function giveBack(w: Worker) {
  if (idle) {
    void w.terminate();
    return;
  }
  w.removeAllListeners('message');
  w.removeAllListeners('error');
  w.removeAllListeners('exit');
  w.once('exit', () => {
    if (idle === w) idle = undefined;
  });
  w.on('error', () => {
    if (idle === w) idle = undefined;
  });
  w.unref(); // an idle worker must not keep the process alive
  idle = w;
}

/** Effort of the warm-up solve: every stage runs many times over, at a fraction of a real solve's budget. */
const WARM_UP_EFFORT = 4e5;
/** Guard of the warm-up solve (it is effort-bound; this only stops a worker the LP library hangs). */
const WARM_UP_LIMIT_MS = 3000;
let warming: Promise<unknown> | undefined;

/**
 * Create the solver worker and send a synthetic problem (warm-up.ts) through every stage of the
 * pipeline, so the first real solve runs on optimised code (the daemon calls this at start). Cold,
 * the first solve of a 256-VM host with memory-only nodes was deadline-bound and its answer
 * changed run to run. A solve() called meanwhile waits for it rather than starting a second,
 * cold worker. Resolves with the warm-up's wall time.
 */
export async function warmUp(): Promise<number> {
  const t0 = performance.now();
  warming ??= solveNow({ ...warmUpProblem(), options: { timeLimitMs: WARM_UP_LIMIT_MS } }, { effort: WARM_UP_EFFORT });
  await warming;
  return performance.now() - t0;
}

export async function solve(problem: Problem, hooks: SolveHooks = {}): Promise<Placement> {
  if (warming) await warming;
  return solveNow(problem, hooks);
}

async function solveNow(problem: Problem, hooks: SolveHooks): Promise<Placement> {
  const t0 = performance.now();
  const limit = problem.options?.timeLimitMs ?? DEFAULTS.timeLimitMs;
  const hardAt = t0 + limit;
  const job = ++jobs;
  const worker = takeWorker();
  const notes: string[] = [];
  let best: Placement | undefined;
  let fallback: Placement | undefined;
  // The greedy start, no local search (cheap): what is used if the worker gives nothing.
  const computeFallback = () => {
    fallback = runPipeline(problem, { greedyOnly: true, deadline: { now: () => performance.now(), at: t0 } });
    if (better(best, fallback)) best = fallback;
  };
  const result = new Promise<Placement>((resolve) => {
    let settled = false;
    const finish = (why: string | undefined, reuse: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(fallbackTimer);
      if (!best && !fallback) computeFallback();
      if (reuse) giveBack(worker);
      else void worker.terminate();
      if (why) notes.push(why);
      resolve(best ?? fallback ?? infeasible('no placement: the solver worker gave no answer', 'none'));
    };
    // The final answer replaces an equal streamed one: it carries the reason (e.g. that the time guard stopped it).
    const accept = (p: Placement, final = false) => {
      const v = verify(problem, p);
      if (v.length) {
        notes.push(`worker answer failed verification (${v[0]}${v.length > 1 ? `, +${v.length - 1} more` : ''}); kept the greedy placement`);
        return;
      }
      if (better(best, p) || (final && best && !better(p, best))) best = p;
    };
    const timer = setTimeout(() => finish(`stopped at the ${limit} ms deadline; best answer so far`, false), Math.max(0, hardAt - performance.now()));
    // The greedy fallback is computed here only when the worker has sent nothing by FALLBACK_AT of the deadline
    // (it streams its first answer early): on a shared machine its CPU is better left to the worker.
    const fallbackTimer = setTimeout(() => {
      if (!best && !settled) computeFallback();
    }, Math.max(0, t0 + limit * FALLBACK_AT - performance.now()));
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.job !== job) return;
      if (msg.kind === 'progress') accept(msg.placement);
      else if (msg.kind === 'done') {
        if (msg.placement.status === 'infeasible' && best && best.status !== 'infeasible') notes.push(`worker found no placement: ${msg.placement.reason}`);
        else if (msg.placement.status === 'infeasible') best = msg.placement;
        else accept(msg.placement, true);
        finish(undefined, true);
      } else finish(`solver worker failed: ${msg.message.split('\n')[0]}`, false);
    });
    worker.on('error', (e) => finish(`solver worker failed: ${e.message}`, false));
    worker.on('exit', () => finish('solver worker exited', false));
    worker.postMessage({ job, problem, answerBy: Date.now() + Math.max(1, limit * WORKER_SHARE - 20), hook: hooks.workerHook, effort: hooks.effort } satisfies WorkerJob);
  });
  const out: Placement = { ...(await result), solveMs: performance.now() - t0 };
  if (notes.length && out.status !== 'infeasible') out.reason = [out.reason, ...notes].filter(Boolean).join('; ');
  return out;
}

/**
 * The same pipeline, synchronously in this thread, with an optional time budget.
 * Not protected against the LP library looping forever (only the worker is): for
 * tests and benchmarks on instances known to behave, never for the daemon.
 */
export function solveInProcess(problem: Problem, opts: Partial<Pick<PipelineOptions, 'lpHooks' | 'greedyOnly'>> & { timeLimitMs?: number; effort?: number } = {}): Placement {
  const t0 = performance.now();
  const limit = opts.timeLimitMs ?? problem.options?.timeLimitMs ?? DEFAULTS.timeLimitMs;
  const deadline = effortDeadline(opts.effort ?? effortBudget(problem), { now: () => performance.now(), at: t0 + limit });
  const p = runPipeline(problem, { deadline, lpHooks: opts.lpHooks, greedyOnly: opts.greedyOnly });
  return { ...p, solveMs: performance.now() - t0 };
}
