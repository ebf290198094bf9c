/** How `numaplace topology` shows a HostTopology: JSON (the contract) or text in numactl -H's spirit. */
import { formatCpuSet } from '../core/cpuset.js';
import type { HostTopology } from '../core/topology.js';

/** The topology JSON contract: nodes first (id, cpus, memoryMiB, freeMemoryMiB, distances), then details. */
export function topologyJson(t: HostTopology): object {
  return {
    nodes: t.nodes.map((n) => ({
      id: n.id,
      cpus: n.cpus,
      memoryMiB: n.memoryMiB,
      freeMemoryMiB: n.freeMemoryMiB,
      distances: n.distances,
      ...(n.pages ? { pages: n.pages } : {}),
    })),
    cpus: t.cpus,
    warnings: t.warnings,
    ...(t.source !== undefined ? { source: t.source } : {}),
  };
}

/**
 * JSON laid out for people: arrays of numbers and small flat objects (a CPU, a distance row) on
 * one line, so a 128-CPU host stays readable. Still plain JSON.
 */
export function stringifyCompact(value: unknown, indent = ''): string {
  const flat = (v: unknown) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'));
  const oneLine = (v: unknown): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    if (Array.isArray(v)) return `[${v.map(oneLine).join(', ')}]`;
    return `{${Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}: ${oneLine(x)}`).join(', ')}}`;
  };
  const strings = Array.isArray(value) && value.some((x) => typeof x === 'string');
  if ((flat(value) && !strings) || (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every(flat) && oneLine(value).length <= 100)) {
    return oneLine(value);
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + stringifyCompact(v, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as object).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${stringifyCompact(v, inner)}`).join(',\n')}\n${indent}}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Sockets, dies and threads per core, where the source knows them. */
function cpuSummary(t: HostTopology): string | undefined {
  const known = t.cpus.filter((c) => c.online && c.socket >= 0);
  if (known.length === 0) return undefined;
  const sockets = new Set(known.map((c) => c.socket));
  const dies = Math.max(...[...sockets].map((s) => new Set(known.filter((c) => c.socket === s).map((c) => c.die)).size));
  const threads = known.reduce((m, c) => Math.max(m, c.siblings.length), -Infinity);
  return `${plural(sockets.size, 'socket')}, ${plural(dies, 'die')} per socket, up to ${plural(threads, 'thread')} per core`;
}

export function formatTopologyText(t: HostTopology): string {
  const out: string[] = [];
  const ids = t.nodes.map((n) => n.id);
  const online = t.cpus.filter((c) => c.online).map((c) => c.id);
  const offline = t.cpus.filter((c) => !c.online).map((c) => c.id);
  if (t.source) out.push(`source: ${t.source}`);
  out.push(`available: ${plural(ids.length, 'node')} (${formatCpuSet(ids)}), ${online.length} CPUs online (${formatCpuSet(online) || 'none'})` +
    (offline.length ? `, ${offline.length} offline (${formatCpuSet(offline)})` : ''));
  const summary = cpuSummary(t);
  if (summary) out.push(`cpus: ${summary}`);
  for (const n of t.nodes) {
    out.push(`node ${n.id} cpus: ${n.cpus.length ? formatCpuSet(n.cpus) : '(none)'}`);
    out.push(`node ${n.id} size: ${n.memoryMiB} MiB`);
    out.push(`node ${n.id} free: ${n.freeMemoryMiB} MiB`);
  }
  out.push('node distances:');
  // A loop, not Math.max(...): N nodes give N^2 distances, past the engine's argument limit at ~500 nodes.
  let width = 3;
  for (const i of ids) width = Math.max(width, String(i).length);
  for (const n of t.nodes) for (const d of Object.values(n.distances)) width = Math.max(width, String(d).length);
  const cell = (s: string | number) => String(s).padStart(width + 1);
  out.push(`node${ids.map(cell).join('')}`);
  for (const n of t.nodes) out.push(`${`${n.id}:`.padStart(4)}${ids.map((j) => cell(n.distances[String(j)])).join('')}`);
  if (t.warnings.length) {
    out.push('warnings:');
    for (const w of t.warnings) out.push(`  - ${w}`);
  }
  return `${out.join('\n')}\n`;
}
