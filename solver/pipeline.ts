/**
 * The decomposition, run synchronously (inside the solve worker, or in process
 * for benchmarks): greedy starts + local search, then LP relaxation with column
 * generation (javascript-lp-solver) for capacity prices and a Lagrangian lower
 * bound, priced greedy, reduced-cost fixing, and a small exact MILP over the VMs
 * still in doubt, widening the fixing threshold until the gap is proven. Ruin and
 * recreate before and after the LP stage; on hosts with memory-only nodes, a memory
 * repack (memory-repack.ts) around it.
 * Every improvement is reported through `report` as a verified placement.
 * The clock is only read through the deadline passed in.
 */
import { decode } from './decode.js';
import { greedy, localSearch, selectionFits, totalCost, type Deadline } from './greedy.js';
import { buildModel, DEFAULTS, type Column, type Model } from './model.js';
import { improveWithLp, lagrangeBound, type LpHooks } from './lp-stage.js';
import type { Placement, Problem } from './types.js';
import { evaluate, verify } from './verify.js';
import { effortUsed, guardHit, subDeadline } from './effort.js';
import { ruinRecreate } from './lns.js';
import { memoryRepack } from './memory-repack.js';
import { EXACT_SEARCH_MAX_ITEMS } from './exact-search.js';

/**
 * Effort budget of one solve (units of solver/effort.ts), scaled to the problem: enough
 * for the starts, column generation and the exact MILPs on the sizes the bench covers,
 * calibrated so that it is spent in well under the default 1 s on a loaded 2-core machine.
 */
/** Shares of the effort budget: local search of each start, then ruin and recreate before the LP stage. */
const LS_SHARE = 0.05;
const RR_SHARE = 0.25;

export function effortBudget(problem: Problem): number {
  const N = problem.topology.nodes.length;
  const n = problem.vms.length;
  return Math.round(Math.min(1.6e7, Math.max(1.5e6, 100 * n * N * N)));
}

export interface Progress {
  placement: Placement;
}

export interface PipelineOptions {
  deadline: Deadline;
  /** Called with each better verified placement (and improved bounds). */
  report?: (p: Placement) => void;
  /** Test hooks into the LP stage (e.g. a model that never returns). */
  lpHooks?: LpHooks;
  /** Skip the LP stages: the greedy + local search answer only. */
  greedyOnly?: boolean;
}

export function infeasible(reason: string, method = 'presolve'): Placement {
  return { status: 'infeasible', vms: [], reason, method };
}

/** Simple necessary conditions, so an impossible problem gets a reason a user can act on. */
export function obviousInfeasibility(m: Model): string | undefined {
  if (m.infeasible.length) return m.infeasible.join('; ');
  const N = m.N;
  const memFree = m.cap.slice(2 * N).reduce((a, b) => a + b, 0);
  for (const it of m.items) {
    const have = it.cur ? it.cur.mem.reduce((a, b) => a + b, 0) : 0;
    if (it.memoryMiB - have > memFree + 1e-9) return `VM ${it.name} needs ${it.memoryMiB} MiB of memory but all nodes together have ${memFree} MiB free (plus ${have} MiB it already holds)`;
    if (it.explicit.length === 0 && !(it.pairs && it.pairCpuOk.some(Boolean) && it.pairMemOk.some(Boolean))) {
      return `VM ${it.name} (${it.loads.length} vCPUs, load ${it.load.toFixed(2)}, ${it.memoryMiB} MiB${it.dedicated ? ', dedicated' : ''}) fits on no node nor any split over the nearest nodes`;
    }
  }
  const need = m.items.reduce((s, it) => s + Math.max(0, it.memoryMiB - (it.cur ? it.cur.mem.reduce((a, b) => a + b, 0) : 0)), 0);
  if (need > memFree + 1e-9) return `the VMs need ${need} MiB of new memory but the nodes have ${memFree} MiB free`;
  const cpuFree = m.cap.slice(0, N).reduce((a, b) => a + b, 0);
  const load = m.items.reduce((s, it) => s + it.load, 0);
  if (load > cpuFree + 1e-9) return `the VMs' load ${load.toFixed(2)} exceeds the CPU capacity left for them (${cpuFree.toFixed(2)})`;
  return undefined;
}

export interface Incumbent {
  m: Model;
  sel: Column[];
  cost: number;
  method: string;
}

/**
 * A measured placement with its proof: `bound` is the model's (movable VMs only), the objective
 * counts every VM, so the fixed VMs' constant cost joins the bound before the two are compared.
 */
function withBound(p: Placement, m: Model, bound: number, tol: number): Placement {
  const obj = p.objective!;
  const b = Math.min(bound + m.fixedCost, obj);
  const gap = obj > 0 ? Math.max(0, (obj - b) / obj) : 0;
  return { ...p, bound: b, gap, status: gap <= tol ? 'optimal' : p.status };
}

/** Decode, verify and measure a selection; undefined (with the violations) when it fails verification. */
export function toPlacement(problem: Problem, inc: Incumbent, bound: number | undefined, tol: number): { placement?: Placement; violations: string[] } {
  const placement = decode(inc.m, inc.sel, { status: 'feasible', method: inc.method });
  const violations = verify(problem, placement);
  if (violations.length) return { violations };
  const ev = evaluate(problem, placement);
  placement.cost = ev.quality;
  placement.objective = ev.objective;
  placement.moves = ev.moves;
  return { placement: bound === undefined ? placement : withBound(placement, inc.m, bound, tol), violations };
}

