/**
 * The deciding half of a cycle, shared by the daemon and by `numaplace plan` / `apply`:
 * sample + its host view + loads -> problem -> hot-plug decisions -> solve -> plan. No action is
 * taken here.
 */
import type { HostView } from '../core/host-view.js';
import type { HostSample } from '../core/sample.js';
import { hotplugStage, type HotplugStage } from '../hotplug/stage.js';
import type { HotplugState } from '../hotplug/state.js';
import type { ChurnState } from '../plan/churn.js';
import { plan as makePlan, type PlanOutput } from '../plan/planner.js';
import { stayPlacement } from '../plan/stay.js';
import type { Refusal, Step } from '../core/steps.js';
import type { Placement, Problem } from '../../solver/index.js';
import { sampleToProblem } from './sample-to-problem.js';
import type { Settings } from './settings.js';

export type SolveFn = (problem: Problem) => Promise<Placement>;

/**
 * What the fallback of an infeasible solve does (stayPlacement), said the same way by the daemon's
 * log and by `plan`/`apply`: nothing moves between nodes, but every VM's pins still become the
 * usable CPUs of the nodes it runs on (which also takes them off reserved or offline CPUs), and
 * cpu_shares are still set.
 */
export const NO_PLACEMENT_FALLBACK =
  'every VM stays on its nodes (no vCPU or memory moves between nodes); pins are set to the usable CPUs of the nodes each VM runs on (off reserved and offline CPUs) and cpu_shares are set';

export interface CyclePlan {
  /** All steps: hot-plug first (a VM grows, then its vCPUs are placed), then placement and tidying. */
  steps: Step[];
  /** Gain in the quality measure of each step (same index). */
  gains: number[];
  /** Refusals worth reporting this cycle (placement and hot-plug). */
  refused: Refusal[];
  placement: Placement;
  problem: Problem;
  excluded: ReadonlyMap<string, string>;
  notes: string[];
  /** VMs left alone this cycle because a libvirt job runs on them (also in `refused`). */
  busy: Refusal[];
  planned: PlanOutput;
  hotplug: HotplugStage;
  solveMs: number;
}

export async function planCycle(args: {
  sample: HostSample;
  /** The cycle's view of the sampled host, passed to everything below. */
  view: HostView;
  /** Smoothed loads (placement) and last-cycle loads (hot-plug detectors). */
  loads: ReadonlyMap<string, number[]>;
  lastLoads: ReadonlyMap<string, number[]>;
  settings: Settings;
  churn: ChurnState;
  hotplug: HotplugState;
  solve: SolveFn;
  holdRule: boolean;
  clock?: () => number;
}): Promise<CyclePlan> {
  const clock = args.clock ?? Date.now;
  const { view } = args;
  const built = sampleToProblem(view, args.sample, args.loads, args.settings);
  const hp = hotplugStage({ view, sample: args.sample, lastLoads: args.lastLoads, state: args.hotplug, config: args.settings, excluded: built.excluded, problem: built.problem });
  const { problem, fresh } = hp;
  const t0 = clock();
  const placement = await args.solve(problem);
  const solveMs = clock() - t0;
  // No placement: VMs stay on their nodes, and only what breaks a hard rule (a reserved CPU) is put right.
  const stay = placement.status === 'infeasible' ? stayPlacement(problem, args.sample, placement.reason ?? 'no feasible placement') : null;
  const planned = makePlan({ view, sample: args.sample, problem, placement: stay ?? placement, excluded: built.excluded, settings: args.settings, churn: args.churn, holdRule: args.holdRule, fresh });
  return {
    steps: [...hp.steps, ...planned.steps],
    gains: [...hp.steps.map(() => 0), ...planned.gains],
    refused: [...built.busy, ...planned.refused, ...hp.refused],
    placement,
    problem,
    excluded: built.excluded,
    notes: built.notes,
    busy: built.busy,
    planned,
    hotplug: hp,
    solveMs,
  };
}
