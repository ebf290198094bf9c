/**
 * A plan is data: the steps of the plan/apply JSON contract, each kind described once in
 * STEP_TABLE (in the style of the config table): its fields, how it reads in a log line, how a
 * journal entry of it is checked, which setting it changes, whether it can change a running VM,
 * whether a VM's settings already show it, and the step that puts back what a sample showed. The
 * Step type derives from the table. Running a step is the executor table's row
 * (src/apply/executors.ts), so a new kind is one row here and one row there; a kind missing from
 * either is a compile error. Pure.
 */
import { sameCpuSet } from './cpuset.js';
import { nodesetChangesLive } from './live-rules.js';
import type { PersistentDefinition, VmSample } from './sample.js';
import { SHARES_MAX, SHARES_MIN } from './shares.js';

/** A VM's settings as a step reads them: the live ones, or those of its persistent definition. */
export interface VmSettings {
  pin(vcpu: number): string | null | undefined;
  emulator: string | null | undefined;
  nodeset: string | null | undefined;
  shares: number | null | undefined;
}

/** What every kind of step knows about itself; S is the step (its `vm`, `kind` and own fields). */
export interface StepKindRow<S> {
  /** What the step does, in words (logs, `numaplace plan`): "pin vCPU 0 to 1-7". */
  describe(s: S): string;
  /** Why a journal entry's step is not a well-formed step of this kind (read back after a crash), or null. */
  invalid(x: Readonly<Record<string, unknown>>): string | null;
  /** The setting it changes, unique within the VM: the key of the daemon's record of applied settings. */
  key(s: S): string;
  /** False when libvirt cannot change it on a running VM: it is then written to the persistent definition alone. */
  changesLive(s: S, vm: VmSample | undefined): boolean;
  /** Whether `where` (the live VM or its persistent definition) differs from what the step sets; null when it cannot tell. */
  differs(s: S, where: VmSettings): boolean | null;
  /** Whether a running VM's live settings, read back, already show it. */
  inEffect(s: S, vm: VmSample): boolean;
  /** The step that puts back the live setting the sample showed (`allCpus`: every online CPU), or why none can. */
  undo(s: S, vm: VmSample | undefined, allCpus: string): S | string;
  /** The same for a write to the persistent definition alone; absent: undone as a live step is. */
  undoInDefinition?(s: S, def: PersistentDefinition): S | string;
}

type Base = { vm: string; kind: string };

/**
 * One row of the table; `F` is the kind's own fields (the plan/apply JSON contract), which the
 * never-set `fields` carries to the Step type.
 */
function kind<F extends object>(row: StepKindRow<Base & F>): StepKindRow<Base & F> & { readonly fields?: F } {
  return row;
}

const CPUSET = /^[0-9^,-]{1,4096}$/;
const isInt = (x: unknown, min = 0): x is number => Number.isSafeInteger(x) && (x as number) >= min;
const isCpuSet = (x: unknown): x is string => typeof x === 'string' && CPUSET.test(x);

/** Same CPUs; an absent or unreadable cpuset is never the same. */
function sameCpus(a: string | null | undefined, b: string): boolean {
  if (a === null || a === undefined) return false;
  try {
    return sameCpuSet(a, b);
  } catch {
    return false;
  }
}

const always = () => true;
const unknown = () => null;

