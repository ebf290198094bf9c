/**
 * The hot-plug stage of a daemon cycle, between building the Problem and solving it:
 * runs planHotplug, grows the Problem so the solver places what is added, and says which
 * vCPUs are fresh (the planner pins them at once). The loop then puts `steps` before the
 * planner's steps (setVcpus must precede the new vCPUs' pins; the executor keeps one VM's
 * steps in order) and adds `refused` to the cycle's refusals.
 */
import type { HostView } from '../core/host-view.js';
import type { HostSample, VmSample } from '../core/sample.js';
import type { Refusal, Step } from '../core/steps.js';
import type { Problem } from '../../solver/index.js';
import { applyProblemAdjustments } from './adjust-problem.js';
import type { HotplugPlanConfig } from './config.js';
import { guestVcpuReport, type GuestVcpuReport } from './guest-vcpus.js';
import type { LoadsByVm } from './host-room.js';
import { planHotplug } from './plan-hotplug.js';
import { refusalReason, shouldLog, type HotplugRefusal } from './refusal.js';
import type { HotplugDecision } from './settle.js';
import type { HotplugState } from './state.js';

export interface HotplugStageInput {
  /** The cycle's host view (where vCPUs are, node capacity). */
  view: HostView;
  sample: HostSample;
  /** Per-vCPU busy fraction of the last cycle (not smoothed). */
  lastLoads: LoadsByVm;
  state: HotplugState;
  config: HotplugPlanConfig;
  excluded: { has(name: string): boolean };
  problem: Problem;
}

export interface HotplugStage {
  steps: Step[];
  /** The Problem with the grown VMs. */
  problem: Problem;
  /** VM -> vCPU ids plugged this cycle (PlanInput.fresh). */
  fresh: Map<string, number[]>;
  /** Every refusal this cycle (repeated ones too), for metrics. */
  refusals: HotplugRefusal[];
  /** The plan/apply JSON `refused` entries: every refusal this cycle. */
  refused: Refusal[];
  /** Log lines: new lasting refusals (warn), decisions and advice (info). Transient refusals are metric only. */
  log: { level: 'info' | 'warn'; message: string; fields: Record<string, unknown> }[];
  /** Guest-reported online vCPUs per running VM (null where unknown). */
  guest: GuestVcpuReport[];
  /** The state as if every decided hot-plug were done; commitCycle settles it by what was executed. */
  state: HotplugState;
  decided: HotplugDecision[];
}

export function hotplugStage(input: HotplugStageInput): HotplugStage {
  const hp = planHotplug(input.view, input.sample, input.lastLoads, input.state, input.config, input.excluded);
  const problem = applyProblemAdjustments(input.problem, hp.problemAdjustments);
  const fresh = new Map<string, number[]>();
  const log: HotplugStage['log'] = [];
  for (const a of hp.problemAdjustments) {
    if (a.kind === 'vcpus') {
      fresh.set(a.vm, a.addedVcpus);
      log.push({ level: 'info', message: `hot-plug: ${a.vm} saturated, growing to ${a.vcpus} vCPUs`, fields: { vm: a.vm, added: a.addedVcpus.length, node: a.preferredNode } });
    } else {
      log.push({ level: 'info', message: `hot-plug: ${a.vm} short of memory, adding ${a.MiB} MiB on guest node ${a.guestNode}`, fields: { vm: a.vm, MiB: a.MiB, guestNode: a.guestNode, hostNode: a.hostNode } });
    }
  }
  for (const r of hp.refusals.filter(shouldLog)) {
    log.push({ level: 'warn', message: refusalReason(r), fields: { vm: r.vm, kind: r.kind, code: r.code } });
  }
  for (const w of hp.warnings) log.push({ level: 'warn', message: `hot-plug: ${w.message}`, fields: { vm: w.vm } });
  const guest = input.sample.vms
    .filter((v: VmSample) => v.running && !input.excluded.has(v.name))
    .map((v) => guestVcpuReport(v, hp.state.vms[v.name]));
  return {
    steps: hp.steps,
    problem,
    fresh,
    refusals: hp.refusals,
    refused: hp.refusals.map((r) => ({ vm: r.vm, reason: refusalReason(r) })),
    log,
    guest,
    state: hp.state,
    decided: hp.decided,
  };
}
