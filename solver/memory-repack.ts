/**
 * Memory repacking with every VM's vCPUs held on their node. Where memory, not CPU, is
 * short (memory-only nodes, starved nodes), which VMs keep their memory local is a
 * knapsack: the VMs with the least load per MiB should give way. Moves of one VM, swaps
 * of two and ruin-and-recreate approach that slowly (3 % above the optimum on the cxl
 * family); this solves it the way the fractional knapsack is solved: every VM's memory
 * on its cheapest node, then, while a node is over, the VM that loses least per MiB freed
 * moves to its next cheapest node with room; then VMs move back where room was left.
 * Deterministic (ties by index); only pair columns (all vCPUs on one node, memory on one)
 * are changed, every other VM stays as it is.
 */
import { charge } from './effort.js';
import { pairColumn, pairCost, type Column, type Model } from './model.js';

function pairNodes(c: Column): [number, number] | undefined {
  const a = c.vcpuNode[0];
  if (c.cellNode || !c.vcpuNode.every((n) => n === a)) return undefined;
  const on = c.mem.flatMap((x, b) => (x > 0 ? [b] : []));
  if (on.length > 1) return undefined;
  return [a, on[0] ?? a];
}

/** A cheaper selection with the memory of pair-placed VMs repacked, or undefined when it finds none. */
export function memoryRepack(m: Model, sel: Column[]): Column[] | undefined {
  const N = m.N;
  const n = sel.length;
  // Memory room for the VMs being repacked: capacity minus what every other VM grows by.
  const room = m.cap.slice(2 * N, 3 * N);
  const cpuNode: number[] = new Array(n).fill(-1);
  sel.forEach((c, i) => {
    const ab = m.items[i].pairs ? pairNodes(c) : undefined;
    if (ab) cpuNode[i] = ab[0];
    else for (const [r, a] of c.use) if (r >= 2 * N) room[r - 2 * N] -= a;
  });
  const movable = cpuNode.flatMap((a, i) => (a >= 0 ? [i] : []));
  if (movable.length === 0) return undefined;
  const cost = (i: number, b: number) => pairCost(m, m.items[i], cpuNode[i], b);
  const grow = (i: number, b: number) => m.items[i].memGrowTo[b];
  const ok = (i: number, b: number) => m.items[i].pairMemOk[b];
  const at: number[] = new Array(n).fill(-1);
  const used = new Array<number>(N).fill(0);
  const put = (i: number, b: number) => {
    if (at[i] >= 0) used[at[i]] -= grow(i, at[i]);
    at[i] = b;
    used[b] += grow(i, b);
  };
  charge(movable.length * N);
  for (const i of movable) {
    let best = -1;
    for (let b = 0; b < N; b++) if (ok(i, b) && (best < 0 || cost(i, b) < cost(i, best) - 1e-12)) best = b;
    if (best < 0) return undefined;
    put(i, best);
  }
  const fitsOn = (i: number, b: number) => used[b] + grow(i, b) <= room[b] + 1e-9;
  // Evict from over-full nodes, cheapest loss per MiB freed first.
  for (let round = 0; round < movable.length * N; round++) {
    let over = -1;
    for (let b = 0; b < N; b++) if (used[b] > room[b] + 1e-9 && (over < 0 || used[b] - room[b] > used[over] - room[over])) over = b;
    if (over < 0) break;
    const here = movable.filter((i) => at[i] === over && grow(i, over) > 0);
    charge(movable.length + here.length * N);
    let pick = -1, to = -1, rate = Infinity;
    for (const i of here) {
      for (let b = 0; b < N; b++) {
        if (b === over || !ok(i, b) || !fitsOn(i, b)) continue;
        const r = (cost(i, b) - cost(i, over)) / grow(i, over);
        if (r < rate - 1e-12) { rate = r; pick = i; to = b; }
      }
    }
    if (pick < 0) return undefined;
    put(pick, to);
  }
  if (used.some((u, b) => u > room[b] + 1e-9)) return undefined;
  // Refill: VMs move to a cheaper node where room was left, the largest gain per MiB first.
  for (let pass = 0; pass < N; pass++) {
    charge(movable.length * N);
    const moves: { i: number; b: number; gain: number }[] = [];
    for (const i of movable) {
      for (let b = 0; b < N; b++) {
        if (b === at[i] || !ok(i, b)) continue;
        const g = cost(i, at[i]) - cost(i, b);
        if (g > 1e-9) moves.push({ i, b, gain: g / Math.max(1, grow(i, b)) });
      }
    }
    moves.sort((x, y) => y.gain - x.gain || x.i - y.i || x.b - y.b);
    let moved = false;
    for (const { i, b } of moves) {
      if (cost(i, b) >= cost(i, at[i]) - 1e-9) continue;
      const was = at[i];
      put(i, b);
      if (used[b] > room[b] + 1e-9) put(i, was);
      else moved = true;
    }
    if (!moved) break;
  }
  const out = [...sel];
  let gain = 0;
  for (const i of movable) {
    const [a, b] = pairNodes(sel[i])!;
    if (b === at[i]) continue;
    out[i] = pairColumn(m, m.items[i], i, a, at[i]);
    gain += sel[i].cost - out[i].cost;
  }
  return gain > 1e-9 ? out : undefined;
}
