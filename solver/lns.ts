/**
 * Ruin and recreate (plain code, deterministic): take a VM that is not on its best
 * column and a few VMs sharing its nodes out of the incumbent, put them back one by
 * one on their best fitting columns (biggest first, or in a seeded random order),
 * keep the result when the total does not get worse. This is what repacks VMs that
 * are large against a node's capacity (a bin-packing problem that 1-move and 2-swap
 * local search cannot leave) and spreads memory over starved nodes.
 * Randomness comes from a seeded generator and stopping from counted effort, so the
 * same problem gives the same answer run after run.
 */
import { bestFit, totalCost, type Deadline } from './greedy.js';
import { charge } from './effort.js';
import type { Column, Model } from './model.js';

function rng(seed: number): () => number {
  let s = (Math.abs(Math.floor(seed)) % 2147483646) + 1;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

export interface RuinOptions {
  /** Most VMs taken out at once. */
  maxRuin?: number;
  /** Iterations at most (the effort budget usually stops it first). */
  maxIter?: number;
  /** Stop after this many iterations without a strict improvement. */
  patience?: number;
  seed?: number;
  /** Capacity prices: recreate by cost + price . use (diversifies toward contested rows). */
  price?: number[];
}

export function ruinRecreate(m: Model, start: Column[], dl: Deadline, opts: RuinOptions = {}): Column[] {
  const n = start.length;
  if (n === 0) return start;
  const N = m.N;
  const rnd = rng(opts.seed ?? 12345);
  const maxRuin = Math.max(2, Math.min(opts.maxRuin ?? 10, n));
  const patience = opts.patience ?? 40 * Math.max(8, Math.min(n, 200));
  let sel = [...start];
  const res = [...m.cap];
  for (const c of sel) for (const [r, a] of c.use) res[r] -= a;
  let cur = totalCost(sel);
  let best = [...sel];
  let bestCost = cur;
  const unlimited = new Array<number>(res.length).fill(Infinity);
  const ideal = m.items.map((it, i) => bestFit(m, it, i, unlimited));
  const idealCost = ideal.map((c) => c?.cost ?? Infinity);
  // node of each row
  const nodeOf = (r: number) => r % N;
  const size = m.items.map((it) => it.load + it.memoryMiB / 4096);
  let sinceBest = 0;
  let bestIsSel = true;
  // VMs not on their cheapest column, and the VMs using each node: refreshed every few
  // iterations (entries gone stale are checked when used).
  let unhappy: number[] = [];
  const members: number[][] = Array.from({ length: N }, () => []);
  const refresh = () => {
    charge(4 * n);
    unhappy = [];
    for (let i = 0; i < n; i++) if (sel[i].cost > idealCost[i] + 1e-9) unhappy.push(i);
    for (const l of members) l.length = 0;
    for (let j = 0; j < n; j++) {
      let mask = 0;
      for (const [r] of sel[j].use) {
        const v = nodeOf(r);
        if (!(mask & (1 << (v % 30)))) members[v].push(j);
        mask |= 1 << (v % 30);
      }
    }
  };
  for (let iter = 0; iter < (opts.maxIter ?? 1e9); iter++) {
    if (dl.now() >= dl.at || sinceBest > patience) break;
    if (iter % 32 === 0) {
      refresh();
      if (unhappy.length === 0) break; // every VM on its cheapest column: optimal
    }
    charge(16);
    const seedVm = unhappy[Math.floor(rnd() * unhappy.length)];
    if (sel[seedVm].cost <= idealCost[seedVm] + 1e-9) {
      sinceBest++;
      continue;
    }
    const nodes = new Set<number>();
    for (const [r] of sel[seedVm].use) nodes.add(nodeOf(r));
    if (ideal[seedVm]) for (const [r] of ideal[seedVm]!.use) nodes.add(nodeOf(r));
    // a random extra node now and then, so whole nodes can swap contents
    if (rnd() < 0.3) nodes.add(Math.floor(rnd() * N));
    const nearSet = new Set<number>();
    for (const v of [...nodes].sort((a, b) => a - b)) for (const j of members[v]) if (j !== seedVm) nearSet.add(j);
    const near = [...nearSet];
    charge(near.length);
    const k = Math.min(near.length, 1 + Math.floor(rnd() * maxRuin));
    const out = [seedVm];
    for (let t = 0; t < k; t++) {
      const p = t + Math.floor(rnd() * (near.length - t));
      [near[t], near[p]] = [near[p], near[t]];
      out.push(near[t]);
    }
    const old = out.map((i) => sel[i]);
    let before = 0;
    for (const i of out) {
      before += sel[i].cost;
      for (const [r, a] of sel[i].use) res[r] += a;
    }
    const mode = rnd();
    if (mode < 0.5) out.sort((a, b) => size[b] - size[a] || a - b);
    else for (let t = out.length - 1; t > 0; t--) {
      const p = Math.floor(rnd() * (t + 1));
      [out[t], out[p]] = [out[p], out[t]];
    }
    const priced = opts.price && mode > 0.85 ? opts.price : undefined;
    let after = 0;
    const placed: [number, Column][] = [];
    let ok = true;
    for (const i of out) {
      const c = bestFit(m, m.items[i], i, res, priced);
      if (!c) {
        ok = false;
        break;
      }
      for (const [r, a] of c.use) res[r] -= a;
      placed.push([i, c]);
      after += c.cost;
    }
    if (ok && after <= before + 1e-9) {
      if (bestIsSel && after > before - 1e-9 * Math.max(1, Math.abs(cur))) {
        // a sideways move: keep a copy of the best before leaving it
        best = [...sel];
        bestIsSel = false;
        charge(n);
      }
      for (const [i, c] of placed) sel[i] = c;
      cur += after - before;
      if (cur < bestCost - 1e-9) {
        bestCost = cur;
        bestIsSel = true;
        sinceBest = 0;
      } else sinceBest++;
      continue;
    }
    // undo: sel was left as it was; take the old columns' capacity again
    for (const [, c] of placed) for (const [r, a] of c.use) res[r] += a;
    for (const c of old) for (const [r, a] of c.use) res[r] -= a;
    sinceBest++;
  }
  return bestIsSel ? sel : best;
}
