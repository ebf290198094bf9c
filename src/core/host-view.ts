/**
 * One view of the host per cycle: every "where is it" and "how much room" question the
 * problem builder, hot-plug, planner and metrics ask, answered once and the same way for all.
 * (They used to keep their own copies, which disagreed: hot-plug booked room on a node other
 * than the one the solver assumed a vCPU on, metrics ignored reserved CPUs.) The cycle builds it
 * right after sampling (buildHostView) and passes it down; nothing fetches one on its own. Pure.
 */
import { parseCpuSet } from './cpuset.js';
import { cpuNodeMap, mostCommonNode, onlineCpuNodes, reservedCpuSet, usableCpusOf } from './nodes.js';
import { distanceMatrix, type DistanceMatrix } from './quality.js';
import type { VmSample } from './sample.js';
import type { HostTopology } from './topology.js';

/** The configuration keys the view depends on (structurally a subset of the daemon's settings). */
export interface HostViewSettings {
  /** cpuset text; "" = none. */
  reservedCpus: string;
  cpuOvercommit: number;
}

export interface HostView {
  readonly topology: HostTopology;
  /** CPU -> node. */
  readonly cpuNode: ReadonlyMap<number, number>;
  /** Online CPUs (those the nodes list). */
  readonly online: ReadonlySet<number>;
  readonly reserved: ReadonlySet<number>;
  readonly distances: DistanceMatrix;
  /** Nodes a cpuset reaches (unknown CPUs reach none); null when the text is absent or unreadable. */
  nodesOf(cpuset: string | null | undefined): Set<number> | null;
  /** Online, unreserved CPUs of the node: what VMs may run on. */
  usableCpus(node: number): number;
  /** CPU capacity of the node for vCPU load: usableCpus x cpuOvercommit. */
  capacity(node: number): number;
  /** The node vCPU i is on (see vcpuNode). */
  vcpuNode(vm: VmSample, i: number): number | null;
  /** The node of each online vCPU, unknown ones on the VM's most common known node; null when none is known. */
  vcpuNodes(vm: VmSample): number[] | null;
  /** MiB of the VM's memory on each node (see vmMemoryByNode). */
  memoryOf(vm: VmSample): Record<string, number>;
}

function safeParse(text: string | null | undefined): number[] | null {
  if (text === null || text === undefined) return null;
  try {
    return parseCpuSet(text);
  } catch {
    return null;
  }
}

/** Nodes a cpuset text reaches; CPUs the host does not know reach no node. Empty when absent or unreadable. */
export function nodesOfCpuSet(text: string | null | undefined, cpuNode: ReadonlyMap<number, number>): Set<number> {
  const out = new Set<number>();
  for (const c of safeParse(text) ?? []) {
    const n = cpuNode.get(c);
    if (n !== undefined) out.add(n);
  }
  return out;
}

/**
 * Node of vCPU i now: its pin when within one node. A vCPU allowed on several nodes is on none of
 * them for long (the scheduler moves it), so pinning it to any one of them is no move: it counts as
 * on the allowed node holding most of its VM's memory, where pinning it costs nothing and wins most.
 * Else the node it last ran on; null if unknown. The solver's current placement and hot-plug's
 * room both use this rule, so they agree where a vCPU is.
 */
export function vcpuNode(vm: VmSample, i: number, cpuNode: ReadonlyMap<number, number>): number | null {
  const pinned = nodesOfCpuSet(vm.vcpuPins[i], cpuNode);
  if (pinned.size === 1) return [...pinned][0];
  const allowed = pinned.size > 0 ? pinned : new Set(cpuNode.values());
  let home: number | null = null;
  let most = 0;
  for (const [node, mib] of Object.entries(vm.memoryByNode ?? {})) {
    const n = Number(node);
    if (allowed.has(n) && (mib > most || (mib === most && home !== null && n < home))) {
      home = n;
      most = mib;
    }
  }
  if (home !== null) return home;
  const last = vm.vcpuLastCpu[i];
  if (last !== null && last !== undefined && cpuNode.has(last)) return cpuNode.get(last)!;
  return null;
}

