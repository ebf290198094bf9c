/**
 * A windowed trigger with hysteresis and cooldown, used for both "saturated"
 * (every online vCPU busy above a threshold) and "short of memory" (available
 * ratio below a threshold).
 *
 * - It counts consecutive cycles on the far side of the threshold; it fires when
 *   the count reaches `windowCycles`, is armed and no cooldown runs.
 * - After the caller acts on a firing (`recordAction`), the detector is disarmed
 *   and a cooldown starts: it re-arms only once the value has come back past
 *   `threshold ∓ hysteresis`, and fires again no earlier than `cooldownCycles`
 *   cycles later. One burst thus adds at most one step; a hot-plugged vCPU that
 *   the guest does not use keeps the VM's minimum load low, so numaplace does not
 *   keep adding vCPUs the guest leaves offline.
 * - A cycle without a value (VM not running, first sample) resets the count.
 *
 * The state is plain JSON (the daemon checkpoints it).
 */

export interface DetectorState {
  /** Consecutive cycles on the triggering side of the threshold. */
  count: number;
  armed: boolean;
  /** Cycles left before another firing is allowed. */
  cooldown: number;
}

export interface DetectorParams {
  threshold: number;
  windowCycles: number;
  cooldownCycles: number;
  hysteresis: number;
  /** 'above': fires on value >= threshold (load); 'below': on value < threshold (memory ratio). */
  direction: 'above' | 'below';
}

export function initialDetector(): DetectorState {
  return { count: 0, armed: true, cooldown: 0 };
}

function triggering(value: number, p: DetectorParams): boolean {
  return p.direction === 'above' ? value >= p.threshold : value < p.threshold;
}

function recovered(value: number, p: DetectorParams): boolean {
  return p.direction === 'above' ? value < p.threshold - p.hysteresis : value >= p.threshold + p.hysteresis;
}

/** One cycle's observation; returns the next state and whether it fires now. */
export function observe(state: DetectorState, value: number | null, p: DetectorParams): { state: DetectorState; fired: boolean } {
  const cooldown = Math.max(0, state.cooldown - 1);
  if (value === null || !Number.isFinite(value)) return { state: { count: 0, armed: state.armed, cooldown }, fired: false };
  let armed = state.armed;
  if (!armed && recovered(value, p)) armed = true;
  const count = armed && triggering(value, p) ? state.count + 1 : 0;
  const fired = armed && cooldown === 0 && count >= p.windowCycles;
  return { state: { count, armed, cooldown }, fired };
}

/** The caller acted on a firing (decided a hot-plug): disarm and start the cooldown. */
export function recordAction(state: DetectorState, p: DetectorParams): DetectorState {
  return { count: 0, armed: false, cooldown: p.cooldownCycles };
}

export function isDetectorState(x: unknown): x is DetectorState {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return Number.isInteger(o.count) && (o.count as number) >= 0 && typeof o.armed === 'boolean' && Number.isInteger(o.cooldown) && (o.cooldown as number) >= 0;
}
