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

/** What the churn tick needs of each VM's candidate change (src/plan/diff.ts). */
export interface ChurnCandidate {
  vm: { name: string; uuid: string };
  move: readonly unknown[];
  signature: string;
  refusal: unknown;
  place: { memory: { nodeset: string } };
}

/**
 * The counters of this cycle, ticked once per plan before moves are selected: how long the
 * improvement has held, how long each VM's target has stayed the same, cooldowns one cycle
 * shorter (a VM gone is dropped), and refused memory moves still worth remembering.
 */
export function tickChurn(prev: ChurnState, args: { improvement: number; margin: number; candidates: readonly ChurnCandidate[]; present: ReadonlySet<string> }): ChurnState {
  const heldCycles = args.improvement > args.margin ? prev.heldCycles + 1 : 0;
  const cooldown: Record<string, number> = {};
  for (const [vm, left] of Object.entries(prev.cooldown)) if (left - 1 > 0 && args.present.has(vm)) cooldown[vm] = left - 1;
  const targets: ChurnState['targets'] = {};
  for (const d of args.candidates) {
    if (d.move.length === 0) continue;
    const before = prev.targets[d.vm.name];
    targets[d.vm.name] = { signature: d.signature, cycles: before && before.signature === d.signature ? before.cycles + 1 : 1 };
  }
  const refusedNodeset: Record<string, string> = {};
  for (const d of args.candidates) {
    const was = prev.refusedNodeset[d.vm.name];
    if (d.refusal) refusedNodeset[d.vm.name] = `${d.vm.uuid} ${d.place.memory.nodeset}`;
    else if (was !== undefined && was === `${d.vm.uuid} ${d.place.memory.nodeset}`) refusedNodeset[d.vm.name] = was;
  }
  return { heldCycles, targets, cooldown, refusedNodeset };
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
