/**
 * LP-based improvement and proof, on the column model:
 * 1. column generation: restricted master LP (javascript-lp-solver) over a few
 *    columns per VM, capacity prices read from its tableau, all columns priced in
 *    plain code; on large models (where the library's dense tableau is too slow)
 *    the prices come from subgradient steps on the Lagrangian dual instead;
 * 2. the lower bound is always the Lagrangian bound computed here, over ALL
 *    columns, from whatever prices we have: valid for any prices >= 0, so a
 *    wrong dual can weaken it but never make it lie;
 * 3. priced greedy + local search from those prices;
 * 4. reduced-cost fixing (a column whose reduced cost exceeds upper - lower bound
 *    can be in no better solution) and an exact MILP over the VMs still in doubt,
 *    restricted to columns with reduced cost <= g, doubling g until the gap is
 *    proven or time runs out: min(MILP optimum, lower + g) is a lower bound.
 */
import { bestFit, greedy, localSearch, repair, totalCost, type Deadline } from './greedy.js';
import { solveColumns, type LpHooks } from './lp.js';
import type { Column, Item, Model } from './model.js';
import { pairColumn } from './model.js';
import { charge } from './effort.js';
import { subDeadline } from './effort.js';
import { EXACT_SEARCH_MAX_ITEMS, exactSearch } from './exact-search.js';

export type { LpHooks } from './lp.js';

export interface LpCallbacks {
  offer(sel: Column[], method: string): boolean;
  /** A library answer failed our checks (kept out of the result; recorded for `reason`). */
  reject(why: string): void;
  bound(b: number): void;
  incumbentCost(): number | undefined;
  incumbent(): Column[] | undefined;
}

/** Limits that keep the library inside the sizes it was measured to handle well. */
const LIMITS = { masterItems: 320, milpVars: 120, milpItems: 40, cgRounds: 30, milpNodes: 400, masterCells: 4096 };
/** Share of what is left of the effort budget the exact search of few-VM hosts may use. */
const EXACT_SEARCH_SHARE = 0.6;

/** Each implicit (cpu node a, memory node b) column of an item with its cost + price . use. */
function forEachPair(m: Model, item: Item, lam: number[], visit: (v: number, a: number, b: number) => void): void {
  if (!item.pairs) return;
  const N = m.N;
  for (let a = 0; a < N; a++) {
    if (!item.pairCpuOk[a]) continue;
    const pa = lam[a] * item.pairCpuUse[a] + lam[N + a] * item.pairCoreUse[a] + item.vcpuMoveTo[a];
    const Da = m.D[a];
    for (let b = 0; b < N; b++) {
      if (!item.pairMemOk[b]) continue;
      const q = item.memoryMiB > 0 ? item.load * Da[b] : item.load * 10;
      visit(q + pa + item.memMoveTo[b] + lam[2 * N + b] * item.memGrowTo[b], a, b);
    }
  }
}

/** Min over all columns of an item of cost + price . use, and the k best columns (explicit + pairs). */
export function price(m: Model, item: Item, i: number, lam: number[], k = 1, within?: number): { min: number; cols: Column[]; all?: Column[] } {
  if (k === 1 && within === undefined) {
    // hot path: a pass over the pairs without allocating costs about a quarter of a bestFit() unit each
    charge(1 + item.explicit.length + (item.pairs ? (m.N * m.N) / 4 : 0));
    // hot path (Lagrangian bound, subgradient): no allocation per pair
    let min = Infinity, bestA = -1, bestB = -1;
    let bestEx: Column | undefined;
    for (const c of item.explicit) {
      const v = c.cost + c.use.reduce((s, [r, a]) => s + lam[r] * a, 0);
      if (v < min) { min = v; bestEx = c; }
    }
    forEachPair(m, item, lam, (v, a, b) => {
      if (v < min) { min = v; bestA = a; bestB = b; bestEx = undefined; }
    });
    const col = bestEx ?? (bestA >= 0 ? pairColumn(m, item, i, bestA, bestB) : undefined);
    return { min, cols: col ? [col] : [] };
  }
  charge(1 + item.explicit.length + (item.pairs ? m.N * m.N : 0));
  const found: [number, () => Column][] = [];
  for (const c of item.explicit) {
    const v = c.cost + c.use.reduce((s, [r, a]) => s + lam[r] * a, 0);
    found.push([v, () => c]);
  }
  forEachPair(m, item, lam, (v, a, b) => found.push([v, () => pairColumn(m, item, i, a, b)]));
  let min = Infinity;
  for (const [v] of found) if (v < min) min = v;
  found.sort((x, y) => x[0] - y[0]);
  const cols = found.slice(0, k).map(([, f]) => f());
  const all = within !== undefined ? found.filter(([v]) => v - min <= within + 1e-9).map(([, f]) => f()) : undefined;
  return { min, cols, all };
}

