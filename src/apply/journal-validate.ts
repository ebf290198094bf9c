/**
 * A journal line is read back after a crash and may have been damaged (a bad disk, a hand edit, a
 * torn or foreign write): crash recovery must only ever act on entries that are what the executor
 * writes. Each entry is checked here; a bad one is skipped and reported, never followed. Undo steps
 * are checked too: a known kind with well-formed values, on the entry's own VM (an entry for VM a
 * must never make recovery change VM b).
 */
import type { ApplyFlags } from '../host/backend.js';
import { isStepKind, stepFieldsProblem, type Step } from '../core/steps.js';
import type { JournalEntry } from './journal.js';

const MAX_NAME = 1024;
const MAX_STEPS = 10_000;

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Why `x` is not a step on VM `vm`, or null when it is one. */
export function stepProblem(x: unknown, vm: string): string | null {
  if (!isObj(x)) return 'a step is not an object';
  if (x.vm !== vm) return `a step names VM ${JSON.stringify(String(x.vm)).slice(0, 80)}, not the entry's own VM`;
  const { kind } = x;
  if (!isStepKind(kind)) return `unknown step kind ${JSON.stringify(String(kind)).slice(0, 40)}`;
  return stepFieldsProblem({ ...x, kind });
}

function flagsOk(x: unknown): x is ApplyFlags {
  return isObj(x) && typeof x.live === 'boolean' && typeof x.config === 'boolean';
}

/** The entry when it is a well-formed begin, step or end entry; else why not. */
export function validateJournalEntry(x: unknown): { entry: JournalEntry } | { problem: string } {
  if (!isObj(x)) return { problem: 'not a JSON object' };
  const vm = x.vm;
  if (typeof vm !== 'string' || vm === '' || vm.length > MAX_NAME) return { problem: 'no VM name ("vm")' };
  if (typeof x.at !== 'string' || x.at.length > 64) return { problem: 'no time ("at")' };
  if ('begin' in x) {
    if (!Array.isArray(x.begin) || x.begin.length > MAX_STEPS) return { problem: '"begin" is not a list of steps' };
    if (x.uuid !== null && typeof x.uuid !== 'string') return { problem: '"uuid" is neither a string nor null' };
    for (const [i, u] of x.begin.entries()) {
      if (!isObj(u)) return { problem: `begin[${i}] is not an object` };
      const p = stepProblem(u.step, vm) ?? (flagsOk(u.flags) ? null : 'no flags') ?? (typeof u.undo === 'string' ? null : stepProblem(u.undo, vm));
      if (p) return { problem: `begin[${i}]: ${p}` };
      if (isObj(u.undo) && isObj(u.step) && u.undo.kind !== u.step.kind) return { problem: `begin[${i}]: the undo step is not of the step's kind` };
    }
    return { entry: x as unknown as JournalEntry };
  }
  if ('end' in x) {
    return x.end === 'done' || x.end === 'failed' || x.end === 'recovered' ? { entry: x as unknown as JournalEntry } : { problem: 'unknown "end" value' };
  }
  if ('step' in x) {
    const p = stepProblem(x.step, vm);
    if (p) return { problem: p };
    if (!['applied', 'failed', 'refused', 'rolled-back', 'rollback-failed'].includes(x.result as string)) return { problem: 'unknown "result"' };
    return { entry: x as unknown as JournalEntry };
  }
  return { problem: 'neither a begin, a step nor an end entry' };
}

/** For callers that only need a yes/no. */
export function isStep(x: unknown, vm: string): x is Step {
  return stepProblem(x, vm) === null;
}
