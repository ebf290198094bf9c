/** "did you mean ...?" for a mistyped config key, flag or command: the nearest known name, if close. */

/** Levenshtein distance, case-insensitive (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** Close enough to be a typo: within 2 edits, or a third of the shorter name. */
export const isClose = (a: string, b: string): boolean => editDistance(a, b) <= Math.max(2, Math.floor(Math.min(a.length, b.length) / 3));

/** The known name nearest to `typed` when it is close, else null. */
export function closest(typed: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(typed, k);
    if (d < bestD && isClose(typed, k)) [best, bestD] = [k, d];
  }
  return best;
}