function pricedValue(c: Column, lam: number[]): number {
  return c.cost + c.use.reduce((s, [r, a]) => s + lam[r] * a, 0);
}

/**
 * Whether a model-level gap (movable VMs only) is within `tol` of the whole objective, which adds
 * the fixed VMs' constant cost (the placement's gap is taken relative to it: pipeline.ts).
 */
export function gapClosed(m: Model, upper: number, lower: number, tol: number): boolean {
  return upper - lower <= Math.max(tol * Math.abs(upper + m.fixedCost), 1e-9);
}

/** Lagrangian lower bound: sum_i min_k (c_k + lam.a_k) - lam.cap. */
export function lagrangeBound(m: Model, lam: number[]): { bound: number; mins: number[] } {
  const mins = m.items.map((it, i) => price(m, it, i, lam).min);
  const bound = mins.reduce((a, b) => a + b, 0) - lam.reduce((s, l, r) => s + l * m.cap[r], 0);
  return { bound, mins };
}

/** Subgradient ascent on the Lagrangian dual (plain code), for models too large for the dense-tableau LP. */
function subgradient(m: Model, start: number[], upper: number | undefined, dl: Deadline, onBound: (b: number, lam: number[]) => void): number[] {
  let lam = [...start];
  let best = -Infinity, bestLam = lam;
  let step = 2;
  let stall = 0;
  const scale = m.cap.map((c) => 1 / Math.max(1, Math.abs(c)));
  for (let it = 0; it < 200 && dl.now() < dl.at; it++) {
    const used = new Array<number>(m.cap.length).fill(0);
    let sum = 0;
    m.items.forEach((item, i) => {
      const { min, cols } = price(m, item, i, lam, 1);
      sum += min;
      for (const [r, a] of cols[0].use) used[r] += a;
    });
    const b = sum - lam.reduce((s, l, r) => s + l * m.cap[r], 0);
    if (b > best + 1e-9) {
      best = b;
      bestLam = [...lam];
      onBound(b, bestLam);
      stall = 0;
    } else if (++stall >= 5) {
      step /= 2;
      stall = 0;
    }
    const g = used.map((u, r) => (u - m.cap[r]) * scale[r]);
    const norm = g.reduce((s, x) => s + x * x, 0);
    if (norm < 1e-12) break;
    const target = upper !== undefined ? Math.max(upper - b, 1e-6 * Math.abs(upper)) : Math.abs(b) * 0.01 + 1;
    const t = (step * target) / norm;
    lam = lam.map((l, r) => Math.max(0, l + t * g[r] * scale[r]));
    if (step < 1e-4) break;
  }
  return bestLam;
}

