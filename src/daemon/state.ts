/**
 * The daemon's checkpoint: what numaplace applied, and the churn state (hold counters,
 * cooldowns, refused memory moves), so a restart neither forgets a cooldown nor repeats a
 * refusal. Written to a temp file, fsynced, renamed into place, mode 0600. A checkpoint that
 * cannot be read is reported, set aside as `state.json.corrupt-TIMESTAMP`, and the daemon starts
 * fresh: a bad file never becomes a crash loop.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { BoundedReadError, parseJsonBounded, readBoundedText, READ_LIMITS } from '../host/read-bounded.js';
import { join } from 'node:path';
import { isChurnState, newChurnState, type ChurnState } from '../plan/churn.js';
import { stepKey, type Step } from '../core/steps.js';
import { emptyHotplugState, parseHotplugState, type HotplugState } from '../hotplug/state.js';

export const STATE_FILE = 'state.json';
export const STATE_VERSION = 1;

export interface DaemonState {
  version: typeof STATE_VERSION;
  savedAt: string;
  /** Per VM: the last value numaplace applied for each setting (key: stepKey: the kind, plus the vCPU or cell it is for). */
  applied: Record<string, Record<string, Step>>;
  churn: ChurnState;
  /** Hot-plug detectors and remembered refusals (src/hotplug/state.ts). */
  hotplug: HotplugState;
}

export function freshState(): DaemonState {
  return { version: STATE_VERSION, savedAt: new Date(0).toISOString(), applied: {}, churn: newChurnState(), hotplug: emptyHotplugState() };
}

/** Record applied steps (the latest value of each setting wins). */
export function recordApplied(state: DaemonState, steps: readonly Step[]): DaemonState {
  const applied = { ...state.applied };
  for (const s of steps) applied[s.vm] = { ...(applied[s.vm] ?? {}), [stepKey(s)]: s };
  return { ...state, applied };
}

/**
 * Forget what is remembered about VMs that no longer exist. On a host where VMs come and go (new
 * names each time), per-VM records of gone VMs would otherwise pile up in memory and in the
 * checkpoint for as long as the daemon runs. `present`: every VM the host listed this cycle, those
 * it could not read included (a VM unreadable for one cycle is not gone).
 */
export function forgetGoneVms(state: DaemonState, present: ReadonlySet<string>): DaemonState {
  const keep = <T>(r: Record<string, T>): Record<string, T> => {
    const names = Object.keys(r);
    return names.every((n) => present.has(n)) ? r : Object.fromEntries(names.filter((n) => present.has(n)).map((n) => [n, r[n]]));
  };
  const c = state.churn;
  return {
    ...state,
    applied: keep(state.applied),
    churn: { ...c, targets: keep(c.targets), cooldown: keep(c.cooldown), refusedNodeset: keep(c.refusedNodeset) },
    hotplug: { ...state.hotplug, vms: keep(state.hotplug.vms) },
  };
}

function validState(x: unknown): x is DaemonState {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return o.version === STATE_VERSION && typeof o.applied === 'object' && o.applied !== null && !Array.isArray(o.applied) && isChurnState(o.churn);
}

export interface LoadedState {
  state: DaemonState;
  /** Set when the checkpoint was unreadable: what was wrong and where it went. */
  problem?: string;
}

/** Read the checkpoint in `dir`; none -> fresh; corrupt -> set aside, fresh, with `problem` saying so. */
export function loadState(dir: string, now: Date = new Date()): LoadedState {
  const path = join(dir, STATE_FILE);
  removeStaleTemps(dir);
  if (!existsSync(path)) return { state: freshState() };
  let why: string;
  try {
    const parsed: unknown = parseJsonBounded(path, readBoundedText(path, READ_LIMITS.state, 'checkpoint'));
    if (validState(parsed)) {
      const o = parsed as DaemonState & { hotplug?: unknown };
      return { state: { ...o, hotplug: o.hotplug === undefined ? emptyHotplugState() : parseHotplugState(o.hotplug) } };
    }
    why = `it is not a version-${STATE_VERSION} numaplace checkpoint`;
  } catch (e) {
    why = e instanceof BoundedReadError ? e.why : (e as Error).message.split('\n')[0].slice(0, 200);
  }
  const aside = `${path}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(path, aside);
  return { state: freshState(), problem: `checkpoint ${path} is unreadable (${why}); moved it to ${aside} and started fresh` };
}

/** Temp checkpoints left by a process killed mid-write (the daemon holds the lock when it loads: none is live). */
function removeStaleTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const f of names) {
    if (!f.startsWith(`${STATE_FILE}.tmp-`) || f === `${STATE_FILE}.tmp-${process.pid}`) continue;
    try {
      unlinkSync(join(dir, f));
    } catch {
      // gone already
    }
  }
}

/** Write atomically: temp file in the same directory, fsync, rename, fsync the directory. */
export function saveState(dir: string, state: DaemonState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, STATE_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify({ ...state, savedAt: new Date().toISOString() }, null, 1) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  }
}
