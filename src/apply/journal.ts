/** Append-only journal of what numaplace did to VMs: one JSON object per line, file mode 0600. */
import { appendFileSync, chmodSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ApplyFlags } from '../host/backend.js';
import type { Step } from '../plan/steps.js';

export type JournalResult = 'applied' | 'failed' | 'refused' | 'rolled-back' | 'rollback-failed';

export interface JournalEntry {
  at: string;
  vm: string;
  step: Step;
  flags: ApplyFlags;
  result: JournalResult;
  error?: string;
}

export interface Journal {
  record(entry: Omit<JournalEntry, 'at'>): void;
}

export const JOURNAL_FILE = 'journal.jsonl';

export class FileJournal implements Journal {
  readonly path: string;
  private created = false;

  constructor(stateDir: string) {
    this.path = join(stateDir, JOURNAL_FILE);
  }

  /** Set after a write failed (reported once on stderr); applying goes on without the journal. */
  lastError: Error | null = null;

  record(entry: Omit<JournalEntry, 'at'>): void {
    try {
      if (!this.created) mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      appendFileSync(this.path, JSON.stringify({ at: new Date().toISOString(), ...entry }) + '\n', { mode: 0o600 });
      if (!this.created) {
        // appendFileSync's mode applies only when it creates the file; an older file is tightened too.
        chmodSync(this.path, 0o600);
        this.created = true;
      }
    } catch (e) {
      // A journal that cannot be written must not stop a VM half-way through its steps.
      if (!this.lastError) process.stderr.write(`numaplace: cannot write the journal ${this.path}: ${(e as Error).message}; continuing without it\n`);
      this.lastError = e as Error;
    }
  }
}

/** A journal kept in memory (plan/apply without a state dir, tests). */
export class MemoryJournal implements Journal {
  readonly entries: JournalEntry[] = [];
  record(entry: Omit<JournalEntry, 'at'>): void {
    this.entries.push({ at: new Date().toISOString(), ...entry });
  }
}
