/** Small helpers for tests that drive real processes: polling for a condition, a free loopback port. */
import { createServer } from 'node:net';

/** Polls `ok` every 100 ms; throws after `ms` naming `what` (a function: it may quote a log read at that moment). */
export async function waitFor(what: string | (() => string), ok: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
