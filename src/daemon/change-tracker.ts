/**
 * Say things when they change, not every cycle: a keyed set of current facts compared with the
 * previous cycle's. Used for advisory-mode advice (the same plan is not logged again every cycle)
 * for VMs that cannot be read (said once when it starts, once when it ends) and for VMs left alone.
 */
export interface Changes<V> {
  added: [string, V][];
  changed: [string, V][];
  removed: string[];
}

export class ChangeTracker<V> {
  private last = new Map<string, string>();

  /** Compare `current` (key -> value) with the last call's; `sig` says when a value changed. */
  update(current: ReadonlyMap<string, V>, sig: (v: V) => string = (v) => JSON.stringify(v)): Changes<V> {
    const out: Changes<V> = { added: [], changed: [], removed: [] };
    const next = new Map<string, string>();
    for (const [k, v] of current) {
      const s = sig(v);
      next.set(k, s);
      const before = this.last.get(k);
      if (before === undefined) out.added.push([k, v]);
      else if (before !== s) out.changed.push([k, v]);
    }
    for (const k of this.last.keys()) if (!next.has(k)) out.removed.push(k);
    this.last = next;
    return out;
  }

  reset(): void {
    this.last.clear();
  }
}
