/**
 * Say things when they change, not every cycle: a keyed set of current facts compared with what
 * was said last time. Used for advisory-mode advice (the same plan is not logged again every
 * cycle), for VMs that cannot be read (said once when it starts, once when it ends) and for VMs
 * left alone. Pure: the caller keeps `next` for the following cycle.
 */
export interface Changes<V> {
  added: [string, V][];
  changed: [string, V][];
  removed: string[];
}

/** What was said last time: key -> a signature of its value. */
export type Said = ReadonlyMap<string, string>;

/** Compare `current` (key -> value) with what was said; `sig` says when a value changed. */
export function changesSince<V>(said: Said, current: ReadonlyMap<string, V>, sig: (v: V) => string = (v) => JSON.stringify(v)): { changes: Changes<V>; next: Said } {
  const changes: Changes<V> = { added: [], changed: [], removed: [] };
  const next = new Map<string, string>();
  for (const [k, v] of current) {
    const s = sig(v);
    next.set(k, s);
    const before = said.get(k);
    if (before === undefined) changes.added.push([k, v]);
    else if (before !== s) changes.changed.push([k, v]);
  }
  for (const k of said.keys()) if (!next.has(k)) changes.removed.push(k);
  return { changes, next };
}
