/**
 * How much CPU room each host node has left: the "host capacity check first" of a hot-plug
 * decision. Where a vCPU is comes from the host view (src/core/host-view.ts), the same rule the
 * solver's current placement uses, so room is booked on the node the solver assumes.
 */
import { onlineVcpus, type HostView } from '../core/host-view.js';
import { mostCommonNode } from '../core/nodes.js';
import type { HostSample, VmSample } from '../core/sample.js';

export { onlineVcpus } from '../core/host-view.js';

/** Per-vCPU busy fraction of the last cycle, indexed by vCPU id; null/absent where offline or unknown. */
export type VcpuLoads = readonly (number | null | undefined)[];
export type LoadsByVm = ReadonlyMap<string, VcpuLoads>;

/** The node most of the VM's online vCPUs sit on (lowest id on a tie); null when unknown. */
export function mainNode(vm: VmSample, view: HostView): number | null {
  return mostCommonNode(onlineVcpus(vm).map((i) => view.vcpuNode(vm, i)).filter((n): n is number => n !== null));
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
export function nodeRoom(view: HostView, sample: HostSample, loads: LoadsByVm): NodeRoom[] {
  const rooms = sample.topology.nodes.map((n) => ({
    node: n.id,
    capacity: view.capacity(n.id),
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
      const n = view.vcpuNode(vm, i);
      const room = n === null ? undefined : byId.get(n);
      if (room) room.used += load;
      else if (totalCapacity > 0) for (const r of rooms) r.used += (load * r.capacity) / totalCapacity;
    }
  }
  return rooms;
}
