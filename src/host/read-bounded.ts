/**
 * Reading a file someone gave us (a config, a checkpoint, a saved capabilities output, a problem)
 * without trusting it: only a regular file (a FIFO would block for ever, /dev/zero never ends, a
 * directory is a mistake), at most `maxBytes` (read up to one byte more, never the whole of a huge
 * file), and JSON no deeper than a parser and our own recursive code can take. Errors are
 * BoundedReadError: one line naming the file and what to do.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export class BoundedReadError extends Error {
  constructor(
    readonly path: string,
    readonly why: string,
    /** The errno code when the file could not be opened (ENOENT, EACCES, ...) or EISDIR. */
    readonly code?: string,
  ) {
    super(`${path}: ${why}`);
    this.name = 'BoundedReadError';
  }
}

const MiB = 1024 * 1024;
/** Caps by kind of input; generous for real inputs, far below what would hurt. */
export const READ_LIMITS = {
  config: 1 * MiB,
  state: 64 * MiB,
  capabilities: 16 * MiB,
  text: 16 * MiB,
  problem: 64 * MiB,
} as const;

/** The deepest JSON nesting accepted (real configs, problems and checkpoints stay under 10). */
export const MAX_JSON_DEPTH = 64;

function describe(code: string | undefined, e: Error): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, expected a file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    default:
      return e.message;
  }
}

/** The file's text, or BoundedReadError when it is not a regular file or is larger than `maxBytes`. */
export function readBoundedText(path: string, maxBytes: number, what = 'file'): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not block (it is refused just below anyway).
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BoundedReadError(path, describe(code, e as Error), code);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new BoundedReadError(path, `is a directory, expected a ${what}`, 'EISDIR');
    if (!st.isFile()) {
      const kind = st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw new BoundedReadError(path, `is ${kind}, expected a regular ${what} file`);
    }
    if (st.size > maxBytes) throw new BoundedReadError(path, `is ${st.size} bytes, more than a ${what} may be (${maxBytes} bytes)`);
    const buf = Buffer.alloc(Math.min(maxBytes + 1, Math.max(st.size, 0) + 1));
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n === buf.length) {
        if (n > maxBytes) throw new BoundedReadError(path, `is more than a ${what} may be (${maxBytes} bytes)`);
        break; // grew while we read: what fits is read, the next read says if there is more
      }
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** null when `text` nests JSON arrays/objects at most `max` deep; else where it goes deeper. */
export function jsonDepthProblem(text: string, max = MAX_JSON_DEPTH): string | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return `JSON nested more than ${max} levels deep (at character ${i}); this is not a numaplace file`;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return null;
}

/** JSON.parse after the depth check; a syntax error says where, in one line, without the parser's dump. */
export function parseJsonBounded(path: string, text: string, max = MAX_JSON_DEPTH): unknown {
  const deep = jsonDepthProblem(text, max);
  if (deep) throw new BoundedReadError(path, deep);
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0].slice(0, 200);
    throw new BoundedReadError(path, `invalid JSON: ${msg}`);
  }
}
