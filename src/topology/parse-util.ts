/** Small pieces the topology parsers share: strict ids, unit scaling, distance rows. */
import { CpuSetError, parseCpuSet } from '../core/cpuset.js';
import { LOCAL_DISTANCE, REMOTE_DISTANCE, TopologyError } from '../core/topology.js';

/** A non-negative integer id written in decimal, or a TopologyError naming `what` and the text. */
export function parseId(text: string | undefined, what: string): number {
  const t = (text ?? '').trim();
  if (!/^\d+$/.test(t)) throw new TopologyError(`${what} ${JSON.stringify(t)} is not a non-negative integer`);
  return Number(t);
}

/** Like parseId but accepts -1, which the kernel uses for "no package/die" on some platforms. */
export function parseTopologyId(text: string | undefined, what: string): number {
  const t = (text ?? '').trim();
  if (t === '-1') return -1;
  return parseId(t, what);
}

/** A cpuset text from a source file, with errors naming where it came from. */
export function parseCpuList(text: string, what: string): number[] {
  try {
    return parseCpuSet(text, { allowEmpty: true });
  } catch (e) {
    if (e instanceof CpuSetError) throw new TopologyError(`${what}: ${e.message}`);
    throw e;
  }
}

/** MiB as numactl prints them: whole MiB, rounded down. */
export function kibToMiB(kib: number): number {
  return Math.floor(kib / 1024);
}

const UNIT_BYTES: Record<string, number> = {
  b: 1, bytes: 1,
  kb: 1e3, k: 1024, kib: 1024,
  mb: 1e6, m: 1024 ** 2, mib: 1024 ** 2,
  gb: 1e9, g: 1024 ** 3, gib: 1024 ** 3,
  tb: 1e12, t: 1024 ** 4, tib: 1024 ** 4,
};

/** Scale a libvirt memory value to KiB; libvirt's default unit is KiB. */
export function toKiB(value: number, unit: string | undefined, what: string): number {
  const factor = UNIT_BYTES[(unit ?? 'KiB').toLowerCase()];
  if (factor === undefined) throw new TopologyError(`${what} has unit ${JSON.stringify(unit)}; expected one of b, KiB, MiB, GiB, TiB, KB, MB, GB, TB`);
  return (value * factor) / 1024;
}

/** Kernel defaults (include/linux/topology.h) for a source without a SLIT. */
export function defaultDistances(nodeIds: number[]): Map<number, Record<string, number>> {
  const rows = new Map<number, Record<string, number>>();
  for (const i of nodeIds) {
    const row: Record<string, number> = {};
    for (const j of nodeIds) row[String(j)] = i === j ? LOCAL_DISTANCE : REMOTE_DISTANCE;
    rows.set(i, row);
  }
  return rows;
}

export const DEFAULT_DISTANCE_WARNING = (what: string) =>
  `${what} gives no NUMA distances: assumed the kernel defaults, ${LOCAL_DISTANCE} local and ${REMOTE_DISTANCE} remote`;

/**
 * Turn one node's distance values, listed in the order of `nodeIds`, into a row keyed by node id;
 * a row of another length means the matrix is not square.
 */
export function distanceRow(nodeId: number, values: number[], nodeIds: number[], what: string): Record<string, number> {
  if (values.length !== nodeIds.length) {
    throw new TopologyError(`${what}: node ${nodeId} has ${values.length} distances but there are ${nodeIds.length} nodes (${nodeIds.join(',')}): the distance matrix is not square`);
  }
  const row: Record<string, number> = {};
  nodeIds.forEach((j, k) => (row[String(j)] = values[k]));
  return row;
}

/** Parse whitespace-separated distances, rejecting anything that is not a positive integer. */
export function parseDistances(text: string, what: string): number[] {
  const parts = text.trim().split(/\s+/).filter((p) => p !== '');
  return parts.map((p) => {
    if (!/^\d+$/.test(p) || Number(p) === 0) throw new TopologyError(`${what}: distance ${JSON.stringify(p)} is not a positive integer`);
    return Number(p);
  });
}

/** Nodes sorted by id; used so every parser returns the same order. */
export function byId<T extends { id: number }>(a: T, b: T): number {
  return a.id - b.id;
}

/**
 * Total and free MiB of a node when a source may lack either: unknown free memory is taken as
 * the total (said in a warning), unknown total as the free amount (a lower bound, also said).
 */
export function resolveMemory(
  nodeId: number,
  totalKiB: number | undefined,
  freeKiB: number | undefined,
  warnings: string[],
  what: { total: string; free: string },
): { memoryMiB: number; freeMemoryMiB: number } {
  if (totalKiB !== undefined && freeKiB !== undefined) return { memoryMiB: kibToMiB(totalKiB), freeMemoryMiB: kibToMiB(freeKiB) };
  if (totalKiB !== undefined) {
    warnings.push(`node ${nodeId}: ${what.free}; free memory assumed equal to its total (${kibToMiB(totalKiB)} MiB)`);
    return { memoryMiB: kibToMiB(totalKiB), freeMemoryMiB: kibToMiB(totalKiB) };
  }
  if (freeKiB !== undefined) {
    warnings.push(`node ${nodeId}: ${what.total}; total memory taken as its free memory (${kibToMiB(freeKiB)} MiB), a lower bound`);
    return { memoryMiB: kibToMiB(freeKiB), freeMemoryMiB: kibToMiB(freeKiB) };
  }
  warnings.push(`node ${nodeId}: ${what.total} and ${what.free}; memory taken as 0`);
  return { memoryMiB: 0, freeMemoryMiB: 0 };
}
