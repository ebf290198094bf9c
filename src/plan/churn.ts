/**
 * Churn state the planner carries from cycle to cycle (checkpointed by the daemon): how long the
 * improvement has held, how long each VM's target has stayed the same, cooldowns after moves, and
 * memory moves the host refused (not retried every cycle). Plain JSON.
 */
import type { Config } from '../core/config-table.js';

/** The churn.* configuration keys (src/core/config-table.ts). */
export type ChurnSettings = Config['churn'];

export interface ChurnState {
  /** Consecutive cycles the possible relative improvement exceeded churn.improvementMargin. */
  heldCycles: number;
  /** Per VM: signature of its planned target and for how many consecutive cycles it has been planned. */
  targets: Record<string, { signature: string; cycles: number }>;
  /** Per VM: cycles left before it may be moved again. */
  cooldown: Record<string, number>;
  /** Per VM: "uuid nodeset" of a memory move refused (non-restrictive numatune); not proposed again. */
  refusedNodeset: Record<string, string>;
}

export function newChurnState(): ChurnState {
  return { heldCycles: 0, targets: {}, cooldown: {}, refusedNodeset: {} };
}

/** Record the VMs whose moves were really applied: they cool down for `cooldownCycles`. */
export function recordMoves(state: ChurnState, moved: Iterable<string>, cooldownCycles: number): ChurnState {
  const cooldown = { ...state.cooldown };
  for (const vm of moved) if (cooldownCycles > 0) cooldown[vm] = cooldownCycles;
  const targets = { ...state.targets };
  for (const vm of moved) delete targets[vm];
  return { ...state, cooldown, targets };
}

export function isChurnState(x: unknown): x is ChurnState {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  const rec = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  return Number.isInteger(o.heldCycles) && rec(o.targets) && rec(o.cooldown) && rec(o.refusedNodeset);
}
