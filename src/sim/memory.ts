/**
 * Memory migration for one tick: a VM's memory outside its numatune nodeset moves into it at a
 * fixed rate (MiB per simulated second, per VM), as the kernel does after cpuset.mems changes
 * with memory_migrate on. Destinations are the nodeset's nodes with the most free memory first;
 * memory with nowhere to go stays where it is. Pure apart from updating the maps it is given.
 */

export interface MigrationResult {
  movedMiB: number;
  /** Fractional budget carried to the next tick (moves happen in whole MiB). */
  carry: number;
}

export function migrateMemory(
  memByNode: Map<number, number>,
  nodeset: ReadonlySet<number>,
  budgetMiB: number,
  freeByNode: Map<number, number>,
): MigrationResult {
  let budget = Math.floor(budgetMiB);
  const carry = budgetMiB - budget;
  let moved = 0;
  const sources = [...memByNode.entries()].filter(([n, mib]) => !nodeset.has(n) && mib > 0).sort((a, b) => a[0] - b[0]);
  if (sources.length === 0) return { movedMiB: 0, carry: 0 };
  for (const [src, have] of sources) {
    let left = Math.min(have, budget);
    while (left > 0) {
      const dest = [...nodeset].filter((n) => (freeByNode.get(n) ?? 0) >= 1).sort((a, b) => (freeByNode.get(b) ?? 0) - (freeByNode.get(a) ?? 0) || a - b)[0];
      if (dest === undefined) break;
      const chunk = Math.min(left, Math.floor(freeByNode.get(dest) ?? 0));
      memByNode.set(src, (memByNode.get(src) ?? 0) - chunk);
      memByNode.set(dest, (memByNode.get(dest) ?? 0) + chunk);
      freeByNode.set(src, (freeByNode.get(src) ?? 0) + chunk);
      freeByNode.set(dest, (freeByNode.get(dest) ?? 0) - chunk);
      left -= chunk;
      budget -= chunk;
      moved += chunk;
    }
    if (memByNode.get(src) === 0) memByNode.delete(src);
    if (budget <= 0) break;
  }
  return { movedMiB: moved, carry: budget > 0 ? 0 : carry };
}
