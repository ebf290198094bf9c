/**
 * CPU (and NUMA node) sets in libvirt's syntax, as `virsh vcpupin`, `emulatorpin`
 * and `numatune --nodeset` accept them: comma-separated ids and ranges, with
 * `^N` excluding one id ("0-3,^1"). Formatting is canonical and matches what
 * virsh prints ("0,2-3").
 */

export class CpuSetError extends Error {
  constructor(readonly text: string, readonly why: string) {
    super(`invalid cpuset ${JSON.stringify(text)}: ${why}`);
    this.name = 'CpuSetError';
  }
}

/** Largest id accepted: libvirt's own bitmaps stop far below this; it guards against typos like 1e9. */
export const MAX_CPU_ID = 65535;

const ID = /^\d+$/;

function parseId(text: string, token: string): number {
  if (!ID.test(token)) throw new CpuSetError(text, `${JSON.stringify(token)} is not a CPU id (use digits, ranges like 2-5, or ^N to exclude)`);
  const n = Number(token);
  if (n > MAX_CPU_ID) throw new CpuSetError(text, `id ${n} is larger than ${MAX_CPU_ID}`);
  return n;
}

/**
 * Parse a cpuset into a sorted array of distinct ids.
 * `allowEmpty` accepts "" (an empty set); otherwise an empty text or a set that
 * exclusions leave empty is an error, as it is for virsh.
 */
export function parseCpuSet(text: string, opts: { allowEmpty?: boolean } = {}): number[] {
  if (typeof text !== 'string') throw new CpuSetError(String(text), 'not a string');
  // The daemon parses the same few texts (each node's CPUs) thousands of times a cycle at 200 VMs.
  const hit = PARSED.get(text);
  if (hit) return hit.slice();
  const ids = parseUncached(text, opts);
  if (ids.length > 0) remember(PARSED, text, ids.slice());
  return ids;
}

/** Bounded memo of parsed texts (only non-empty, valid results: errors and empty sets are recomputed). */
const PARSED = new Map<string, number[]>();
const NORMALIZED = new Map<string, string>();
const MEMO_LIMIT = 4096;

function remember<V>(m: Map<string, V>, k: string, v: V): void {
  if (m.size >= MEMO_LIMIT) m.clear();
  m.set(k, v);
}

function parseUncached(text: string, opts: { allowEmpty?: boolean }): number[] {
  const trimmed = text.trim();
  if (trimmed === '') {
    if (opts.allowEmpty) return [];
    throw new CpuSetError(text, 'empty (give at least one CPU, e.g. "0" or "0-3")');
  }
  const include = new Set<number>();
  const exclude = new Set<number>();
  for (const raw of trimmed.split(',')) {
    const item = raw.trim();
    if (item === '') throw new CpuSetError(text, 'empty item between commas');
    if (item.startsWith('^')) {
      const rest = item.slice(1).trim();
      if (rest === '') throw new CpuSetError(text, '"^" must be followed by a CPU id');
      if (rest.includes('-')) throw new CpuSetError(text, `exclusion ${JSON.stringify(item)} must name a single id, not a range`);
      exclude.add(parseId(text, rest));
      continue;
    }
    const dash = item.indexOf('-');
    if (dash === -1) {
      include.add(parseId(text, item));
      continue;
    }
    const lo = parseId(text, item.slice(0, dash).trim());
    const hi = parseId(text, item.slice(dash + 1).trim());
    if (hi < lo) throw new CpuSetError(text, `range ${JSON.stringify(item)} runs backwards (write ${hi}-${lo})`);
    for (let i = lo; i <= hi; i++) include.add(i);
  }
  const ids = [...include].filter((i) => !exclude.has(i)).sort((a, b) => a - b);
  if (ids.length === 0 && !opts.allowEmpty) throw new CpuSetError(text, 'the exclusions leave no CPU');
  return ids;
}

/** Canonical text: sorted, ranges of 2+ consecutive ids as "a-b", like virsh prints. */
export function formatCpuSet(ids: Iterable<number>): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Canonical form of a cpuset text (throws CpuSetError on bad input). */
export function normalizeCpuSet(text: string): string {
  const hit = NORMALIZED.get(text);
  if (hit !== undefined) return hit;
  const out = formatCpuSet(parseCpuSet(text));
  remember(NORMALIZED, text, out);
  return out;
}

/** True when two cpuset texts name the same CPUs. */
export function sameCpuSet(a: string, b: string): boolean {
  return normalizeCpuSet(a) === normalizeCpuSet(b);
}
