/**
 * Start solutions and local search over the column model (plain code, no LP):
 * - stay-first: every VM keeps its current placement where that still fits, the
 *   rest go to their cheapest fitting column, biggest first;
 * - cost-first: biggest VM first onto its cheapest fitting column (move costs
 *   included, so VMs tend to stay);
 * - priced: as cost-first, but columns priced with capacity multipliers from the
 *   LP (so contested nodes are left to the VMs that gain most from them);
 * then 1-move and eject-and-reinsert moves while they lower the objective.
 */
import type { Column, Item, Model } from './model.js';
import { pairColumn, pairCost } from './model.js';
import { charge, type Deadline } from './effort.js';

export type { Deadline } from './effort.js';


export function totalCost(sel: Column[]): number {
  return sel.reduce((s, c) => s + c.cost, 0);
}

export function usage(m: Model, sel: (Column | undefined)[]): number[] {
  const used = new Array<number>(3 * m.N).fill(0);
  for (const c of sel) if (c) for (const [r, a] of c.use) used[r] += a;
  return used;
}

function fits(col: Column, res: number[]): boolean {
  for (const [r, a] of col.use) if (a > res[r] + 1e-9) return false;
  return true;
}

function take(col: Column, res: number[], sign: 1 | -1) {
  for (const [r, a] of col.use) res[r] -= sign * a;
}

/**
 * Cheapest column of `item` that fits the residual capacity `res`, by cost plus
 * price . use when prices are given. Undefined when nothing fits.
 */
export function bestFit(m: Model, item: Item, itemIndex: number, res: number[], price?: number[], exclude?: Column): Column | undefined {
  const N = m.N;
  charge(1 + item.explicit.length + (item.pairs ? N * N : 0));
  let best: Column | undefined;
  let bestVal = Infinity;
  let bestPair: [number, number] | undefined;
  const priced = (c: Column) => c.cost + (price ? c.use.reduce((s, [r, a]) => s + price[r] * a, 0) : 0);
  // Ties (e.g. all-local on any node) go to the roomiest node: spreading keeps room for the VMs still to come.
  const tie = (c: Column) => c.use.reduce((s, [r, a]) => s + (res[r] > 0 && res[r] !== Infinity ? a / res[r] : 0), 0) * 1e-7;
  for (const c of item.explicit) {
    if (c === exclude || !fits(c, res)) continue;
    const v = priced(c) + tie(c);
    if (v < bestVal - 1e-12) {
      bestVal = v;
      best = c;
      bestPair = undefined;
    }
  }
  if (item.pairs) {
    for (let a = 0; a < N; a++) {
      if (!item.pairCpuOk[a] || item.pairCpuUse[a] > res[a] + 1e-9 || item.pairCoreUse[a] > res[N + a] + 1e-9) continue;
      const pa = price ? price[a] * item.pairCpuUse[a] + price[N + a] * item.pairCoreUse[a] : 0;
      for (let b = 0; b < N; b++) {
        if (!item.pairMemOk[b] || item.memGrowTo[b] > res[2 * N + b] + 1e-9) continue;
        const v = pairCost(m, item, a, b) + pa + (price ? price[2 * N + b] * item.memGrowTo[b] : 0)
          + 1e-7 * (item.pairCpuUse[a] / Math.max(1e-9, res[a]) + (item.memGrowTo[b] > 0 ? item.memGrowTo[b] / Math.max(1e-9, res[2 * N + b]) : 0));
        if (v < bestVal - 1e-12) {
          bestVal = v;
          bestPair = [a, b];
        }
      }
    }
  }
  if (bestPair) {
    const c = pairColumn(m, item, itemIndex, bestPair[0], bestPair[1]);
    if (exclude && c.key === exclude.key) return undefined;
    return c;
  }
  return best;
}

/** Items in the order the greedy places them: largest share of the host first. */
function bySize(m: Model): number[] {
  const cpuTotal = Math.max(1e-9, m.cap.slice(0, m.N).reduce((a, b) => a + Math.max(0, b), 0));
  const memTotal = Math.max(1e-9, m.cap.slice(2 * m.N).reduce((a, b) => a + Math.max(0, b), 0));
  const size = m.items.map((it) => it.load / cpuTotal + it.memoryMiB / memTotal);
  return m.items.map((_, i) => i).sort((a, b) => size[b] - size[a] || a - b);
}

export type Strategy = 'stay-first' | 'cost-first' | 'priced';

