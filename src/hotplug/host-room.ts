/**
 * Where a VM's vCPUs and memory sit now, and how much CPU room each host node
 * has left: the "host capacity check first" of a hot-plug decision.
 */
import type { HostSample, VmSample } from '../host/backend.js';
import { parseCpuSet } from '../topology/cpuset.js';
import type { HostTopology } from '../topology/types.js';

/** Per-vCPU busy fraction of the last cycle, indexed by vCPU id; null/absent where offline or unknown. */
export type VcpuLoads = readonly (number | null | undefined)[];
export type LoadsByVm = ReadonlyMap<string, VcpuLoads>;

export function cpuNodeMap(topo: HostTopology): Map<number, number> {
  const m = new Map<number, number>();
  for (const node of topo.nodes) for (const cpu of node.cpus) m.set(cpu, node.id);
  for (const cpu of topo.cpus) if (!m.has(cpu.id)) m.set(cpu.id, cpu.node);
  return m;
}

function nodesOfCpuset(text: string | null | undefined, cpuNode: Map<number, number>): Set<number> {
  const out = new Set<number>();
  if (!text) return out;
  let ids: number[];
  try {
    ids = parseCpuSet(text);
  } catch {
    return out;
  }
  for (const id of ids) {
    const n = cpuNode.get(id);
    if (n !== undefined) out.add(n);
  }
  return out;
}

/**
 * The host node vCPU `i` runs on: its pin when that lies within one node, else the
 * node of the CPU it last ran on; null when neither tells.
 */
export function vcpuNode(vm: VmSample, i: number, cpuNode: Map<number, number>): number | null {
  const pinned = nodesOfCpuset(vm.vcpuPins[i], cpuNode);
  if (pinned.size === 1) return [...pinned][0];
  const last = vm.vcpuLastCpu[i];
  if (last !== null && last !== undefined) {
    const n = cpuNode.get(last);
    if (n !== undefined) return n;
  }
  return null;
}

/** Online vCPU ids of a VM: those libvirt reports busy time for. */
export function onlineVcpus(vm: VmSample): number[] {
  const ids: number[] = [];
  vm.vcpuTimeNs.forEach((t, i) => {
    if (t !== null && t !== undefined) ids.push(i);
  });
  return ids;
}

/** The node most of the VM's online vCPUs sit on (lowest id on a tie); null when unknown. */
export function mainNode(vm: VmSample, cpuNode: Map<number, number>): number | null {
  const counts = new Map<number, number>();
  for (const i of onlineVcpus(vm)) {
    const n = vcpuNode(vm, i, cpuNode);
    if (n !== null) counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  let best: number | null = null;
  for (const [n, c] of counts) if (best === null || c > counts.get(best)! || (c === counts.get(best)! && n < best)) best = n;
  return best;
}

export interface NodeRoom {
  node: number;
  /** Unreserved CPUs x overcommit. */
  capacity: number;
  /** Summed last-cycle load of the vCPUs on the node. */
  used: number;
  freeMemoryMiB: number;
}

/**
 * CPU capacity and load per node. A vCPU whose node is unknown is spread over
 * the nodes in proportion to their capacity, so it still counts against the host.
 */
export function nodeRoom(sample: HostSample, loads: LoadsByVm, reservedCpus: string, cpuOvercommit: number): NodeRoom[] {
  const topo = sample.topology;
  const reserved = new Set(parseCpuSet(reservedCpus, { allowEmpty: true }));
  const cpuNode = cpuNodeMap(topo);
  const rooms = topo.nodes.map((n) => ({
    node: n.id,
    capacity: n.cpus.filter((c) => !reserved.has(c)).length * cpuOvercommit,
    used: 0,
    freeMemoryMiB: n.freeMemoryMiB,
  }));
  const byId = new Map(rooms.map((r) => [r.node, r]));
  const totalCapacity = rooms.reduce((a, r) => a + r.capacity, 0);
  for (const vm of sample.vms) {
    if (!vm.running) continue;
    const l = loads.get(vm.name);
    for (const i of onlineVcpus(vm)) {
      const load = l?.[i];
      if (load === null || load === undefined || !(load > 0)) continue;
      const n = vcpuNode(vm, i, cpuNode);
      const room = n === null ? undefined : byId.get(n);
      if (room) room.used += load;
      else if (totalCapacity > 0) for (const r of rooms) r.used += (load * r.capacity) / totalCapacity;
    }
  }
  return rooms;
}
