/**
 * Runs a plan's steps through a HostBackend, one VM at a time, that VM's steps together and in
 * order. When a step fails, the steps already applied to that VM are undone in reverse, back to
 * the settings the sample showed, and the VM is reported failed; the other VMs go on. A step the
 * host refuses for a structural reason (HostLimitationError: e.g. numatune in strict mode) is a
 * refusal, not a failure: the VM's other steps still apply. A step whose call timed out is read back
 * from the host: if it took effect it counts as applied, and only what really failed is rolled back.
 */
import type { ApplyFlags, HostBackend } from '../host/backend.js';
import type { HostSample, VmSample } from '../core/sample.js';
import { HostLimitationError } from '../host/errors.js';
import { changesLive, definitionSettings, inverseStep, liveSettings, stepDiffers, stepInEffect, type FailedStep, type Refusal, type Step } from '../core/steps.js';
import { formatCpuSet } from '../core/cpuset.js';
import { runStep } from './executors.js';
import type { Journal, JournalResult, UndoableStep } from './journal.js';

export interface ActionEvent {
  vm: string;
  step: Step;
  result: JournalResult;
  error?: string;
}

export interface ExecuteOptions {
  persistConfig: boolean;
  journal?: Journal;
  /** Checked between VMs: true stops before the next VM (SIGTERM finishes the current VM only). */
  shouldStop?: () => boolean;
  /** One call per action (the daemon logs a line each). */
  onAction?: (e: ActionEvent) => void;
}

export interface ExecuteResult {
  applied: Step[];
  failed: FailedStep[];
  /** The steps behind `refused` (the host refused them for a lasting reason; nothing changed). */
  refusedSteps: Step[];
  refused: Refusal[];
  /** VMs whose steps all went through (refusals aside), at least one of them. */
  succeededVms: string[];
  failedVms: string[];
  /** VMs not reached because shouldStop() said so. */
  notReached: string[];
}

/**
 * --live for a running VM whose live setting differs from the step's; --config when persistConfig,
 * the VM is persistent and its persistent definition differs (unknown definition: written). So a
 * setting already live but not in the definition is written to the definition alone, and one
 * already in the definition is not written there again. A step libvirt cannot change live (a
 * numatune nodeset of a non-restrictive VM, a guest cell's memnode) is written only to the
 * config. Hot-plug steps: live, and config when persistConfig.
 */
export function flagsFor(step: Step, vm: VmSample | undefined, persistConfig: boolean): ApplyFlags {
  if (!changesLive(step, vm)) return { live: false, config: true };
  const persistent = persistConfig && (vm?.persistent ?? false);
  const def = vm?.definition;
  const defDiffers = def ? stepDiffers(step, definitionSettings(def)) : null;
  const config = persistent && defDiffers !== false;
  const running = vm?.running ?? true;
  const liveDiffers = vm ? stepDiffers(step, liveSettings(vm)) : null;
  const live = running && liveDiffers !== false;
  // A step that changes nothing we can see (a stale sample): as before, live (and config when asked).
  if (!live && !config) return { live: running, config: persistent };
  return { live, config };
}

/** The step that puts back what the sample showed before `step` (applied with `flags`), or a reason it cannot be undone. */
export function undoFor(step: Step, vm: VmSample | undefined, sample: HostSample, flags?: ApplyFlags): Step | string {
  const allCpus = formatCpuSet(sample.topology.nodes.flatMap((n) => n.cpus));
  // A write to the persistent definition alone is undone from the definition.
  return inverseStep(step, vm, allCpus, flags !== undefined && !flags.live && flags.config);
}

/** True when a backend call was cut off by its timeout (VirshError.timedOut): it may still have taken effect. */
export function isTimeout(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { timedOut?: unknown }).timedOut === true;
}

/**
 * A live step whose call timed out is not a failed kernel operation (seen on a real 4-node kernel:
 * `numatune --live` outlasted virsh.timeoutMs while the kernel went on moving the memory): read the
 * host back and tell whether it took effect. False when it did not, or it cannot be read back.
 */
async function tookEffectAfterTimeout(backend: HostBackend, vm: string, step: Step, flags: ApplyFlags): Promise<boolean> {
  if (!flags.live) return false;
  try {
    const now = await backend.sample();
    return stepInEffect(step, now.vms.find((v) => v.name === vm));
  } catch {
    return false;
  }
}

