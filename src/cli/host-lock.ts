/** The host lock for a command that changes a real host (`run`, `apply`); none for a simulated one. */
import { acquireHostLock, HostLockError, type HostLock } from '../host/host-lock.js';
import { UsageError } from './args.js';

/** Take it, or throw UsageError (exit 2) naming the holder. */
export function takeHostLock(values: { simulate?: string }, config: { connect: string }, what: string): HostLock | null {
  if (values.simulate !== undefined) return null;
  try {
    return acquireHostLock(config.connect, what);
  } catch (e) {
    if (e instanceof HostLockError) throw new UsageError(e.message);
    throw e;
  }
}
