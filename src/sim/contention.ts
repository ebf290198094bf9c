/**
 * CPU contention for one tick. Each runnable vCPU spreads its demand evenly over the CPUs it may run
 * on (its pin set; unpinned = every online CPU, like the kernel's default spreading). A CPU whose
 * summed demand exceeds 1 is shared by weighted max-min fairness (CFS with cpu.shares): small
 * demands are met in full, the rest split the remainder in proportion to their weights. Pure.
 */

export interface Runnable {
  /** Busy fraction the vCPU wants (0..1). */
  demand: number;
  /** CFS weight (the VM's cpu.shares divided among its online vCPUs). */
  weight: number;
  /** Indexes into the CPU table (not CPU ids), non-empty. */
  cpus: number[];
}

/**
 * Returns, per CPU index, the fairness level λ: a piece of demand d with weight w on that CPU gets
 * min(d, λ·w). Infinity where the CPU is not oversubscribed.
 */
export function fairnessLevels(items: Runnable[], cpuCount: number): Float64Array {
  const load = new Float64Array(cpuCount);
  for (const it of items) {
    const piece = it.demand / it.cpus.length;
    for (const c of it.cpus) load[c] += piece;
  }
  const levels = new Float64Array(cpuCount).fill(Infinity);
  // Pieces on crowded CPUs in compressed rows (no per-piece objects: this runs every tick).
  const count = new Int32Array(cpuCount + 1);
  let crowded = 0;
  for (let c = 0; c < cpuCount; c++) if (load[c] > 1 + 1e-12) crowded++;
  if (crowded === 0) return levels;
  for (const it of items) {
    if (it.demand <= 0) continue;
    for (const c of it.cpus) if (load[c] > 1 + 1e-12) count[c + 1]++;
  }
  for (let c = 0; c < cpuCount; c++) count[c + 1] += count[c];
  const d = new Float64Array(count[cpuCount]);
  const w = new Float64Array(count[cpuCount]);
  const fill = count.slice(0, cpuCount);
  for (const it of items) {
    if (it.demand <= 0) continue;
    const piece = it.demand / it.cpus.length;
    for (const c of it.cpus) {
      if (load[c] > 1 + 1e-12) {
        d[fill[c]] = piece;
        w[fill[c]++] = it.weight;
      }
    }
  }
  for (let c = 0; c < cpuCount; c++) {
    if (count[c + 1] > count[c]) levels[c] = waterLevel(d.subarray(count[c], count[c + 1]), w.subarray(count[c], count[c + 1]), 1);
  }
  return levels;
}

/**
 * λ with Σ min(d_k, λ·w_k) = capacity, for pieces whose demands exceed the capacity. Progressive
 * filling: pieces whose whole demand fits under the current level are settled, the level rises for
 * the rest; stops when no more settle (a few rounds in practice, at most one per piece).
 */
export function waterLevel(d: ArrayLike<number>, w: ArrayLike<number>, capacity: number): number {
  const settled = new Uint8Array(d.length);
  let left = capacity;
  let weight = 0;
  for (let k = 0; k < d.length; k++) weight += w[k];
  for (;;) {
    if (weight <= 0) return Infinity;
    const level = left / weight;
    let changed = false;
    for (let k = 0; k < d.length; k++) {
      if (!settled[k] && d[k] <= level * w[k]) {
        settled[k] = 1;
        left -= d[k];
        weight -= w[k];
        changed = true;
      }
    }
    if (!changed) return level;
  }
}
