/** Helpers for tests that run the daemon on real QEMU VMs and check the result outside numaplace. */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Daemon } from '../../src/daemon/loop.js';
import type { CycleReport } from '../../src/daemon/cycle.js';

/**
 * Run cycles `gapMs` apart until `done` holds (then `after` more cycles), at most `max` cycles:
 * on a busy shared machine a spinning TCG vCPU's share of a CPU varies from cycle to cycle.
 */
export async function cycles(daemon: Daemon, opts: { max: number; gapMs: number; done: (r: CycleReport) => boolean; after: number }): Promise<CycleReport[]> {
  const out: CycleReport[] = [];
  let left = Infinity;
  for (let i = 0; i < opts.max && left > 0; i++) {
    if (i > 0) await sleep(opts.gapMs);
    const r = await daemon.runCycle();
    expect(r.outcome, r.error).to.be.oneOf(['ok', 'warming-up']);
    out.push(r);
    if (left === Infinity && opts.done(r)) left = opts.after + 1;
    left--;
  }
  return out;
}

/** Thread name -> Cpus_allowed_list of a domain's QEMU process, read from /proc. */
export function threadAffinity(name: string): Map<string, string> {
  const pid = readFileSync(`/run/libvirt/qemu/${name}.pid`, 'utf8').trim();
  const out = new Map<string, string>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const allowed = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1];
      if (allowed) out.set(comm, allowed);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}
