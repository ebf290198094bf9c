/** Evaluating load traces: busy fraction of a vCPU at simulated time t. Pure and seeded. */
import { unitHash } from './rng.js';
import type { LoadTrace } from './scenario.js';

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * Level of `trace` at time `t` seconds for the vCPU identified by `key` (VM hash, vCPU id);
 * `max` is 1 for CPU load, more for memory use.
 */
export function traceLevel(trace: LoadTrace, t: number, seed: number, key: [number, number], max = 1): number {
  switch (trace.kind) {
    case 'steady':
      return trace.level;
    case 'bursty': {
      const window = Math.floor(t / trace.burstSeconds);
      return unitHash(seed, key[0], key[1], window) < trace.probability ? trace.peak : trace.base;
    }
    case 'ramping': {
      const f = clamp((t - trace.startSeconds) / (trace.endSeconds - trace.startSeconds), 0, 1);
      return trace.from + (trace.to - trace.from) * f;
    }
    case 'diurnal':
      return clamp(trace.mean + trace.amplitude * Math.sin((2 * Math.PI * (t + trace.phaseSeconds)) / trace.periodSeconds), 0, max);
    case 'saturating': {
      if (t < trace.startSeconds) return trace.from;
      const f = trace.rampSeconds === 0 ? 1 : clamp((t - trace.startSeconds) / trace.rampSeconds, 0, 1);
      return trace.from + (1 - trace.from) * f;
    }
    case 'phases': {
      let current: LoadTrace | undefined;
      for (const p of trace.phases) if (p.atSeconds <= t) current = p.trace;
      return current ? traceLevel(current, t, seed, key, max) : 0;
    }
  }
}
