/**
 * How each step kind is run: one backend call per kind (the other half of a kind's description,
 * beside its row in src/core/steps.ts's STEP_TABLE). A kind without a row here is a compile error.
 */
import type { ApplyFlags, HostBackend } from '../host/backend.js';
import type { Step, StepKind, StepOf } from '../core/steps.js';

type Executor<S> = (backend: HostBackend, step: S, flags: ApplyFlags) => Promise<void>;

export const EXECUTORS: { readonly [K in StepKind]: Executor<StepOf<K>> } = {
  pinVcpu: (b, s, flags) => b.pinVcpu(s.vm, s.vcpu, s.cpuset, flags),
  pinEmulator: (b, s, flags) => b.pinEmulator(s.vm, s.cpuset, flags),
  setNodeset: (b, s, flags) => b.setNodeset(s.vm, s.nodeset, flags),
  setMemnode: (b, s, flags) => b.setMemnode(s.vm, s.cellid, s.nodeset, flags),
  setShares: (b, s, flags) => b.setShares(s.vm, s.shares, flags),
  setVcpus: (b, s, flags) => b.setVcpus(s.vm, s.count, flags),
  attachMemory: (b, s, flags) => b.attachMemory(s.vm, { MiB: s.MiB, guestNode: s.guestNode, ...(s.sourceNodes ? { sourceNodes: s.sourceNodes } : {}) }, flags),
};

export function runStep(backend: HostBackend, step: Step, flags: ApplyFlags): Promise<void> {
  // TypeScript cannot tie a kind read at run time to its row's type: the one cast.
  return (EXECUTORS[step.kind] as Executor<Step>)(backend, step, flags);
}
