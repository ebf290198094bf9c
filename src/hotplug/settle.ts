/**
 * Hot-plug state is settled by what was executed, not by what was decided: a setVcpus that
 * failed must not start the cooldown (or count vCPUs as plugged), or a saturated VM whose
 * hot-plug failed once would never be grown again. Pure.
 */
import type { Step } from '../core/steps.js';
import type { DetectorState } from './detector.js';
import type { HotplugKind } from './refusal.js';
import type { HotplugState, VmHotplugState } from './state.js';

export interface HotplugDecision {
  vm: string;
  kind: HotplugKind;
  step: Step;
  /** The VM's detector and plugged record of this kind just before the decision. */
  before: { detector: DetectorState; pluggedVcpus: number[]; attachedMiB: number };
}

/**
 * What became of a decided hot-plug step: `done` (applied), `refused` (the host refused it for
 * a lasting reason: it is not retried before the cooldown, like a done one, but nothing was
 * added), or `not-done` (failed, not reached): the VM is decided again next cycle.
 */
export type HotplugOutcome = 'done' | 'refused' | 'not-done';

/** `state` (every decision recorded as done) corrected by each decision's outcome. */
export function settleHotplug(state: HotplugState, decided: readonly HotplugDecision[], outcome: (step: Step) => HotplugOutcome): HotplugState {
  const vms: Record<string, VmHotplugState> = { ...state.vms };
  for (const d of decided) {
    const o = outcome(d.step);
    const s = vms[d.vm];
    if (o === 'done' || !s) continue;
    const next: VmHotplugState = { ...s };
    if (d.kind === 'vcpu') next.pluggedVcpus = [...d.before.pluggedVcpus];
    else next.attachedMiB = d.before.attachedMiB;
    if (o === 'not-done') next[d.kind] = { ...d.before.detector };
    vms[d.vm] = next;
  }
  return { ...state, vms };
}