export function improveWithLp(m: Model, start: Column[] | undefined, dl: Deadline, cb: LpCallbacks, hooks?: LpHooks, tol = 0): void {
  const R = m.cap.length;
  const nItems = m.items.length;
  if (nItems === 0) {
    cb.bound(0);
    return;
  }
  let lam = new Array<number>(R).fill(0);
  let bestBound = -Infinity;
  let bestLam = lam;
  const noteBound = (b: number, l: number[]) => {
    if (b > bestBound + 1e-9) {
      bestBound = b;
      bestLam = [...l];
      cb.bound(b);
    }
  };
  noteBound(lagrangeBound(m, lam).bound, lam);
  const proven = () => {
    const ub = cb.incumbentCost();
    return ub !== undefined && gapClosed(m, ub, bestBound, tol);
  };
  if (proven()) return;

  const maxCost = Math.max(1, ...m.items.map((it, i) => price(m, it, i, lam, 1).min));
  // The library's dense tableau costs rows^2 x columns per solve: column generation only where that stays small.
  if (nItems <= LIMITS.masterItems && nItems * m.N <= LIMITS.masterCells) {
    // Column generation on the restricted master.
    const master: Map<string, Column>[] = m.items.map(() => new Map());
    let lastLp: { cols: Column[]; x: number[]; unplaced: number[] } | undefined;
    const addCol = (c: Column) => master[c.item].set(c.key, c);
    start?.forEach(addCol);
    m.items.forEach((it, i) => price(m, it, i, lam, 2).cols.forEach(addCol));
    // column generation gets at most 35% of what is left: the search after it needs the rest
    const cgDl = subDeadline(dl, 0.35);
    for (let round = 0; round < LIMITS.cgRounds && cgDl.now() < cgDl.at; round++) {
      const cols = master.flatMap((mm) => [...mm.values()]);
      const r = solveColumns({ nItems, cap: m.cap, columns: cols, integer: false, unplacedCost: 10 * maxCost + 1000, now: dl.wallNow ?? (() => 0), hooks, timeoutMs: dl.wallMsLeft?.() });
      if (!r.clean) break;
      lastLp = { cols, x: r.x, unplaced: r.unplaced };
      lam = r.duals;
      const { bound, mins } = lagrangeBound(m, lam);
      noteBound(bound, lam);
      if (proven()) return;
      let added = 0;
      m.items.forEach((it, i) => {
        let pm = Infinity;
        for (const c of master[i].values()) pm = Math.min(pm, pricedValue(c, lam));
        if (mins[i] < pm - 1e-7) {
          for (const c of price(m, it, i, lam, 2).cols) if (!master[i].has(c.key)) {
            addCol(c);
            added++;
          }
        }
      });
      if (added === 0) break;
    }
    if (nItems <= EXACT_SEARCH_MAX_ITEMS && !proven()) searchFew(m, bestLam, dl, cb, noteBound);
    if (lastLp && !proven()) roundLp(m, lastLp, lam, dl, cb, hooks);
  } else {
    lam = subgradient(m, lam, cb.incumbentCost(), subDeadline(dl, 0.4), noteBound);
  }
  if (proven()) return;
  // Priced starts.
  for (const l of [bestLam, lam]) {
    if (dl.now() >= dl.at || proven()) return;
    const g = greedy(m, 'priced', l);
    if (g) cb.offer(localSearch(m, g, dl), 'lp-priced-greedy+local-search');
  }
  if (proven()) return;
  exactOverDoubt(m, bestLam, bestBound, dl, cb, hooks, tol);
}

/**
 * Few VMs: every column searched exactly in plain code (exact-search.ts), with the LP's prices,
 * before the library's MILPs (which have looped on such models, and whose node limit alone can
 * charge a small host's whole effort budget). A finished search proves its best optimal.
 */
function searchFew(m: Model, lam: number[], dl: Deadline, cb: LpCallbacks, noteBound: (b: number, l: number[]) => void) {
  const upper = cb.incumbentCost() ?? Infinity;
  const r = exactSearch(m, lam, upper, 0, subDeadline(dl, EXACT_SEARCH_SHARE));
  if (r.improved) cb.offer(r.improved, 'exact-search');
  const seen = r.improved ? totalCost(r.improved) : upper;
  if (r.complete && seen < Infinity) noteBound(seen, lam);
}

