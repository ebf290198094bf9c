/**
 * What a baseline policy can tell from two consecutive host samples: each vCPU's busy fraction,
 * each node's CPU use and each VM's memory per node. Uses only HostSample fields, as a real
 * tool would (numad reads /proc/<pid>/stat and numa_maps; here virsh-level data stands in).
 */
import type { HostSample, VmSample } from '../../src/host/backend.js';
import { buildHostView, type HostView } from '../../src/core/host-view.js';

export interface VmView {
  vm: VmSample;
  /** Busy fraction of each online vCPU over the last interval. */
  load: number[];
  /** CPUs used by the whole VM (sum of load). */
  cpus: number;
  /** Host node each online vCPU ran on last, -1 when unknown. */
  vcpuNodes: number[];
  memoryByNode: Record<string, number>;
  /** Nodes the VM is confined to by its vCPU pins, or null when it may run anywhere. */
  pinnedNodes: number[] | null;
}

/** What a baseline policy observes of the host between two samples. */
export interface ObservedHost {
  sample: HostSample;
  vms: VmView[];
  /** CPU busy (in CPUs) per node id, from the vCPUs that ran there. */
  nodeCpuUsed: Map<number, number>;
}

/** Keeps the previous sample to turn cumulative vCPU time into busy fractions. */
export class LoadTracker {
  private prev: HostSample | null = null;

  /** Null on the first sample: a load needs two. */
  update(sample: HostSample): ObservedHost | null {
    const prev = this.prev;
    this.prev = sample;
    if (!prev || sample.atMs <= prev.atMs) return null;
    const dtNs = (sample.atMs - prev.atMs) * 1e6;
    const before = new Map(prev.vms.map((v) => [v.name, v]));
    // numaplace's own view of where CPUs are (a node's CPU list wins; a per-CPU record of node -1
    // places nothing); no CPU is reserved for a baseline tool.
    const view = buildHostView(sample.topology, { reservedCpus: '', cpuOvercommit: 1 });
    const nodeCpuUsed = new Map(sample.topology.nodes.map((n) => [n.id, 0]));
    const vms: VmView[] = [];
    for (const vm of sample.vms) {
      if (!vm.running) continue;
      const old = before.get(vm.name);
      const load: number[] = [];
      const vcpuNodes: number[] = [];
      for (let i = 0; i < vm.vcpusCurrent; i++) {
        const now = vm.vcpuTimeNs[i];
        const then = old?.vcpuTimeNs[i];
        const l = now != null && then != null ? Math.min(1, Math.max(0, (now - then) / dtNs)) : 0;
        load.push(l);
        const last = vm.vcpuLastCpu[i];
        const node = last != null ? view.cpuNode.get(last) ?? -1 : -1;
        vcpuNodes.push(node);
        if (node >= 0) nodeCpuUsed.set(node, (nodeCpuUsed.get(node) ?? 0) + l);
      }
      vms.push({
        vm, load, cpus: load.reduce((a, b) => a + b, 0), vcpuNodes,
        memoryByNode: vm.memoryByNode ?? {},
        pinnedNodes: pinnedNodes(vm, view),
      });
    }
    return { sample, vms, nodeCpuUsed };
  }
}

function pinnedNodes(vm: VmSample, view: HostView): number[] | null {
  const nodes = new Set<number>();
  for (let i = 0; i < vm.vcpusCurrent; i++) {
    const pin = vm.vcpuPins[i];
    if (!pin) return null;
    for (const n of view.nodesOf(pin) ?? []) nodes.add(n);
  }
  if (nodes.size === 0 || nodes.size >= view.topology.nodes.length) return null;
  return [...nodes].sort((a, b) => a - b);
}

/** The CPUs of the given nodes, as cpuset text. */
export function nodesCpus(sample: HostSample, nodes: number[]): number[] {
  return sample.topology.nodes.filter((n) => nodes.includes(n.id)).flatMap((n) => n.cpus).sort((a, b) => a - b);
}
