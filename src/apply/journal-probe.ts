/**
 * Can the journal be written right now? Applying without a journal would leave a crash with no
 * record of what to undo, so the daemon applies nothing while this fails (a full or read-only state
 * directory) and resumes once it passes. The probe writes and fsyncs a small file beside the
 * journal and removes it: a full file system refuses the new block (ENOSPC), unlike an empty append.
 */
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const PROBE_BYTES = 4096;

/** null when `dir` takes a journal-sized write now; else what went wrong, naming the directory. */
export function journalWriteProblem(dir: string): string | null {
  const path = join(dir, `.journal-probe-${process.pid}`);
  let fd: number | null = null;
  try {
    fd = openSync(path, 'w', 0o600);
    writeSync(fd, Buffer.alloc(PROBE_BYTES, 0x20));
    fsyncSync(fd);
    return null;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOSPC' ? 'the file system is full' : err.code === 'EROFS' ? 'the file system is read-only' : err.code === 'EDQUOT' ? 'the disk quota is exceeded' : err.message;
    return `cannot write the journal in ${dir}: ${why}; nothing is applied until it can be written (free space there)`;
  } finally {
    if (fd !== null) closeSync(fd);
    try {
      unlinkSync(path);
    } catch {
      // not created
    }
  }
}