/** Reduced-cost fixing and the exact MILP over the VMs in doubt, widening g until the gap is proven. */
function exactOverDoubt(m: Model, lam: number[], lower: number, dl: Deadline, cb: LpCallbacks, hooks: LpHooks | undefined, tol: number) {
  let upper = cb.incumbentCost();
  if (upper === undefined) return;
  const gap0 = upper - lower;
  if (gapClosed(m, upper, lower, tol)) return;
  // Every column within the gap, per item, sorted by reduced cost (pricing at lam).
  if (m.items.length * m.N * m.N > 120_000) return; // too many to list; the Lagrangian bound stands
  const cands = m.items.map((it, i) => {
    const p = price(m, it, i, lam, 1, gap0);
    return p.all!.map((c) => ({ c, rc: pricedValue(c, lam) - p.min }));
  });
  const sizeAt = (g: number) => {
    let vars = 0, items = 0;
    for (const cs of cands) {
      let k = 0;
      while (k < cs.length && cs[k].rc <= g + 1e-9) k++;
      if (k > 1) {
        vars += k;
        items++;
      }
    }
    return { vars, items };
  };
  const fitsLimits = (g: number) => {
    const z = sizeAt(g);
    return z.vars <= LIMITS.milpVars && z.items <= LIMITS.milpItems;
  };
  // Thresholds to try, smallest useful first: distinct reduced costs that keep the MILP within limits.
  const rcs = [...new Set(cands.flatMap((cs) => cs.map((x) => x.rc)).filter((r) => r > 1e-9))].sort((a, b) => a - b);
  let lastG = -1;
  for (let attempt = 0; attempt < 6 && dl.now() < dl.at; attempt++) {
    upper = cb.incumbentCost()!;
    const inc = cb.incumbent();
    if (!inc) return;
    const gap = upper - lower;
    if (gapClosed(m, upper, lower, tol)) return;
    let g: number | undefined;
    if (fitsLimits(gap)) g = gap;
    else {
      // largest threshold within limits, but at least double the last one
      let lo = 0, hi = rcs.length - 1, best = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (rcs[mid] < gap && fitsLimits(rcs[mid])) {
          best = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (best >= 0) g = rcs[best];
      else if (fitsLimits(0)) g = 0;
    }
    if (g === undefined || g <= lastG + 1e-12) break;
    lastG = g;
    const gg = g;
    const proving = gg >= gap - 1e-12;
    const sets = cands.map((cs, i) => {
      const keep = cs.filter((x) => x.rc <= gg + 1e-9).map((x) => x.c);
      // The incumbent's column joins items already in doubt (so the MILP can keep it); an item
      // fixed by its reduced costs stays fixed (adding it would put every VM in doubt).
      if (keep.length > 1 && !keep.some((c) => c.key === inc[i].key)) keep.push(inc[i]);
      if (keep.length === 0) keep.push(inc[i]);
      return keep;
    });
    const r = milpOver(m, sets, dl, cb, hooks);
    if (r.clean && r.z !== undefined) {
      const b = proving ? Math.min(r.z, upper) : Math.min(r.z, lower + gg);
      cb.bound(Math.max(lower, b));
      if (proving) return;
    }
    if (!r.clean) break;
  }
  lns(m, cands, dl, cb, hooks);
}

/**
 * Use the LP's answer: VMs it places whole on one column keep it, the others are
 * decided by an exact MILP over their LP columns and best priced alternatives
 * (or by greedy repair when that MILP is too large or fails).
 */
function roundLp(m: Model, lp: { cols: Column[]; x: number[]; unplaced: number[] }, lam: number[], dl: Deadline, cb: LpCallbacks, hooks: LpHooks | undefined) {
  const integral: (Column | undefined)[] = new Array(m.items.length);
  const support: Column[][] = m.items.map(() => []);
  lp.cols.forEach((c, k) => {
    if (lp.x[k] > 1 - 1e-6) integral[c.item] = c;
    if (lp.x[k] > 1e-6) support[c.item].push(c);
  });
  const rounded = repair(m, integral, dl);
  if (rounded) cb.offer(rounded, 'lp-rounding+repair');
  const frac = m.items.map((_, i) => i).filter((i) => !integral[i]);
  if (frac.length === 0 || frac.length > LIMITS.milpItems || dl.now() >= dl.at) return;
  // Free the fractional VMs and, up to the size limit, the VMs sharing nodes with them
  // (fixing every integral one usually leaves no room to place the fractional ones).
  const rows = new Set(frac.flatMap((i) => support[i].flatMap((c) => c.use.map(([r]) => r))));
  const neighbours = m.items.map((_, i) => i).filter((i) => integral[i] && integral[i]!.use.some(([r]) => rows.has(r)));
  const free = new Set([...frac, ...neighbours.slice(0, Math.max(0, LIMITS.milpItems - frac.length))]);
  const inc = cb.incumbent();
  const perItem = Math.max(2, Math.floor(LIMITS.milpVars / free.size) - 1);
  const sets = m.items.map((it, i) => {
    if (!free.has(i)) return [integral[i]!];
    const cs = new Map<string, Column>();
    for (const c of support[i]) cs.set(c.key, c);
    if (inc) cs.set(inc[i].key, inc[i]);
    for (const c of price(m, it, i, lam, perItem).cols) if (cs.size < perItem + 1) cs.set(c.key, c);
    return [...cs.values()];
  });
  milpOver(m, sets, dl, cb, hooks, 'lp+mip(fractional VMs)');
}

/** Solve the MILP choosing one column per item from `sets` (items with one column are fixed). */
function milpOver(m: Model, sets: Column[][], dl: Deadline, cb: LpCallbacks, hooks: LpHooks | undefined, method = 'lp+mip'): { clean: boolean; z?: number } {
  const fixedSel: (Column | undefined)[] = sets.map((s) => (s.length === 1 ? s[0] : undefined));
  const cap = [...m.cap];
  for (const c of fixedSel) if (c) for (const [r, a] of c.use) cap[r] -= a;
  if (cap.some((c) => c < -1e-6)) return { clean: true, z: Infinity };
  const doubt = sets.map((s, i) => (s.length > 1 ? i : -1)).filter((i) => i >= 0);
  if (doubt.length === 0) {
    const z = totalCost(fixedSel as Column[]);
    cb.offer(fixedSel as Column[], 'lp+reduced-cost-fixing');
    return { clean: true, z };
  }
  const local = new Map(doubt.map((i, k) => [i, k]));
  const columns = doubt.flatMap((i) => sets[i].map((c) => ({ item: local.get(i)!, cost: c.cost, use: c.use, col: c })));
  const r = solveColumns({ nItems: doubt.length, cap, columns, integer: true, now: dl.wallNow ?? (() => 0), hooks, timeoutMs: dl.wallMsLeft?.(), nodeLimit: LIMITS.milpNodes });
  const sel = fixedSel.slice();
  columns.forEach((c, k) => {
    if (Math.abs(r.x[k] - 1) <= 1e-6) sel[doubt[c.item]] = c.col;
  });
  let z: number | undefined;
  if (r.valid && sel.every(Boolean)) {
    z = totalCost(sel as Column[]);
    const upper = cb.incumbentCost();
    if (!cb.offer(sel as Column[], method) && upper !== undefined && z < upper - 1e-9) cb.reject('a MILP answer failed verification');
  } else if (!r.infeasible) {
    cb.reject(`javascript-lp-solver MILP answer rejected: ${r.issues.slice(0, 3).join('; ')}`);
    const fixed = repair(m, sel, dl);
    if (fixed) cb.offer(fixed, 'greedy-repair');
  } else if (r.clean) z = Infinity;
  return { clean: r.clean, z };
}

/**
 * When no provable MILP is small enough (many ties, large gaps): improve the incumbent
 * by exact MILPs over small neighbourhoods (VMs whose incumbent column is not their
 * cheapest priced one, a few alternatives each, everyone else fixed).
 */
function lns(m: Model, cands: { c: Column; rc: number }[][], dl: Deadline, cb: LpCallbacks, hooks: LpHooks | undefined) {
  const perItem = 5;
  for (let round = 0; round < 4 && dl.now() < dl.at; round++) {
    const inc = cb.incumbent();
    if (!inc) return;
    const rcInc = inc.map((c, i) => cands[i].find((x) => x.c.key === c.key)?.rc ?? Infinity);
    const order = inc.map((_, i) => i).sort((a, b) => rcInc[b] - rcInc[a] || a - b).filter((i) => rcInc[i] > 1e-9);
    if (order.length === 0) return;
    const k = 12;
    const pick = new Set(order.slice(round * k, (round + 1) * k));
    if (pick.size === 0) return;
    const sets = inc.map((c, i) => {
      if (!pick.has(i)) return [c];
      const alts = cands[i].slice(0, perItem).map((x) => x.c);
      if (!alts.some((a) => a.key === c.key)) alts.push(c);
      return alts;
    });
    const before = cb.incumbentCost();
    const r = milpOver(m, sets, dl, cb, hooks, 'lp+mip(neighbourhood)');
    if (!r.clean) return;
    if (cb.incumbentCost() === before && round > 0) return;
  }
}

export { bestFit };
