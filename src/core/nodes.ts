/**
 * Small facts about a host's nodes that the daemon (through the host view, src/core/host-view.ts)
 * and the solver both need, written once so they cannot disagree: which node a CPU belongs to,
 * which CPUs are reserved, which ones VMs may use, the most common node of a list, and the vCPU
 * load each node carries. Pure.
 */
import { parseCpuSet } from './cpuset.js';
import type { HostTopology, NumaNode } from './topology.js';

/** Online CPU -> node: the nodes' CPU lists, which is what capacity counts. */
export function onlineCpuNodes(topo: Pick<HostTopology, 'nodes'>): Map<number, number> {
  const m = new Map<number, number>();
  for (const n of topo.nodes) for (const c of n.cpus) m.set(c, n.id);
  return m;
}

/** CPU -> node, offline CPUs too: a node's CPU list wins over the per-CPU record, which only adds the CPUs no node lists. */
export function cpuNodeMap(topo: HostTopology): Map<number, number> {
  const m = onlineCpuNodes(topo);
  for (const c of topo.cpus) if (!m.has(c.id) && c.node >= 0) m.set(c.id, c.node);
  return m;
}

/** The CPUs no VM may use (config reservedCpus, problem.reservedCpus); absent or "" means none. */
export function reservedCpuSet(text: string | undefined): Set<number> {
  return new Set(text ? parseCpuSet(text, { allowEmpty: true }) : []);
}

/** The node's online CPUs that are not reserved: what VMs may run on. */
export function usableCpusOf(node: Pick<NumaNode, 'cpus'>, reserved: ReadonlySet<number>): number[] {
  return node.cpus.filter((c) => !reserved.has(c));
}

/** The node that appears most often, the lowest id on a tie; null for none. */
export function mostCommonNode(nodes: Iterable<number>): number | null {
  const counts = new Map<number, number>();
  for (const n of nodes) counts.set(n, (counts.get(n) ?? 0) + 1);
  let best: number | null = null;
  for (const [n, c] of counts) if (best === null || c > counts.get(best)! || (c === counts.get(best)! && n < best)) best = n;
  return best;
}

/** Add (sign 1) or take away (sign -1) the load of vCPUs on their nodes: vCPU i, on nodes[i], weighs load[i]. */
export function addNodeLoad(into: Map<number, number>, nodes: readonly number[], load: readonly number[], sign: 1 | -1 = 1): void {
  nodes.forEach((n, i) => into.set(n, (into.get(n) ?? 0) + sign * (load[i] ?? 0)));
}

/** vCPU load per node where the VMs are now (a problem's `current`); VMs never placed count nowhere. */
export function nodeLoads(vms: Iterable<{ load: readonly number[]; current?: { vcpuNodes: readonly number[] } }>): Map<number, number> {
  const out = new Map<number, number>();
  for (const vm of vms) if (vm.current) addNodeLoad(out, vm.current.vcpuNodes, vm.load);
  return out;
}
