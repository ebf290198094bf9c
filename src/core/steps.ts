/** A plan is data: the steps of the plan/apply JSON contract. */

export type Step =
  | { vm: string; kind: 'pinVcpu'; vcpu: number; cpuset: string }
  | { vm: string; kind: 'pinEmulator'; cpuset: string }
  | { vm: string; kind: 'setNodeset'; nodeset: string }
  /** A guest NUMA cell's host nodes (`<numatune><memnode>`): persistent definition only, libvirt 9 cannot change it live. */
  | { vm: string; kind: 'setMemnode'; cellid: number; nodeset: string }
  | { vm: string; kind: 'setShares'; shares: number }
  | { vm: string; kind: 'setVcpus'; count: number }
  | { vm: string; kind: 'attachMemory'; MiB: number; guestNode: number; sourceNodes?: string };

export type StepKind = Step['kind'];

export const STEP_KINDS: readonly StepKind[] = ['pinVcpu', 'pinEmulator', 'setNodeset', 'setMemnode', 'setShares', 'setVcpus', 'attachMemory'];

export interface FailedStep {
  step: Step;
  error: string;
}

export interface Refusal {
  vm: string;
  reason: string;
}

export interface Quality {
  now: number;
  planned: number;
  allLocal: number;
}

export interface PlanResult {
  steps: Step[];
  applied: Step[];
  failed: FailedStep[];
  refused: Refusal[];
  quality: Quality;
}
