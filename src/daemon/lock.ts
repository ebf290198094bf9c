/**
 * One daemon per state directory: an flock on STATE_DIR/numaplace.lock (src/host/host-lock.ts's
 * flockFile), which holds the owner's pid for the error message only. The kernel drops the lock when
 * its holder dies (SIGKILL too), so a lock file left behind, or naming some unrelated live pid after
 * a reboot, is no obstacle; only a live holder of the flock is.
 */
import { mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { flockFile } from '../host/host-lock.js';

export const LOCK_FILE = 'numaplace.lock';

export class LockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockError';
  }
}

export interface Lock {
  readonly path: string;
  release(): void;
}

/** Take the lock, or throw LockError naming the live owner. */
export function acquireLock(dir: string): Lock {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, LOCK_FILE);
  const held = flockFile(path, `${process.pid}\n`, (holder) => {
    const pid = /^\d+$/.test(holder) ? `pid ${holder}` : 'pid unknown';
    return new LockError(`another numaplace (${pid}) is running with state directory ${dir} (lock ${path}); stop it first, or use another --state-dir`);
  });
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      try {
        if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
      } catch {
        // already gone
      }
      held.release();
    },
  };
}
