import { type HostTopology, TopologyError } from './topology.js';

/**
 * Check a topology for the inconsistencies a parser or a hand-written file can
 * produce; throws TopologyError naming the first problem found. Returns the
 * same object so parsers can end with `return validateTopology(t)`.
 */
export function validateTopology(topo: HostTopology): HostTopology {
  if (!Array.isArray(topo.nodes) || topo.nodes.length === 0) throw new TopologyError('topology has no NUMA nodes');
  const ids = new Set<number>();
  for (const n of topo.nodes) {
    if (!Number.isInteger(n.id) || n.id < 0) throw new TopologyError(`node id ${JSON.stringify(n.id)} is not a non-negative integer`);
    if (ids.has(n.id)) throw new TopologyError(`node ${n.id} is listed twice`);
    ids.add(n.id);
  }
  const owner = new Map<number, number>();
  for (const n of topo.nodes) {
    for (const c of n.cpus) {
      if (!Number.isInteger(c) || c < 0) throw new TopologyError(`node ${n.id} lists CPU ${JSON.stringify(c)}, not a non-negative integer`);
      const prev = owner.get(c);
      if (prev !== undefined) throw new TopologyError(`CPU ${c} is in node ${prev} and node ${n.id}`);
      owner.set(c, n.id);
    }
    for (const k of ['memoryMiB', 'freeMemoryMiB'] as const) {
      if (!Number.isFinite(n[k]) || n[k] < 0) throw new TopologyError(`node ${n.id} has ${k} ${JSON.stringify(n[k])}; expected a number >= 0`);
    }
    if (n.freeMemoryMiB > n.memoryMiB) throw new TopologyError(`node ${n.id} has more free memory (${n.freeMemoryMiB} MiB) than memory (${n.memoryMiB} MiB)`);
    const keys = Object.keys(n.distances ?? {});
    if (keys.length !== topo.nodes.length) {
      throw new TopologyError(`node ${n.id} has ${keys.length} distances but there are ${topo.nodes.length} nodes (the distance matrix must be square)`);
    }
    for (const m of topo.nodes) {
      const d = n.distances[String(m.id)];
      if (d === undefined) throw new TopologyError(`node ${n.id} has no distance to node ${m.id}`);
      if (!Number.isFinite(d) || d <= 0) throw new TopologyError(`distance ${n.id}->${m.id} is ${JSON.stringify(d)}; expected a positive number`);
    }
    for (const k of keys) if (!ids.has(Number(k))) throw new TopologyError(`node ${n.id} has a distance to node ${k}, which does not exist`);
  }
  for (const c of topo.cpus ?? []) {
    if (c.online && owner.get(c.id) !== c.node) throw new TopologyError(`CPU ${c.id} is online in node ${c.node} but that node does not list it`);
  }
  return topo;
}