export const STEP_TABLE = {
  pinVcpu: kind<{ vcpu: number; cpuset: string }>({
    describe: (s) => `pin vCPU ${s.vcpu} to ${s.cpuset}`,
    invalid: (x) => (isInt(x.vcpu) && isCpuSet(x.cpuset) ? null : 'pinVcpu needs an integer vcpu and a cpuset'),
    key: (s) => `pinVcpu:${s.vcpu}`,
    changesLive: always,
    differs: (s, where) => !sameCpus(where.pin(s.vcpu), s.cpuset),
    inEffect: (s, vm) => sameCpus(vm.vcpuPins[s.vcpu], s.cpuset),
    undo: (s, vm, allCpus) => ({ ...s, cpuset: vm?.vcpuPins[s.vcpu] ?? allCpus }),
    undoInDefinition: (s, def) => (def.vcpuPins[s.vcpu] ? { ...s, cpuset: def.vcpuPins[s.vcpu] } : 'the persistent definition had no pin for it to go back to'),
  }),
  pinEmulator: kind<{ cpuset: string }>({
    describe: (s) => `pin emulator to ${s.cpuset}`,
    invalid: (x) => (isCpuSet(x.cpuset) ? null : 'pinEmulator needs a cpuset'),
    key: () => 'pinEmulator',
    changesLive: always,
    differs: (s, where) => !sameCpus(where.emulator, s.cpuset),
    inEffect: (s, vm) => sameCpus(vm.emulatorPin, s.cpuset),
    undo: (s, vm, allCpus) => ({ ...s, cpuset: vm?.emulatorPin ?? allCpus }),
    undoInDefinition: (s, def) => (def.emulatorPin ? { ...s, cpuset: def.emulatorPin } : 'the persistent definition had no emulator pin to go back to'),
  }),
  setNodeset: kind<{ nodeset: string }>({
    describe: (s) => `memory to node(s) ${s.nodeset}`,
    invalid: (x) => (isCpuSet(x.nodeset) ? null : 'setNodeset needs a nodeset'),
    key: () => 'setNodeset',
    changesLive: (_, vm) => nodesetChangesLive(vm?.numatune),
    differs: (s, where) => !sameCpus(where.nodeset, s.nodeset),
    inEffect: (s, vm) => sameCpus(vm.numatune?.nodeset, s.nodeset),
    undo: (s, vm) => (vm?.numatune?.nodeset ? { ...s, nodeset: vm.numatune.nodeset } : 'the VM had no numatune nodeset to go back to'),
    undoInDefinition: (s, def) => (def.numatune?.nodeset ? { ...s, nodeset: def.numatune.nodeset } : 'the persistent definition had no nodeset to go back to'),
  }),
  /** A guest NUMA cell's host nodes (`<numatune><memnode>`): persistent definition only, libvirt 9 cannot change it live. */
  setMemnode: kind<{ cellid: number; nodeset: string }>({
    describe: (s) => `guest cell ${s.cellid} memory to node(s) ${s.nodeset} (persistent definition: from the next boot)`,
    invalid: (x) => (isInt(x.cellid) && isCpuSet(x.nodeset) ? null : 'setMemnode needs an integer cellid and a nodeset'),
    key: (s) => `setMemnode:${s.cellid}`,
    changesLive: () => false,
    // The planner emits a memnode only where the definition differs.
    differs: unknown,
    inEffect: () => false,
    undo: () => 'a memnode is written to the persistent definition only, and its earlier value is unknown',
    undoInDefinition: (s, def) => {
      const before = def.memnodes.find((m) => m.cellid === s.cellid);
      return before ? { ...s, nodeset: before.nodeset } : `the persistent definition had no memnode for cell ${s.cellid} to go back to`;
    },
  }),
  setShares: kind<{ shares: number }>({
    describe: (s) => `cpu_shares ${s.shares}`,
    invalid: (x) => (isInt(x.shares, SHARES_MIN) && x.shares <= SHARES_MAX ? null : `setShares needs shares from ${SHARES_MIN} to ${SHARES_MAX}`),
    key: () => 'setShares',
    changesLive: always,
    differs: (s, where) => where.shares !== s.shares,
    inEffect: (s, vm) => vm.cpuShares === s.shares,
    undo: (s, vm) => (vm?.cpuShares !== null && vm?.cpuShares !== undefined ? { ...s, shares: vm.cpuShares } : 'its earlier cpu_shares are unknown'),
    undoInDefinition: (s, def) => (def.shares !== null ? { ...s, shares: def.shares } : 'the persistent definition had no cpu_shares to go back to'),
  }),
  setVcpus: kind<{ count: number }>({
    describe: (s) => `vCPUs to ${s.count}`,
    invalid: (x) => (isInt(x.count, 1) ? null : 'setVcpus needs a count >= 1'),
    key: () => 'setVcpus',
    changesLive: always,
    differs: unknown,
    inEffect: (s, vm) => vm.vcpusCurrent === s.count,
    undo: (s, vm) => {
      if (vm && s.count > vm.vcpusCurrent) return 'hot-plugged vCPUs cannot be unplugged without guest support';
      return vm ? { ...s, count: vm.vcpusCurrent } : 'its earlier vCPU count is unknown';
    },
  }),
  attachMemory: kind<{ MiB: number; guestNode: number; sourceNodes?: string }>({
    describe: (s) => `attach ${s.MiB} MiB on guest node ${s.guestNode}`,
    invalid: (x) => (isInt(x.MiB, 1) && isInt(x.guestNode) && (x.sourceNodes === undefined || isCpuSet(x.sourceNodes)) ? null : 'attachMemory needs MiB >= 1 and a guestNode'),
    key: () => 'attachMemory',
    changesLive: always,
    differs: unknown,
    // A DIMM is never assumed attached.
    inEffect: () => false,
    undo: () => 'an attached DIMM cannot be detached without guest support',
  }),
};

