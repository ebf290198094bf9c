/**
 * After a crash: a journal `begin` with no `end` is a VM the process died in the middle of (SIGKILL,
 * OOM kill, power loss), some of its settings new and some old. Before the first cycle the daemon
 * puts each such VM back to the settings it had before that apply: the steps journaled as applied
 * and the one that was in flight are undone (setting an old value again is harmless if the step
 * never took effect); steps that cannot be undone (hot-plug) are reported. A VM that is gone, or is
 * another VM now under the same name, is left alone.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { HostBackend } from '../host/backend.js';
import { undoSteps } from './executor.js';
import { validateJournalEntry } from './journal-validate.js';
import type { BeginEntry, Journal, JournalEntry, UndoableStep } from './journal.js';

export interface InterruptedApply {
  vm: string;
  uuid: string | null;
  /** When the apply began. */
  at: string;
  /** The steps to undo, in the order they were applied. */
  toUndo: UndoableStep[];
}

export interface RecoveryOutcome {
  vm: string;
  at: string;
  /** rolled-back: back to the old settings; left: not touched (gone, or another VM); partial: some steps could not be undone. */
  result: 'rolled-back' | 'partial' | 'left';
  undone: number;
  problems: string[];
}

/** Only the journal's tail is read: an interrupted apply is the last thing the dead process wrote. */
export const RECOVERY_TAIL_BYTES = 4 * 1024 * 1024;

/**
 * The last `maxBytes` of the journal as entries; a torn or unreadable line is skipped, and so is a
 * malformed entry (journal-validate.ts), reported through `onBad` (1-based line in the tail read).
 */
export function readJournalTail(path: string, maxBytes = RECOVERY_TAIL_BYTES, onBad?: (line: number, problem: string) => void): JournalEntry[] {
  if (!existsSync(path)) return [];
  const st = statSync(path);
  if (!st.isFile()) {
    onBad?.(0, 'the journal is not a regular file; not read');
    return [];
  }
  const size = st.size;
  const start = Math.max(0, size - maxBytes);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString('utf8').split('\n');
  if (start > 0) lines.shift(); // starts mid-line
  const out: JournalEntry[] = [];
  const last = lines.length - 1;
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      // The line being written when the process died (the last one) is expected; others are damage.
      if (i !== last) onBad?.(i + 1, 'not JSON');
      continue;
    }
    const v = validateJournalEntry(parsed);
    if ('entry' in v) out.push(v.entry);
    else onBad?.(i + 1, v.problem);
  }
  return out;
}

const key = (x: unknown) => JSON.stringify(x);

/** VMs whose last `begin` has no `end` after it, with the steps to undo. */
export function findInterrupted(entries: readonly JournalEntry[]): InterruptedApply[] {
  // Per open VM: the result journaled for each of its planned steps, undefined until one is.
  const open = new Map<string, { begin: BeginEntry; results: (string | undefined)[] }>();
  for (const e of entries) {
    if ('begin' in e) open.set(e.vm, { begin: e, results: e.begin.map(() => undefined) });
    else if ('end' in e) open.delete(e.vm);
    else {
      const o = open.get(e.vm);
      if (!o || e.result === 'rolled-back' || e.result === 'rollback-failed') continue;
      const i = o.begin.begin.findIndex((s, j) => o.results[j] === undefined && key(s.step) === key(e.step));
      if (i >= 0) o.results[i] = e.result;
    }
  }
  return [...open.values()].map(({ begin, results }) => {
    // Applied steps are undone, and the one in flight; failed or refused ones did not change the host.
    const inFlight = results.indexOf(undefined);
    const toUndo = begin.begin.filter((_, j) => results[j] === 'applied' || j === inFlight);
    return { vm: begin.vm, uuid: begin.uuid, at: begin.at, toUndo };
  });
}

/** The VMs a killed numaplace left half-applied, from the tail of the journal at `path` (malformed entries skipped, told to `onBad`). */
export function interruptedApplies(path: string, onBad?: (line: number, problem: string) => void): InterruptedApply[] {
  return findInterrupted(readJournalTail(path, undefined, onBad));
}

/** Undo each interrupted apply through the backend, journaling every action and an `end: recovered`. */
export async function recoverInterrupted(backend: HostBackend, interrupted: readonly InterruptedApply[], journal: Journal): Promise<RecoveryOutcome[]> {
  if (interrupted.length === 0) return [];
  const present = new Map((await backend.sample()).vms.map((v) => [v.name, v.uuid]));
  const out: RecoveryOutcome[] = [];
  for (const it of interrupted) {
    const uuid = present.get(it.vm);
    if (uuid === undefined || (it.uuid !== null && uuid !== it.uuid)) {
      const why = uuid === undefined ? 'the VM no longer exists' : `the VM now named ${it.vm} is another one (uuid ${uuid}, was ${it.uuid})`;
      out.push({ vm: it.vm, at: it.at, result: 'left', undone: 0, problems: [why] });
    } else {
      const { kept, problems } = await undoSteps(backend, it.toUndo, (step, flags, result, error) =>
        journal.record({ vm: it.vm, step, flags, result, ...(error !== undefined ? { error } : {}) }),
      );
      out.push({ vm: it.vm, at: it.at, result: kept.length ? 'partial' : 'rolled-back', undone: it.toUndo.length - kept.length, problems });
    }
    journal.record({ vm: it.vm, end: 'recovered' });
  }
  return out;
}
