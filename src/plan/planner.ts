/**
 * Placement + sample -> the steps that change only what differs, under the churn rules (pure).
 *
 * Per VM the planner compares the placement with what the sample shows (cpusets compared
 * normalised, nodeset, cpu_shares) and sorts the differences:
 * - a violation (a vCPU allowed onto reserved or offline CPUs, or onto CPUs of more than one
 *   node) or a node over its CPU capacity is corrected now, whatever the churn rules say;
 * - a move (some vCPU to another node, or the memory nodeset) waits until the possible relative
 *   improvement of the quality measure has exceeded churn.improvementMargin for churn.holdCycles
 *   cycles and the VM's target has stayed the same as long; then moves go by gain, at most
 *   churn.maxVmsPerCycle VMs, within churn.memoryMigrationMiBPerCycle, never onto a node they
 *   would overload, never a VM still cooling down from its last move;
 * - tidying (cpu_shares, an emulator pin or a cpuset on the same node) does not move anything
 *   and is done at once.
 * Excluded VMs never appear. A memory move for a VM whose numatune mode is not `restrictive` is
 * refused (libvirt cannot change it live); with persistConfig it is written for the next boot.
 */
import type { HostSample } from '../core/sample.js';
import type { Placement, Problem, ProblemVm } from '../../solver/index.js';
import { allLocalCost, vmCost } from '../core/quality.js';
import type { HostView } from '../core/host-view.js';
import type { SharesSettings } from '../core/shares.js';
import type { Quality, Refusal, Step } from '../core/steps.js';
import { tickChurn, type ChurnSettings, type ChurnState } from './churn.js';
import { diffVm, type VmDiff } from './diff.js';
import { selectMoves, type Deferral } from './select.js';

export type { Deferral } from './select.js';
export { vcpuViolation } from './diff.js';

/** The configuration keys the planner reads (structurally a subset of the daemon's settings). */
export interface PlannerSettings {
  churn: ChurnSettings;
  shares: SharesSettings['shares'] & { enabled: boolean };
  persistConfig: boolean;
}

export interface PlanInput {
  /** The cycle's host view: where vCPUs are, node capacity, distances. */
  view: HostView;
  sample: HostSample;
  problem: Problem;
  placement: Placement;
  excluded: ReadonlyMap<string, string>;
  settings: PlannerSettings;
  churn: ChurnState;
  /** false for an explicit operator action (`numaplace apply`): no hold and no cooldown. */
  holdRule: boolean;
  /** vCPUs hot-plugged this cycle (VM -> their ids): pinned now whatever the churn rules say, as they have no place yet. */
  fresh?: ReadonlyMap<string, readonly number[]>;
}

export interface PlanOutput {
  steps: Step[];
  /** Gain in the quality measure each step brings (same index as steps; 0 for tidying). */
  gains: number[];
  refused: Refusal[];
  quality: Quality;
  /** Possible relative improvement if the whole placement were applied. */
  improvement: number;
  /** VMs whose planned move waits, and why. */
  deferred: Deferral[];
  /** VMs this plan moves (vCPUs to another node or memory): they cool down once applied. */
  moving: string[];
  /** VMs corrected now because of a violation, with what it was. */
  violations: Deferral[];
  churn: ChurnState;
}

const EPS = 1e-9;

/** diff -> churn tick -> select -> steps. */
export function plan(input: PlanInput): PlanOutput {
  const { view, sample, problem, placement, settings } = input;
  const D = view.distances;
  const placeByName = new Map(placement.vms.map((p) => [p.name, p]));
  const problemByName = new Map(problem.vms.map((p) => [p.name, p]));

  const diffs: VmDiff[] = [];
  for (const vm of sample.vms) {
    if (!vm.running || input.excluded.has(vm.name)) continue;
    const pvm = problemByName.get(vm.name);
    const place = placeByName.get(vm.name);
    if (!pvm || !place || pvm.fixed) continue;
    diffs.push(diffVm(input, vm, pvm, place, view));
  }

  // Quality now, and what the whole placement could reach.
  const nowCost = (p: ProblemVm) => (p.current ? vmCost(D, { load: p.load, vcpuNodes: p.current.vcpuNodes, memoryMiB: p.current.memoryMiB }) : allLocalCost([p]));
  const diffByName = new Map(diffs.map((d) => [d.vm.name, d]));
  const targetCost = (d: VmDiff) => vmCost(D, { load: d.pvm.load, vcpuNodes: d.targetNodes, memoryMiB: d.targetMemory });
  let now = 0;
  let potential = 0;
  for (const p of problem.vms) {
    const c = nowCost(p);
    now += c;
    const d = diffByName.get(p.name);
    potential += d && d.move.length > 0 ? targetCost(d) : c;
  }
  const allLocal = allLocalCost(problem.vms);
  const improvement = now > EPS ? (now - potential) / now : 0;

  // Churn bookkeeping: hold counters and cooldowns tick once per plan, then moves are chosen.
  const churn = tickChurn(input.churn, { improvement, margin: settings.churn.improvementMargin, candidates: diffs, present: new Set(sample.vms.map((v) => v.name)) });
  const capacity = new Map(sample.topology.nodes.map((n) => [n.id, view.capacity(n.id)]));
  const { chosen, violations, deferred } = selectMoves({ diffs, problem, capacity, improvement, churn, rules: settings.churn, holdRule: input.holdRule });

  // Steps in sample order, one VM's steps together.
  const steps: Step[] = [];
  const gains: number[] = [];
  const refused: Refusal[] = [];
  let planned = 0;
  const plannedOf = new Map<string, number>();
  for (const d of diffs) {
    if (chosen.has(d)) {
      d.move.forEach((s, i) => {
        steps.push(s);
        gains.push(d.moveGains[i]);
      });
      plannedOf.set(d.vm.name, targetCost(d));
    }
    if (d.persistNodeset && (chosen.has(d) || d.move.length === 0)) {
      steps.push(d.persistNodeset);
      gains.push(0);
    }
    for (const s of d.tidy) {
      steps.push(s);
      gains.push(0);
    }
    if (d.refusal) refused.push(d.refusal);
  }
  for (const p of problem.vms) planned += plannedOf.get(p.name) ?? nowCost(p);

  const moving = diffs.filter((d) => chosen.has(d)).map((d) => d.vm.name);
  return {
    steps,
    gains,
    refused,
    quality: { now, planned, allLocal },
    improvement,
    deferred,
    moving,
    violations,
    churn,
  };
}