export function greedy(m: Model, strategy: Strategy, price?: number[]): Column[] | undefined {
  const res = [...m.cap];
  const sel: (Column | undefined)[] = new Array(m.items.length);
  const order = bySize(m);
  if (strategy === 'stay-first') {
    for (const i of order) {
      const stay = stayColumn(m, i);
      if (stay && fits(stay, res)) {
        sel[i] = stay;
        take(stay, res, 1);
      }
    }
  }
  const placed: number[] = [];
  for (const i of order) {
    if (sel[i]) {
      placed.push(i);
      continue;
    }
    const c = bestFit(m, m.items[i], i, res, strategy === 'priced' ? price : undefined) ?? makeRoom(m, sel, res, i, placed);
    if (!c) return undefined;
    sel[i] = c;
    take(c, res, 1);
    placed.push(i);
  }
  return sel as Column[];
}

/**
 * Nothing fits VM i: find one placed VM j whose move to another column leaves room
 * for i (smallest VMs tried first). Leaves `sel`/`res` updated for j; returns i's column.
 */
function makeRoom(m: Model, sel: (Column | undefined)[], res: number[], i: number, placed: number[]): Column | undefined {
  const bySmall = [...placed].sort((a, b) => m.items[a].load - m.items[b].load);
  for (const j of bySmall) {
    const cj = sel[j]!;
    take(cj, res, -1);
    const ci = bestFit(m, m.items[i], i, res);
    if (ci) {
      take(ci, res, 1);
      const alt = bestFit(m, m.items[j], j, res);
      take(ci, res, -1);
      if (alt) {
        sel[j] = alt;
        take(alt, res, 1);
        // i's column may no longer fit next to j's new one: recheck
        const again = bestFit(m, m.items[i], i, res);
        if (again) return again;
        take(alt, res, -1);
        sel[j] = cj;
      }
    }
    take(cj, res, 1);
  }
  return undefined;
}

/** The column that leaves the VM where it is, when it has one. */
export function stayColumn(m: Model, i: number): Column | undefined {
  const item = m.items[i];
  if (!item.cur) return undefined;
  const key = (c: Column) => c.vcpuNode.every((n, k) => n === item.cur!.vcpuNode[k]);
  const ex = item.explicit.find((c) => key(c) && c.cost === c.quality);
  if (ex) return ex;
  if (!item.pairs) return undefined;
  const a = item.cur.vcpuNode[0];
  if (!item.cur.vcpuNode.every((n) => n === a)) return undefined;
  const memNodes = item.cur.mem.map((x, j) => (x > 0 ? j : -1)).filter((j) => j >= 0);
  const b = memNodes.length === 1 ? memNodes[0] : memNodes.length === 0 ? a : -1;
  if (b < 0 || !item.pairCpuOk[a] || !item.pairMemOk[b]) return undefined;
  return pairColumn(m, item, i, a, b);
}

/**
 * Local search: move one VM to its best fitting column; if its best column
 * (ignoring capacity) does not fit, eject the VMs in the way to their best
 * alternatives and keep the result when the total drops.
 */
export function localSearch(m: Model, start: Column[], dl: Deadline, maxPasses = 20): Column[] {
  const sel = [...start];
  const res = [...m.cap];
  for (const c of sel) take(c, res, 1);
  const n = sel.length;
  // Each VM's best column ignoring capacity: a VM already there cannot improve alone.
  const unlimited = new Array<number>(res.length).fill(Infinity);
  const ideal = m.items.map((it, i) => bestFit(m, it, i, unlimited));
  const happy = (i: number) => !ideal[i] || sel[i].cost <= ideal[i]!.cost + 1e-9;
  for (let pass = 0; pass < maxPasses; pass++) {
    let improved = false;
    for (let i = 0; i < n; i++) {
      if ((i & 15) === 0 && dl.now() > dl.at) return sel;
      if (happy(i)) continue;
      const item = m.items[i];
      const old = sel[i];
      take(old, res, -1);
      const c = bestFit(m, item, i, res);
      if (c && c.cost < old.cost - 1e-9) {
        sel[i] = c;
        take(c, res, 1);
        improved = true;
        continue;
      }
      take(old, res, 1);
      if (ejectInsert(m, sel, res, i, dl)) improved = true;
    }
    if (!improved) improved = swapPass(m, sel, res, dl, ideal);
    if (!improved) break;
  }
  return sel;
}

/**
 * Remove an unhappy VM and one VM using a row its ideal column needs, re-insert
 * both (both orders); keep when the sum drops.
 */
