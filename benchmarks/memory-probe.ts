/**
 * Memory samples that mean something over a long run. Plain `heapUsed` mostly shows how much garbage
 * V8 has not yet collected (it saw-tooths by tens of MiB), and RSS mostly shows how far V8 and malloc
 * have grown their pools; neither is a leak signal on its own. A leak is live data that grows: the
 * heap in use right after a full, forced GC, plus the off-heap memory JS objects hold (Buffers and
 * typed arrays live there, not in heapUsed). So each sample forces a GC first, and the trend is the
 * least-squares slope over the second half of the samples (after warm-up: JIT, caches, pools).
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const MiB = 2 ** 20;

/**
 * A function that runs a full GC: `global.gc` under `node --expose-gc`, otherwise the same function
 * taken from a fresh context after turning the flag on at run time (so mocha needs no flag).
 */
export function gcFunction(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export interface MemoryPoint {
  /** Where in the run: cycles, or hours since the start. */
  x: number;
  rssMiB: number;
  /** Live memory right after a full GC: heapUsed + external (what the soak calls the post-GC heap). */
  heapMiB: number;
  /** Its two parts: JS heap in use, and off-heap memory held by JS objects (Buffers, typed arrays). */
  heapUsedMiB: number;
  externalMiB: number;
  /** V8's reserved heap at the same moment. */
  heapTotalMiB: number;
  /**
   * RSS split as Linux counts it (/proc/self/status; absent elsewhere): anonymous memory (heaps,
   * stacks, malloc arenas) and file pages (mostly the node binary's own code, paged in as used).
   */
  rssAnonMiB?: number;
  rssFileMiB?: number;
}

/** RssAnon and RssFile of this process in MiB, or {} where /proc/self/status has none. */
export function rssParts(): { rssAnonMiB?: number; rssFileMiB?: number } {
  let text: string;
  try {
    text = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return {};
  }
  const kib = (k: string) => {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) / 1024 : undefined;
  };
  const anon = kib('RssAnon');
  const file = kib('RssFile');
  return anon === undefined || file === undefined ? {} : { rssAnonMiB: anon, rssFileMiB: file };
}

/** Force a full GC (twice: finalizers of the first free more) and read the process's memory. */
export function memoryPoint(x: number, gc: () => void): MemoryPoint {
  gc();
  gc();
  const m = process.memoryUsage();
  return {
    x, rssMiB: m.rss / MiB, heapMiB: (m.heapUsed + m.external) / MiB, heapUsedMiB: m.heapUsed / MiB, externalMiB: m.external / MiB, heapTotalMiB: m.heapTotal / MiB,
    ...rssParts(),
  };
}

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface MemoryTrend {
  /** Samples the slope was fitted on (the second half). */
  samples: number;
  start: { rssMiB: number; heapMiB: number };
  end: { rssMiB: number; heapMiB: number };
  /** Slopes per unit of x (cycles or hours), over the second half. */
  rssSlope: number;
  heapSlope: number;
}

/** Start/end figures and the slopes of RSS and post-GC heap over the second half of the samples. */
export function memoryTrend(points: readonly MemoryPoint[]): MemoryTrend {
  const half = points.slice(Math.floor(points.length / 2));
  const xs = half.map((p) => p.x);
  const first = points[0];
  const last = points[points.length - 1];
  return {
    samples: half.length,
    start: { rssMiB: first?.rssMiB ?? 0, heapMiB: first?.heapMiB ?? 0 },
    end: { rssMiB: last?.rssMiB ?? 0, heapMiB: last?.heapMiB ?? 0 },
    rssSlope: slope(xs, half.map((p) => p.rssMiB)),
    heapSlope: slope(xs, half.map((p) => p.heapMiB)),
  };
}

/** Percentiles (nearest rank) of a list of numbers. */
export function percentiles(values: readonly number[], ps: readonly number[] = [50, 95, 99]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const out: Record<string, number> = {};
  for (const p of ps) out[`p${p}`] = sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : 0;
  out.max = sorted.length ? sorted[sorted.length - 1] : 0;
  return out;
}
