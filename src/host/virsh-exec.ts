/**
 * The one way numaplace runs virsh: argument arrays through execa (never a shell),
 * a timeout on every call, and a typed error carrying what failed.
 */
import { execa } from 'execa';

export class VirshError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
    readonly timedOut = false,
  ) {
    super(timedOut
      ? `virsh ${args.join(' ')} timed out`
      : `virsh ${args.join(' ')} failed (exit ${exitCode ?? 'none'}): ${stderr.trim().split('\n')[0] || 'no message'}`);
    this.name = 'VirshError';
  }
}

export interface VirshOptions {
  /** libvirt URI; omitted means virsh's own default. */
  uri?: string;
  /** Milliseconds before the call is killed. Default 30 s. */
  timeoutMs?: number;
  /** Path of the virsh binary (tests point it at a fake). */
  binary?: string;
}

export interface VirshCounters {
  calls: number;
  errors: number;
}

/** Run `virsh [-c URI] ...args` and return its stdout; throws VirshError. */
export async function runVirsh(args: readonly string[], opts: VirshOptions = {}, counters?: VirshCounters): Promise<string> {
  return (await runVirshCapture(args, opts, counters)).stdout;
}

/**
 * As runVirsh, but also return stderr. Needed for virsh's batch mode (several commands in one
 * process), where an earlier command's failure shows only on stderr and the exit status is the last one's.
 */
export async function runVirshCapture(
  args: readonly string[], opts: VirshOptions = {}, counters?: VirshCounters,
): Promise<{ stdout: string; stderr: string }> {
  const full = [...(opts.uri ? ['-c', opts.uri] : []), ...args];
  if (counters) counters.calls++;
  const r = await execa(opts.binary ?? 'virsh', full, {
    reject: false,
    timeout: opts.timeoutMs ?? 30_000,
    killSignal: 'SIGKILL',
    stdin: 'ignore',
    env: { LC_ALL: 'C' },
  });
  if (r.timedOut || r.exitCode !== 0 || r.failed) {
    if (counters) counters.errors++;
    throw new VirshError(args, r.exitCode, String(r.stderr ?? r.message ?? ''), Boolean(r.timedOut));
  }
  return { stdout: String(r.stdout), stderr: String(r.stderr ?? '') };
}