function swapPass(m: Model, sel: Column[], res: number[], dl: Deadline, ideal: (Column | undefined)[]): boolean {
  let improved = false;
  const n = sel.length;
  const users = new Map<number, number[]>();
  charge(4 * n);
  sel.forEach((c, j) => {
    for (const [r] of c.use) {
      const u = users.get(r);
      if (u) u.push(j);
      else users.set(r, [j]);
    }
  });
  for (let i = 0; i < n; i++) {
    if (dl.now() > dl.at) return improved;
    const want = ideal[i];
    if (!want || sel[i].cost <= want.cost + 1e-9) continue;
    const partners = new Set<number>();
    for (const [r] of want.use) for (const j of users.get(r) ?? []) if (j !== i) partners.add(j);
    charge(partners.size);
    for (const j of partners) {
      const ci = sel[i], cj = sel[j];
      take(ci, res, -1);
      take(cj, res, -1);
      let bestPair: [Column, Column] | undefined;
      let bestVal = ci.cost + cj.cost - 1e-9;
      for (const [a, b] of [[i, j], [j, i]] as const) {
        const x = bestFit(m, m.items[a], a, res);
        if (!x || x.cost >= bestVal) continue;
        take(x, res, 1);
        const y = bestFit(m, m.items[b], b, res);
        take(x, res, -1);
        if (y && x.cost + y.cost < bestVal) {
          bestVal = x.cost + y.cost;
          bestPair = a === i ? [x, y] : [y, x];
        }
      }
      if (bestPair) {
        sel[i] = bestPair[0];
        sel[j] = bestPair[1];
        improved = true;
      }
      take(sel[i], res, 1);
      take(sel[j], res, 1);
      if (bestPair) break; // i moved: its partners are stale
    }
  }
  return improved;
}

/** Try VM i on its unconstrained best column, relocating the VMs that block it. */
function ejectInsert(m: Model, sel: Column[], res: number[], i: number, dl: Deadline): boolean {
  const item = m.items[i];
  const old = sel[i];
  const free = new Array<number>(res.length).fill(Infinity);
  const want = bestFit(m, item, i, free);
  if (!want || want.cost >= old.cost - 1e-9) return false;
  take(old, res, -1);
  // rows where `want` does not fit
  const short = want.use.filter(([r, a]) => a > res[r] + 1e-9).map(([r]) => r);
  // candidates to eject: VMs using those rows, smallest cost increase first
  const blockers: number[] = [];
  charge(sel.length);
  for (let j = 0; j < sel.length; j++) if (j !== i && sel[j].use.some(([r]) => short.includes(r))) blockers.push(j);
  let budget = old.cost - want.cost;
  const moved: [number, Column][] = [];
  take(want, res, 1);
  let ok = want.use.every(([r]) => res[r] >= -1e-9);
  blockers.sort((a, b) => sel[b].cost - sel[a].cost);
  for (const j of blockers) {
    if (ok || budget <= 0 || dl.now() > dl.at) break;
    if (!sel[j].use.some(([r]) => short.includes(r) && res[r] < -1e-9)) continue;
    take(sel[j], res, -1);
    const alt = bestFit(m, m.items[j], j, res, undefined, sel[j]);
    if (alt && alt.use.every(([r, a]) => !short.includes(r) || a < (sel[j].use.find(([q]) => q === r)?.[1] ?? 0))) {
      const delta = alt.cost - sel[j].cost;
      if (delta < budget) {
        take(alt, res, 1);
        moved.push([j, sel[j]]);
        sel[j] = alt;
        budget -= delta;
        ok = res.every((x) => x >= -1e-9);
        continue;
      }
    }
    take(sel[j], res, 1);
  }
  if (ok && budget > 1e-9 && res.every((x) => x >= -1e-9)) {
    sel[i] = want;
    return true;
  }
  // undo
  take(want, res, -1);
  for (const [j, prev] of moved.reverse()) {
    take(sel[j], res, -1);
    sel[j] = prev;
    take(prev, res, 1);
  }
  take(old, res, 1);
  return false;
}

/** Feasibility of a full selection against the model's rows (our own check, independent of any LP). */
export function selectionFits(m: Model, sel: Column[]): boolean {
  const used = usage(m, sel);
  return used.every((u, r) => u <= m.cap[r] + 1e-6);
}

/**
 * Repair a partial or over-full selection (e.g. a rejected LP/MILP answer): keep the
 * chosen columns that still fit, largest VMs first, and place the others greedily.
 */
export function repair(m: Model, partial: (Column | undefined)[], dl: Deadline): Column[] | undefined {
  const res = [...m.cap];
  const sel: (Column | undefined)[] = new Array(m.items.length);
  const order = bySize(m);
  for (const i of order) {
    const c = partial[i];
    if (c && fits(c, res)) {
      sel[i] = c;
      take(c, res, 1);
    }
  }
  for (const i of order) {
    if (sel[i]) continue;
    const c = bestFit(m, m.items[i], i, res);
    if (!c) return undefined;
    sel[i] = c;
    take(c, res, 1);
  }
  return localSearch(m, sel as Column[], dl);
}
