/**
 * Append-only journal of what numaplace did to VMs: one JSON object per line, file mode 0600.
 * Around each VM's steps the executor writes a `begin` entry (the steps and how to undo each, from
 * the sample) and an `end` entry: a `begin` with no `end` is a VM the process died in the middle of
 * (see recovery.ts). Appended lines outlive a killed process (page cache); `begin` is also fsynced,
 * so an intent outlives a power loss too.
 */
import { appendFileSync, chmodSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ApplyFlags } from '../host/backend.js';
import type { Step } from '../core/steps.js';

export type JournalResult = 'applied' | 'failed' | 'refused' | 'rolled-back' | 'rollback-failed';

/** One action and its outcome. */
export interface StepEntry {
  at: string;
  vm: string;
  step: Step;
  flags: ApplyFlags;
  result: JournalResult;
  error?: string;
}

/** A planned step with the step that puts back the sampled setting, or why none can. */
export interface UndoableStep {
  step: Step;
  flags: ApplyFlags;
  undo: Step | string;
}

/** Written before the first action on a VM. */
export interface BeginEntry {
  at: string;
  vm: string;
  uuid: string | null;
  begin: UndoableStep[];
}

/** Written after a VM's last action: done (all through), failed (rolled back), recovered (after a crash). */
export interface EndEntry {
  at: string;
  vm: string;
  end: 'done' | 'failed' | 'recovered';
}

export type JournalEntry = StepEntry | BeginEntry | EndEntry;
type WithoutAt<E> = E extends unknown ? Omit<E, 'at'> : never;
/** An entry as given to record(): the journal stamps `at`. */
export type NewJournalEntry = WithoutAt<JournalEntry>;

export interface Journal {
  record(entry: NewJournalEntry): void;
  /** false after the last write failed: the executor then applies nothing more (no change without its record). */
  healthy?(): boolean;
  /** What the last write failed with; null after a good one. */
  readonly lastError?: Error | null;
}

export const JOURNAL_FILE = 'journal.jsonl';

/** Past this size, the journal is renamed to journal.jsonl.1 (replacing an older one) when opened. */
export const JOURNAL_ROTATE_BYTES = 16 * 1024 * 1024;

export class FileJournal implements Journal {
  readonly path: string;
  private created = false;

  constructor(stateDir: string) {
    this.path = join(stateDir, JOURNAL_FILE);
  }

  /** Set after a write failed (reported once on stderr), cleared by the next good write. */
  lastError: Error | null = null;

  healthy(): boolean {
    return this.lastError === null;
  }

  record(entry: NewJournalEntry): void {
    try {
      if (!this.created) this.open();
      const line = JSON.stringify({ at: new Date().toISOString(), ...entry }) + '\n';
      if ('begin' in entry) this.appendDurably(line);
      else appendFileSync(this.path, line, { mode: 0o600 });
      if (!this.created) {
        // appendFileSync's mode applies only when it creates the file; an older file is tightened too.
        chmodSync(this.path, 0o600);
        this.created = true;
      }
      this.lastError = null;
    } catch (e) {
      // A VM already half-way through its steps finishes them; the executor starts no other VM.
      if (!this.lastError) process.stderr.write(`numaplace: cannot write the journal ${this.path}: ${(e as Error).message}; no new VM is changed until it can be written\n`);
      this.lastError = e as Error;
    }
  }

  /** First write of this process: make the directory, rotate a journal grown past the limit. Recovery reads before this. */
  private open(): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    try {
      if (statSync(this.path).size > JOURNAL_ROTATE_BYTES) renameSync(this.path, `${this.path}.1`);
    } catch {
      // no journal yet
    }
  }

  private appendDurably(line: string): void {
    const fd = openSync(this.path, 'a', 0o600);
    try {
      writeSync(fd, line);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** A journal kept in memory (plan/apply without a state dir, tests). */
export class MemoryJournal implements Journal {
  readonly entries: JournalEntry[] = [];
  record(entry: NewJournalEntry): void {
    this.entries.push({ at: new Date().toISOString(), ...entry } as JournalEntry);
  }
}
