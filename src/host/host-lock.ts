/**
 * One numaplace per libvirt host, whatever its state directory: an flock(2) on a fixed per-host
 * file, `/run/numaplace/host-HASH.lock` (HASH: of the connect URI). Taken by `run` and by one-shot
 * `apply`. Node has no flock, so the util-linux `flock(1)` utility takes it on a descriptor this
 * process opened and hands down (argument array, no shell): an flock belongs to the open file
 * description, which the child shares, so the lock stays after the child exits and is held for as
 * long as this process keeps the descriptor open. It vanishes with the process, SIGKILL included
 * (the kernel closes the descriptor); libuv opens files close-on-exec, so virsh children never
 * inherit it. The pid written in the file only names the holder in the error: a lock file left by
 * a dead process, or naming some unrelated live pid, is no obstacle (flock, not the pid, decides).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class HostLockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostLockError';
  }
}

export interface HostLock {
  readonly path: string;
  release(): void;
}

/** Exit status flock(1) uses for "held by another" (any status it does not use for errors). */
const CONFLICT = 75;

/** Where host locks live: $NUMAPLACE_LOCK_DIR (tests), /run/numaplace as root, else a per-user runtime dir. */
export function hostLockDir(env = process.env, uid = process.getuid?.() ?? 0): string {
  if (env.NUMAPLACE_LOCK_DIR) return env.NUMAPLACE_LOCK_DIR;
  if (uid === 0) return '/run/numaplace';
  return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'numaplace') : join(tmpdir(), `numaplace-${uid}`);
}

export function hostLockPath(uri: string, dir = hostLockDir()): string {
  const hash = createHash('sha256').update(uri.trim()).digest('hex').slice(0, 16);
  return join(dir, `host-${hash}.lock`);
}

function readHolder(fd: number): string {
  const buf = Buffer.alloc(512);
  const n = readSync(fd, buf, 0, buf.length, 0);
  // Printable only: the file may hold anything.
  return buf.subarray(0, n).toString('utf8').replace(/[^\x20-\x7e]+/g, ' ').trim();
}

/**
 * Take the host lock for `uri`, or throw HostLockError naming the holder. `what` goes into the file
 * (e.g. "run, state directory /var/lib/numaplace") so the refusal can say who holds it.
 */
export function acquireHostLock(uri: string, what: string, opts: { dir?: string; flockBinary?: string } = {}): HostLock {
  const dir = opts.dir ?? hostLockDir();
  const path = hostLockPath(uri, dir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new HostLockError(`cannot create the host lock directory ${dir}: ${(e as Error).message}; set NUMAPLACE_LOCK_DIR to a writable directory`);
  }
  return flockFile(path, `pid ${process.pid}, ${what}, connect ${uri}\n`, (holder) =>
    new HostLockError(`another numaplace manages ${uri} on this host (${holder || 'unknown process'}; lock ${path}); stop it first: one numaplace per libvirt host`),
  opts.flockBinary);
}

/**
 * An exclusive flock on `path` (created 0600), held by this process until release() or its end;
 * `content` is written into the file for whoever is refused. `conflict(holder)` makes the error
 * thrown when another process holds it (holder: the printable start of the file).
 */
export function flockFile(path: string, content: string, conflict: (holder: string) => Error, flockBinary = 'flock'): HostLock {
  let fd: number;
  try {
    fd = openSync(path, 'a+', 0o600);
  } catch (e) {
    throw new HostLockError(`cannot open the lock ${path}: ${(e as Error).message}`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new HostLockError(`the lock ${path} is not a regular file; remove it`);
    const r = spawnSync(flockBinary, ['--exclusive', '--nonblock', '--conflict-exit-code', String(CONFLICT), '3'], {
      stdio: ['ignore', 'ignore', 'pipe', fd],
      timeout: 10_000,
    });
    if (r.error) throw new HostLockError(`cannot take the lock ${path}: flock(1) from util-linux is needed (${r.error.message})`);
    if (r.status === CONFLICT) throw conflict(readHolder(fd));
    if (r.status !== 0) throw new HostLockError(`cannot take the lock ${path}: flock exited ${r.status ?? r.signal}: ${String(r.stderr).trim().split('\n')[0]}`);
    ftruncateSync(fd, 0);
    writeSync(fd, content, 0);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let open = true;
  return {
    path,
    release() {
      if (!open) return;
      open = false;
      // Closing the last descriptor drops the flock; the file stays (unlinking would race a new holder).
      try {
        ftruncateSync(fd, 0);
      } catch {
        // best effort
      }
      closeSync(fd);
    },
  };
}