/** Puts back, last first, what `steps` changed. Returns the steps left applied and why. */
export async function undoSteps(
  backend: HostBackend,
  steps: readonly UndoableStep[],
  note: (inverse: Step, flags: ApplyFlags, result: 'rolled-back' | 'rollback-failed', error?: string) => void,
): Promise<{ kept: Step[]; problems: string[] }> {
  const problems: string[] = [];
  const kept: Step[] = [];
  for (const { step, flags, undo } of [...steps].reverse()) {
    if (typeof undo === 'string') {
      problems.push(`${step.kind} left applied: ${undo}`);
      kept.unshift(step);
      continue;
    }
    try {
      await runStep(backend, undo, flags);
      note(undo, flags, 'rolled-back');
    } catch (e) {
      problems.push(`undoing ${step.kind} failed: ${message(e)}`);
      kept.unshift(step);
      note(undo, flags, 'rollback-failed', message(e));
    }
  }
  return { kept, problems };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function executePlan(backend: HostBackend, steps: readonly Step[], sample: HostSample, opts: ExecuteOptions): Promise<ExecuteResult> {
  const byVm = new Map<string, Step[]>();
  for (const s of steps) byVm.set(s.vm, [...(byVm.get(s.vm) ?? []), s]);
  const result: ExecuteResult = { applied: [], failed: [], refused: [], refusedSteps: [], succeededVms: [], failedVms: [], notReached: [] };
  const note = (vm: string, step: Step, flags: ApplyFlags, r: JournalResult, error?: string) => {
    opts.journal?.record({ vm, step, flags, result: r, ...(error !== undefined ? { error } : {}) });
    opts.onAction?.({ vm, step, result: r, ...(error !== undefined ? { error } : {}) });
  };
  let journalDown = false;
  for (const [name, vmSteps] of byVm) {
    if (journalDown || opts.shouldStop?.()) {
      result.notReached.push(name);
      continue;
    }
    const vm = sample.vms.find((v) => v.name === name);
    const intent = vmSteps.map((step) => {
      const flags = flagsFor(step, vm, opts.persistConfig);
      return { step, flags, undo: undoFor(step, vm, sample, flags) };
    });
    opts.journal?.record({ vm: name, uuid: vm?.uuid ?? null, begin: intent });
    // No change without its record: a begin that could not be written stops applying (this VM and the rest).
    if (opts.journal?.healthy?.() === false) {
      journalDown = true;
      result.notReached.push(name);
      continue;
    }
    const done: UndoableStep[] = [];
    let failure: { step: Step; error: string } | null = null;
    for (const one of intent) {
      const { step, flags } = one;
      try {
        await runStep(backend, step, flags);
        done.push(one);
        note(name, step, flags, 'applied');
      } catch (e) {
        if (e instanceof HostLimitationError) {
          result.refused.push({ vm: name, reason: `${step.kind}: ${e.reason}` });
          result.refusedSteps.push(step);
          note(name, step, flags, 'refused', e.reason);
          continue;
        }
        if (isTimeout(e) && (await tookEffectAfterTimeout(backend, name, step, flags))) {
          // Read back: it took effect. Counted applied; nothing of this VM is rolled back for it.
          done.push(one);
          note(name, step, flags, 'applied', `${message(e)}; read back: in effect`);
          continue;
        }
        failure = { step, error: message(e) };
        note(name, step, flags, 'failed', failure.error);
        break;
      }
    }
    if (!failure) {
      opts.journal?.record({ vm: name, end: 'done' });
      result.applied.push(...done.map((d) => d.step));
      // All refused (e.g. the VM stopped meanwhile): nothing changed, so it did not move.
      if (done.length > 0) result.succeededVms.push(name);
      continue;
    }
    // Undo this VM's applied steps, last first.
    const { kept, problems } = await undoSteps(backend, done, (inv, flags, r, error) => note(name, inv, flags, r, error));
    opts.journal?.record({ vm: name, end: 'failed' });
    result.applied.push(...kept);
    result.failed.push({ step: failure.step, error: problems.length === 0 ? `${failure.error} (earlier steps of ${name} rolled back)` : `${failure.error}; ${problems.join('; ')}` });
    result.failedVms.push(name);
  }
  return result;
}