/** Current nodes of the VM's online vCPUs; unknown ones take the VM's most common known node. */
export function vcpuNodes(vm: VmSample, cpuNode: ReadonlyMap<number, number>): number[] | null {
  const nodes = Array.from({ length: vm.vcpusCurrent }, (_, i) => vcpuNode(vm, i, cpuNode));
  const common = mostCommonNode(nodes.filter((n): n is number => n !== null));
  if (common === null) return null;
  return nodes.map((n) => n ?? common);
}

/** Online vCPU ids of a VM: those libvirt reports busy time for. */
export function onlineVcpus(vm: VmSample): number[] {
  const ids: number[] = [];
  vm.vcpuTimeNs.forEach((t, i) => {
    if (t !== null && t !== undefined) ids.push(i);
  });
  return ids;
}

function spread(total: number, nodes: number[], into: Record<string, number>): void {
  for (const n of nodes) into[String(n)] = (into[String(n)] ?? 0) + total / nodes.length;
}

/**
 * MiB of the VM's memory on each host node: memoryByNode when the backend can tell, else the
 * numatune nodeset (per guest cell where memnodes cover the memory) split evenly, else spread
 * like its vCPUs; {} when nothing tells.
 */
export function vmMemoryByNode(vm: VmSample, topo: HostTopology, nodesOfVcpus: number[] | null): Record<string, number> {
  const nodeIds = new Set(topo.nodes.map((n) => n.id));
  const valid = (ids: number[] | null) => (ids ?? []).filter((n) => nodeIds.has(n));
  if (vm.memoryByNode) {
    const entries = Object.entries(vm.memoryByNode).filter(([, mib]) => mib > 0);
    if (entries.length > 0) return Object.fromEntries(entries);
  }
  if (vm.memnodes.length > 0 && vm.guestCells.length > 0) {
    const byCell: Record<string, number> = {};
    let covered = 0;
    for (const cell of vm.guestCells) {
      const nodes = valid(safeParse(vm.memnodes.find((m) => m.cellid === cell.id)?.nodeset));
      if (nodes.length === 0) continue;
      spread(cell.memoryMiB, nodes, byCell);
      covered += cell.memoryMiB;
    }
    if (covered > 0 && covered >= vm.memoryMiB * 0.999) return byCell;
  }
  const out: Record<string, number> = {};
  const ns = valid(safeParse(vm.numatune?.nodeset));
  if (ns.length > 0) {
    spread(vm.memoryMiB, ns, out);
    return out;
  }
  if (nodesOfVcpus && nodesOfVcpus.length > 0) {
    for (const n of nodesOfVcpus) out[String(n)] = (out[String(n)] ?? 0) + vm.memoryMiB / nodesOfVcpus.length;
  }
  return out;
}

/** A running libvirt job (migration, save, dump, snapshot): no job, or libvirt's words for none, is false. */
export function jobRunning(job: string | undefined): boolean {
  if (job === undefined) return false;
  const j = job.trim().toLowerCase();
  return j !== '' && j !== 'none';
}

/** The view of a sampled topology under these settings: built once per cycle, then passed to whoever asks. */
export function buildHostView(topology: HostTopology, settings: HostViewSettings): HostView {
  const cpuNode = cpuNodeMap(topology);
  const online = new Set(onlineCpuNodes(topology).keys());
  const reserved = reservedCpuSet(settings.reservedCpus);
  const usable = new Map(topology.nodes.map((n) => [n.id, usableCpusOf(n, reserved).length]));
  return {
    topology,
    cpuNode,
    online,
    reserved,
    distances: distanceMatrix(topology),
    nodesOf: (text) => (safeParse(text) === null ? null : nodesOfCpuSet(text, cpuNode)),
    usableCpus: (node) => usable.get(node) ?? 0,
    capacity: (node) => (usable.get(node) ?? 0) * settings.cpuOvercommit,
    vcpuNode: (vm, i) => vcpuNode(vm, i, cpuNode),
    vcpuNodes: (vm) => vcpuNodes(vm, cpuNode),
    memoryOf: (vm) => vmMemoryByNode(vm, topology, vcpuNodes(vm, cpuNode)),
  };
}
