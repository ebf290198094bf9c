/**
 * The one place a cycle's outcome becomes the daemon's state (churn counters and cooldowns,
 * hot-plug detectors, applied settings), from what was executed rather than what was decided:
 * a VM whose move failed does not cool down, a hot-plug that failed is decided again next cycle.
 * Pure: the daemon loop checkpoints what it returns.
 */
import type { Step } from '../core/steps.js';
import type { ExecuteResult } from '../apply/executor.js';
import { settleHotplug, type HotplugOutcome } from '../hotplug/settle.js';
import { recordMoves } from '../plan/churn.js';
import type { CyclePlan } from './plan-cycle.js';
import type { Settings } from './settings.js';
import { forgetGoneVms, recordApplied, type DaemonState } from './state.js';

export interface ExecutedCycle {
  /** What the cycle decided (planCycle). */
  decision: Pick<CyclePlan, 'planned' | 'hotplug'>;
  /**
   * What execution did; null when nothing ran (advisory mode, or no steps). Then the decisions
   * count as given: advice for a hot-plug is not repeated every cycle, and nothing cools down.
   */
  executed: Pick<ExecuteResult, 'applied' | 'refusedSteps' | 'succeededVms'> | null;
  /** Every VM the host listed this cycle; state of the others is dropped. */
  listed: ReadonlySet<string>;
}

const sameStep = (a: Step) => (b: Step) => JSON.stringify(a) === JSON.stringify(b);

export function commitCycle(state: DaemonState, cycle: ExecutedCycle, settings: Pick<Settings, 'churn'>): DaemonState {
  const { planned, hotplug } = cycle.decision;
  const ex = cycle.executed;
  let churn = planned.churn;
  let next = state;
  let outcome: (step: Step) => HotplugOutcome = () => 'done';
  if (ex) {
    // Only a VM whose steps all went through has moved (a failed one was rolled back).
    const ok = new Set(ex.succeededVms);
    churn = recordMoves(planned.churn, planned.moving.filter((v) => ok.has(v)), settings.churn.cooldownCycles);
    next = recordApplied(next, ex.applied);
    outcome = (step) => (ex.applied.some(sameStep(step)) ? 'done' : ex.refusedSteps.some(sameStep(step)) ? 'refused' : 'not-done');
  }
  const hp = settleHotplug(hotplug.state, hotplug.decided, outcome);
  return forgetGoneVms({ ...next, churn, hotplug: hp }, cycle.listed);
}
