/**
 * `numaplace status`: what the daemon is doing, from the status.json it rewrites in its state
 * directory at the end of every cycle (src/daemon/status.ts). Reads no host.
 */
import { join } from 'node:path';
import { configFromFlags } from '../../daemon/config.js';
import { STATUS_FILE, type DaemonStatus } from '../../daemon/status.js';
import { BoundedReadError, parseJsonBounded, readBoundedText, READ_LIMITS } from '../../host/read-bounded.js';
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, UsageError, type Command } from '../args.js';
import { defaultStateDir } from './run.js';

const HELP = `usage: numaplace status [--state-dir DIR] [--config FILE] [--json]

What the running daemon is doing: whether it runs, its last cycle, the quality measure now,
planned and all-local, the changes waiting (churn rules, advice in advisory mode), refusals, the
VMs it leaves alone and why, and what makes it unhealthy. Read from DIR/${STATUS_FILE}, which
the daemon rewrites after every cycle. Exit status 0 when the daemon runs, 1 when it does not.

  --state-dir DIR   the daemon's state directory (default: the configuration's stateDir)
  --config FILE     configuration file, for stateDir (default: /etc/numaplace/numaplace.json when it exists)
  --json            print status.json as it is, plus "running"
`;

/** Whether a process with this pid exists (EPERM: it exists but is not ours to signal). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ago(iso: string, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export function formatStatus(s: DaemonStatus, running: boolean, now: Date): string {
  const lines: string[] = [];
  lines.push(running ? `numaplace: running (pid ${s.pid}), mode ${s.mode}` : `numaplace: NOT running (pid ${s.pid} is gone; status written ${ago(s.writtenAt, now)})`);
  const c = s.lastCycle;
  lines.push(`last cycle: ${c.startedAt} (${ago(c.startedAt, now)}), ${c.outcome}${c.error ? ` (${c.error})` : ''}, ${r1(c.durationMs / 1000)} s, ${c.steps} step(s): ${c.applied} applied, ${c.failed} failed${c.placement ? `; placement ${c.placement}` : ''}`);
  lines.push(`last successful cycle: ${s.lastSuccessfulCycleAt ? `${s.lastSuccessfulCycleAt} (${ago(s.lastSuccessfulCycleAt, now)})` : 'none yet'}`);
  if (s.quality) {
    const q = s.quality;
    const above = q.allLocal > 0 ? ` (${r1((q.now / q.allLocal - 1) * 100)}% above all-local)` : '';
    lines.push(`quality (load-weighted NUMA distance, lower is better): now ${r1(q.now)}, planned ${r1(q.planned)}, all-local ${r1(q.allLocal)}${above}`);
  }
  const list = (title: string, items: string[]) => lines.push(`${title} (${items.length})${items.length ? ':' : ''}`, ...items.map((i) => `  ${i}`));
  list('pending', s.pending.map((p) => `${p.vm}: ${p.what}`));
  list('refused', s.refusals.map((r) => `${r.vm}: ${r.reason}`));
  list('left alone', s.leftAlone.map((l) => `${l.vm}: ${l.why}`));
  lines.push(`problem: ${s.problem ?? 'none'}`);
  return lines.join('\n') + '\n';
}

export const command: Command = {
  async run(argv) {
    const { values } = parseCommandArgs(argv, { 'state-dir': { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } });
    if (values.help) {
      process.stdout.write(HELP);
      return EXIT_OK;
    }
    const dir = values['state-dir'] ?? defaultStateDir(configFromFlags(values), false);
    const path = join(dir, STATUS_FILE);
    let status: DaemonStatus;
    try {
      status = parseJsonBounded(path, readBoundedText(path, READ_LIMITS.state, 'status file')) as DaemonStatus;
    } catch (e) {
      if (e instanceof BoundedReadError && e.code === 'ENOENT') {
        process.stderr.write(`numaplace status: no daemon has completed a cycle with state directory ${dir} (no ${STATUS_FILE}); is it running? (systemctl status numaplace)\n`);
        return EXIT_FAILURE;
      }
      throw new UsageError(e instanceof BoundedReadError ? e.message : `${path}: ${(e as Error).message}`);
    }
    if (typeof status?.pid !== 'number' || typeof status.lastCycle !== 'object') throw new UsageError(`${path}: not a numaplace status file`);
    const running = alive(status.pid);
    process.stdout.write(values.json ? JSON.stringify({ running, ...status }, null, 2) + '\n' : formatStatus(status, running, new Date()));
    return running ? EXIT_OK : EXIT_FAILURE;
  },
};