export type StepKind = keyof typeof STEP_TABLE;

type FieldsOf<K extends StepKind> = (typeof STEP_TABLE)[K] extends { readonly fields?: infer F } ? F : never;
type Flat<T> = { [P in keyof T]: T[P] };

/** The step of one kind: `{ vm, kind, ...its fields }`. */
export type StepOf<K extends StepKind> = Flat<{ vm: string; kind: K } & FieldsOf<K>>;
export type Step = { [K in StepKind]: StepOf<K> }[StepKind];

/** Every kind, in table order. */
export const STEP_KINDS = Object.keys(STEP_TABLE) as readonly StepKind[];

/** The row of a step's kind. TypeScript cannot tie a kind read at run time to its row's type: the one cast. */
function rowOf(step: Step): StepKindRow<Step> {
  return STEP_TABLE[step.kind] as unknown as StepKindRow<Step>;
}

export function isStepKind(kind: unknown): kind is StepKind {
  return typeof kind === 'string' && Object.hasOwn(STEP_TABLE, kind);
}

/** What a step does, in words: "pin vCPU 0 to 1-7". */
export function describeStep(step: Step): string {
  return rowOf(step).describe(step);
}

/** The setting a step changes, unique within its VM. */
export function stepKey(step: Step): string {
  return rowOf(step).key(step);
}

/** Why `x`, of a known kind, lacks that kind's fields, or null. */
export function stepFieldsProblem(x: Readonly<Record<string, unknown>> & { kind: StepKind }): string | null {
  return STEP_TABLE[x.kind].invalid(x);
}

export function changesLive(step: Step, vm: VmSample | undefined): boolean {
  return rowOf(step).changesLive(step, vm);
}

export function stepDiffers(step: Step, where: VmSettings): boolean | null {
  return rowOf(step).differs(step, where);
}

/** Whether the live settings read back in `vm` already show `step`; never for a VM not running. */
export function stepInEffect(step: Step, vm: VmSample | undefined): boolean {
  return vm?.running === true && rowOf(step).inEffect(step, vm);
}

/** The step that puts back what the sample showed before `step` (from the definition for a write to it alone), or why none can. */
export function inverseStep(step: Step, vm: VmSample | undefined, allCpus: string, definitionOnly: boolean): Step | string {
  const row = rowOf(step);
  const def = vm?.definition;
  if (definitionOnly && def && row.undoInDefinition) return row.undoInDefinition(step, def);
  return row.undo(step, vm, allCpus);
}

/** The live settings of a VM, as a step reads them. */
export function liveSettings(vm: VmSample): VmSettings {
  return { pin: (i) => vm.vcpuPins[i], emulator: vm.emulatorPin, nodeset: vm.numatune?.nodeset, shares: vm.cpuShares };
}

/** The settings of a VM's persistent definition, as a step reads them. */
export function definitionSettings(def: PersistentDefinition): VmSettings {
  return { pin: (i) => def.vcpuPins[i], emulator: def.emulatorPin, nodeset: def.numatune?.nodeset, shares: def.shares };
}

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
