/** The state directory a command will use, checked up front: one line naming it (exit 2), never a raw errno. */
import { mkdirSync, statSync } from 'node:fs';
import { UsageError } from './args.js';

export function checkStateDir(dir: string, from: string): void {
  let isDir: boolean | null = null;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UsageError(`${from} ${dir}: a part of the path is a file, not a directory; give a directory (it is created when missing)`);
    if (code !== 'ENOENT') throw new UsageError(`${from} ${dir}: cannot use it as the state directory (${code ?? (e as Error).message})`);
  }
  if (isDir === false) throw new UsageError(`${from} ${dir}: is a file, not a directory; give a directory for the checkpoint, journal and lock (it is created when missing)`);
  if (isDir === null) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : code === 'ENOSPC' ? 'no space left' : (code ?? (e as Error).message);
      throw new UsageError(`${from} ${dir}: cannot create the state directory (${why}); create it or give another with --state-dir`);
    }
  }
}