export function runPipeline(problem: Problem, opts: PipelineOptions): Placement {
  const dl = opts.deadline;
  const effort0 = effortUsed();
  const tol = problem.options?.gapTolerance ?? DEFAULTS.gapTolerance;
  let m = buildModel(problem);
  const why = obviousInfeasibility(m);
  if (why) return infeasible(why);

  let best: Incumbent | undefined;
  let bestPlacement: Placement | undefined;
  let bound: number | undefined;
  const rejected: string[] = [];
  const offer = (mm: Model, sel: Column[] | undefined, method: string): boolean => {
    if (!sel || !selectionFits(mm, sel)) return false;
    const cost = totalCost(sel);
    if (best && cost >= best.cost - 1e-9 * Math.max(1, Math.abs(best.cost))) return false;
    const inc = { m: mm, sel, cost, method };
    const { placement } = toPlacement(problem, inc, bound, tol);
    if (!placement) return false; // the model and verify disagree: keep the previous answer
    best = inc;
    bestPlacement = placement;
    opts.report?.(placement);
    return true;
  };

  const starts = (mm: Model, tag: string) => {
    // Every VM on its cheapest column, capacity ignored: a start that reaches it is optimal.
    const floor = lagrangeBound(mm, new Array(mm.cap.length).fill(0)).bound;
    let top: [Column[], string] | undefined;
    // With no VM placed yet both starts are the same: one is enough.
    const strategies = mm.items.some((it) => it.cur) ? (['stay-first', 'cost-first'] as const) : (['cost-first'] as const);
    for (const s of strategies) {
      const g = greedy(mm, s);
      if (!g) continue;
      const ls = localSearch(mm, g, subDeadline(dl, LS_SHARE));
      if (!top || totalCost(ls) < totalCost(top[0]) - 1e-9) top = [ls, `greedy(${s}${tag})+local-search`];
      if (totalCost(top[0]) <= floor + 1e-9 * Math.max(1, Math.abs(floor))) break;
    }
    if (top) offer(mm, top[0], top[1]);
  };
  starts(m, '');
  if (!best) {
    // No whole-VM start fits: let every VM split over its nearest nodes.
    m = buildModel(problem, { splitAll: true });
    starts(m, ',split');
  }
  const provenOptimal = () => bestPlacement?.status === 'optimal';
  const rr = (share: number, seed: number) => {
    if (!best || best.m !== m || provenOptimal() || dl.now() >= dl.at) return;
    const sel = ruinRecreate(m, best.sel, subDeadline(dl, share), { seed });
    offer(m, sel, `${best.method.replace(/\+ruin-recreate$/, '')}+ruin-recreate`);
  };
  // With memory-only nodes, which VMs keep local memory is a knapsack the moves above leave slowly:
  // memory repacked as one, then local search from there; again while it improves.
  const memoryOnly = m.sharedCpus.some((cpus, n) => cpus.length === 0 && m.cap[2 * m.N + n] > 0);
  const repack = () => {
    for (let k = 0; k < 3 && memoryOnly; k++) {
      if (!best || best.m !== m || provenOptimal() || dl.now() >= dl.at) return;
      const sel = memoryRepack(m, best.sel);
      if (!sel || !offer(m, localSearch(m, sel, subDeadline(dl, LS_SHARE)), `${best.method.replace(/\+memory-repack$/, '')}+memory-repack`)) return;
    }
  };
  if (!opts.greedyOnly) {
    repack();
    // A host with few VMs goes straight to the LP stage, whose exact search supersedes this.
    if (m.items.length > EXACT_SEARCH_MAX_ITEMS) rr(RR_SHARE, 1);
    repack();
  }
  if (!opts.greedyOnly && dl.now() < dl.at && !provenOptimal()) {
    improveWithLp(m, best?.sel, dl, {
      offer: (sel, method) => offer(m, sel, method),
      reject: (why) => rejected.push(why),
      bound: (b) => {
        if (bound !== undefined && b <= bound) return;
        bound = b;
        if (bestPlacement && bestPlacement.objective !== undefined) {
          // same (verified) placement, better proof: update the bound fields only
          bestPlacement = withBound(bestPlacement, m, b, tol);
          opts.report?.(bestPlacement);
        }
      },
      incumbentCost: () => best?.cost,
      incumbent: () => best?.m === m ? best.sel : undefined,
    }, opts.lpHooks, tol);
  }
  if (!opts.greedyOnly) {
    repack();
    rr(1, 2);
  }
  const used = effortUsed() - effort0;
  if (bestPlacement && guardHit()) rejected.push(`stopped by the time guard before its effort budget (${Math.round(used)} of ${dl.at} units): the answer depends on machine load`);
  if (bestPlacement && rejected.length) {
    bestPlacement.reason = `${rejected[0]}${rejected.length > 1 ? ` (and ${rejected.length - 1} more)` : ''}; answer from ${bestPlacement.method}`;
  }
  if (!bestPlacement) return infeasible('no feasible placement found: the VMs do not fit the nodes\' CPU and memory together (no start fits and the LP/MILP found none within the time limit)', 'greedy+lp');
  return bestPlacement;
}
