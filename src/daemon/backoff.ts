/**
 * Backing off while the host cannot be sampled (libvirt unreachable): the first wait is
 * backoff.initialMs, each next one doubles, up to backoff.maxMs; a good sample ends it. Pure.
 */
import type { Settings } from './settings.js';

export interface Backoff {
  /** The last wait (ms); 0 when not backing off. */
  delayMs: number;
  /** No cycle samples the host before this time (ms). */
  untilMs: number;
}

export const NO_BACKOFF: Backoff = { delayMs: 0, untilMs: 0 };

/** The wait after one more failed sample at `nowMs`. */
export function backoffAfterFailure(b: Backoff, limits: Settings['backoff'], nowMs: number): Backoff {
  const delayMs = b.delayMs === 0 ? limits.initialMs : Math.min(limits.maxMs, b.delayMs * 2);
  return { delayMs, untilMs: nowMs + delayMs };
}

export function backingOff(b: Backoff, nowMs: number): boolean {
  return b.untilMs > nowMs;
}

/** Milliseconds left to wait, 0 when none. */
export function backoffRemainingMs(b: Backoff, nowMs: number): number {
  return Math.max(0, b.untilMs - nowMs);
}
