/**
 * Exact branch and bound over every column of every VM, in plain code, for hosts with few
 * movable VMs (issue 25). Few big VMs near capacity are a bin packing: which VMs share a node
 * decides everything, 1-moves and swaps rarely reach the packing the optimum needs, and
 * javascript-lp-solver's MILP over them has looped forever (a 49-column model held the worker to
 * its deadline). Here: VMs biggest first, each VM's columns cheapest first by cost + price . use,
 * pruned by a Lagrangian bound that is updated in O(1) per branch:
 *   cost so far + sum over the VMs left of min(cost + price . use) - price . (capacity - used).
 * It is valid for any prices >= 0 (the LP stage's are good ones), and since the columns are
 * tried in order of the same priced value, the first column whose bound reaches the incumbent
 * ends its level. Effort is counted per branch; when the search finishes, the incumbent is
 * proven optimal over the model (within `slack`).
 */
import { charge, type Deadline } from './effort.js';
import type { Column, Model } from './model.js';
import { pairColumn } from './model.js';

/** Movable VMs at most for which the search is tried (every column of each is listed). */
export const EXACT_SEARCH_MAX_ITEMS = 24;

export interface ExactSearchResult {
  /** Best selection found that beats the incumbent given, if any. */
  improved?: Column[];
  /** True when the whole tree was searched: the best (improved or given) is optimal within slack. */
  complete: boolean;
}

/** Every column of item i: its explicit ones and each pair that fits the empty host. */
function allColumns(m: Model, i: number): Column[] {
  const item = m.items[i];
  const out = [...item.explicit];
  if (item.pairs) {
    for (let a = 0; a < m.N; a++) {
      if (!item.pairCpuOk[a]) continue;
      for (let b = 0; b < m.N; b++) if (item.pairMemOk[b]) out.push(pairColumn(m, item, i, a, b));
    }
  }
  return out;
}

/**
 * Search for a selection cheaper than `upper` (minus `slack`) under prices `lam`. `upper` is the
 * incumbent's model cost (Infinity when there is none: the search then looks for any packing).
 * Only the best selection is returned: each one offered would be decoded and verified, which cost
 * more than the search itself.
 */
export function exactSearch(m: Model, lam: number[], upper: number, slack: number, dl: Deadline): ExactSearchResult {
  const n = m.items.length;
  const R = m.cap.length;
  const priced = (c: Column) => c.cost + c.use.reduce((s, [r, a]) => s + lam[r] * a, 0);
  // biggest share of the host first: they decide the packing, and fail soonest when it is wrong
  const cpuTotal = Math.max(1e-9, m.cap.slice(0, m.N).reduce((a, b) => a + Math.max(0, b), 0));
  const memTotal = Math.max(1e-9, m.cap.slice(2 * m.N).reduce((a, b) => a + Math.max(0, b), 0));
  const order = m.items.map((_, i) => i).sort((x, y) => {
    const size = (i: number) => m.items[i].load / cpuTotal + m.items[i].memoryMiB / memTotal;
    return size(y) - size(x) || x - y;
  });
  const cols = order.map((i) => allColumns(m, i).map((c) => ({ c, p: priced(c) })).sort((x, y) => x.p - y.p || x.c.cost - y.c.cost));
  charge(cols.reduce((s, cs) => s + cs.length, 0));
  if (cols.some((cs) => cs.length === 0)) return { complete: true };
  // suffix sums of each level's cheapest priced and plain cost: what the VMs left cost at least
  const restPriced = new Array<number>(n + 1).fill(0);
  const restCost = new Array<number>(n + 1).fill(0);
  for (let d = n - 1; d >= 0; d--) {
    restPriced[d] = restPriced[d + 1] + cols[d][0].p;
    restCost[d] = restCost[d + 1] + Math.min(...cols[d].map((x) => x.c.cost));
  }
  const lamCap = lam.reduce((s, l, r) => s + l * m.cap[r], 0);
  const used = new Array<number>(R).fill(0);
  const pick: Column[] = new Array(n);
  let best = upper;
  let improved: Column[] | undefined;
  let stopped = false;

  const fits = (c: Column) => {
    for (const [r, a] of c.use) if (used[r] + a > m.cap[r] + 1e-9) return false;
    return true;
  };
  // cost: of the VMs placed so far; lamUsed: price . used
  const visit = (d: number, cost: number, lamUsed: number): void => {
    if (d === n) {
      if (cost < best - 1e-9) {
        best = cost;
        const sel = new Array<Column>(n);
        order.forEach((i, k) => (sel[i] = pick[k]));
        improved = sel;
      }
      return;
    }
    if (dl.now() >= dl.at) {
      stopped = true;
      return;
    }
    charge(1 + cols[d].length / 4);
    for (const { c, p } of cols[d]) {
      // bound of every completion through c; the columns come in increasing p, so none after c does better
      if (p + restPriced[d + 1] + cost + lamUsed - lamCap >= best - slack) break;
      if (cost + c.cost + restCost[d + 1] >= best - slack || !fits(c)) continue;
      for (const [r, a] of c.use) used[r] += a;
      pick[d] = c;
      visit(d + 1, cost + c.cost, lamUsed + (p - c.cost));
      for (const [r, a] of c.use) used[r] -= a;
      if (stopped) return;
    }
  };
  visit(0, 0, 0);
  return { improved, complete: !stopped };
}
