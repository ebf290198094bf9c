/**
 * `numactl -H` (--hardware) text -> HostTopology:
 *
 *   available: 4 nodes (0-3)
 *   node 0 cpus: 0 1 2 3
 *   node 0 size: 31571 MB
 *   node 0 free: 17095 MB
 *   node distances:
 *   node   0   1
 *     0:  10  15
 *
 * numactl's "MB" are MiB (bytes >> 20). It says nothing of sockets, cores or threads, so CPU
 * details stay unknown (-1). Output that is cut short (a node without its cpus or size line) is
 * parsed as far as it goes, and what is missing becomes a warning.
 */
import { byId, DEFAULT_DISTANCE_WARNING, defaultDistances, distanceRow, parseCpuList, parseDistances, parseId, resolveMemory } from './parse-util.js';
import { type CpuInfo, type HostTopology, type NumaNode, TopologyError } from '../core/topology.js';
import { validateTopology } from '../core/topology-validate.js';

interface NodeLines {
  cpus?: number[];
  sizeMiB?: number;
  freeMiB?: number;
}

const NODE_LINE = /^node\s+(\S+)\s+(cpus|size|free):(.*)$/;

export function parseNumactl(text: string): HostTopology {
  const warnings: string[] = [];
  const lines = text.split('\n').map((l) => l.trimEnd());
  if (lines.some((l) => /No NUMA available/i.test(l))) throw new TopologyError('numactl says "No NUMA available on this system"');
  const nodes = new Map<number, NodeLines>();
  const get = (id: number) => {
    if (!nodes.has(id)) nodes.set(id, {});
    return nodes.get(id)!;
  };
  let announced: number[] | undefined;
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    if (line === 'node distances:') break;
    const avail = /^available:\s+(\d+)\s+nodes?\s+\((.*)\)$/.exec(line);
    if (avail) {
      announced = parseCpuList(avail[2], 'numactl "available:" node list');
      if (announced.length !== Number(avail[1])) {
        throw new TopologyError(`numactl says "available: ${avail[1]} nodes" but lists ${announced.length} (${avail[2]})`);
      }
      continue;
    }
    const m = NODE_LINE.exec(line);
    if (!m) throw new TopologyError(`numactl line ${i + 1} ${JSON.stringify(line)} is not recognised (expected "node N cpus|size|free: ...")`);
    const id = parseId(m[1], `numactl line ${i + 1}: node id`);
    const node = get(id);
    const value = m[3].trim();
    if (m[2] === 'cpus') {
      if (node.cpus) throw new TopologyError(`numactl lists the CPUs of node ${id} twice`);
      const ids = value === '' ? [] : value.split(/\s+/).map((t) => parseId(t, `numactl node ${id} CPU`));
      node.cpus = ids.sort((a, b) => a - b);
    } else {
      const mb = /^(\d+)\s+MB$/.exec(value);
      if (!mb) throw new TopologyError(`numactl node ${id} ${m[2]} ${JSON.stringify(value)} is not "N MB"`);
      if (m[2] === 'size') node.sizeMiB = Number(mb[1]);
      else node.freeMiB = Number(mb[1]);
    }
  }

  // The distance table, when present: a header of node ids, then one row per node.
  let matrix: Map<number, number[]> | undefined;
  let header: number[] | undefined;
  if (i < lines.length) {
    const rest = lines.slice(i + 1).map((l) => l.trim()).filter((l) => l !== '');
    const head = /^node\s+(.*)$/.exec(rest[0] ?? '');
    if (!head) throw new TopologyError('numactl "node distances:" is not followed by a "node 0 1 ..." header');
    header = head[1].trim().split(/\s+/).map((t) => parseId(t, 'numactl distance header node id'));
    matrix = new Map();
    for (const row of rest.slice(1)) {
      const m = /^(\S+):\s*(.*)$/.exec(row);
      if (!m) throw new TopologyError(`numactl distance row ${JSON.stringify(row)} is not "N: d d ..."`);
      const id = parseId(m[1], 'numactl distance row node id');
      if (matrix.has(id)) throw new TopologyError(`numactl gives the distance row of node ${id} twice`);
      matrix.set(id, parseDistances(m[2], `numactl distance row of node ${id}`));
    }
  }

  const ids = [...new Set([...nodes.keys(), ...(announced ?? []), ...(header ?? [])])].sort((a, b) => a - b);
  if (ids.length === 0) throw new TopologyError('numactl output names no NUMA node');
  if (announced && announced.join(',') !== ids.join(',')) {
    warnings.push(`numactl announces nodes ${announced.join(',')} but its lines name nodes ${ids.join(',')}`);
  }

  let defaultRows: Map<number, Record<string, number>> | undefined;
  if (!matrix) {
    defaultRows = defaultDistances(ids);
    warnings.push(DEFAULT_DISTANCE_WARNING('numactl output'));
  } else {
    if (header!.join(',') !== ids.join(',')) {
      throw new TopologyError(`numactl distance table covers nodes ${header!.join(',')} but the host has nodes ${ids.join(',')}: the distance matrix does not match the node list`);
    }
    const rows = [...matrix.keys()].sort((a, b) => a - b);
    if (rows.join(',') !== ids.join(',')) {
      throw new TopologyError(`numactl distance table has rows for nodes ${rows.join(',')} but the host has nodes ${ids.join(',')}: the distance matrix is not square`);
    }
  }

  const owner = new Map<number, number>();
  const result: NumaNode[] = [];
  const cpus: CpuInfo[] = [];
  for (const id of ids) {
    const n = nodes.get(id) ?? {};
    if (!nodes.has(id)) warnings.push(`node ${id} has no cpus, size or free line (output cut short?)`);
    else if (!n.cpus) warnings.push(`node ${id} has no "cpus" line (output cut short?): treated as having no CPUs`);
    const nodeCpus = n.cpus ?? [];
    for (const c of nodeCpus) {
      const prev = owner.get(c);
      if (prev !== undefined) throw new TopologyError(`CPU ${c} is in node ${prev} and node ${id}`);
      owner.set(c, id);
      cpus.push({ id: c, node: id, socket: -1, die: -1, core: -1, siblings: [c], online: true });
    }
    const memory = nodes.has(id)
      ? resolveMemory(id, n.sizeMiB === undefined ? undefined : n.sizeMiB * 1024, n.freeMiB === undefined ? undefined : n.freeMiB * 1024, warnings, {
        total: 'no "size" line (output cut short?)',
        free: 'no "free" line (output cut short?)',
      })
      : { memoryMiB: 0, freeMemoryMiB: 0 };
    const distances = defaultRows ? defaultRows.get(id)! : distanceRow(id, matrix!.get(id)!, ids, 'numactl distance table');
    result.push({ id, cpus: nodeCpus, ...memory, distances });
  }
  if (cpus.length > 0) warnings.push('numactl -H gives no socket, core or thread siblings: CPU details unknown');
  cpus.sort(byId);
  return validateTopology({ nodes: result, cpus, warnings, source: 'numactl' });
}
