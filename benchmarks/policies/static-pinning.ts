/**
 * Static pinning at VM start, as OpenStack Nova (hw:numa_nodes=1, shared CPU policy) and oVirt do:
 * when a VM is first seen, pick ONE host node for it from the cloud's own accounting (vCPUs and
 * flavour memory allocated, not measured load), pin its vCPUs and emulator to that node's CPUs and
 * bind its memory there; never move it afterwards.
 * Node choice follows Nova's default since Yoga (packing_host_numa_cells_allocation_strategy=false):
 * the node with the most free resources that fits, with cpu_allocation_ratio 4.0 and
 * ram_allocation_ratio 1.0 (Nova's initial_* defaults). A VM that fits no single node stays
 * unpinned (Nova would refuse to boot it; here it already runs).
 */
import type { HostBackend, HostSample, VmSample } from '../../src/host/backend.js';
import { formatCpuSet } from '../../src/core/cpuset.js';
import type { Policy, PolicyRun } from './types.js';
import { LIVE, NO_BALANCING } from './types.js';

export const STATIC_DEFAULTS = { cpuAllocationRatio: 4.0, ramAllocationRatio: 1.0, checkIntervalMs: 5_000 };

export interface CellUsage {
  id: number;
  vcpuSlots: number;
  memoryMiB: number;
  vcpusUsed: number;
  memoryUsed: number;
}

/** The node Nova would pick for a VM, or null when none fits. Pure. */
export function pickCell(cells: CellUsage[], vcpus: number, memoryMiB: number): CellUsage | null {
  const fits = cells.filter((c) => c.vcpusUsed + vcpus <= c.vcpuSlots && c.memoryUsed + memoryMiB <= c.memoryMiB);
  if (fits.length === 0) return null;
  const free = (c: CellUsage) => [c.vcpuSlots - c.vcpusUsed, c.memoryMiB - c.memoryUsed];
  fits.sort((a, b) => free(b)[0] - free(a)[0] || free(b)[1] - free(a)[1] || a.id - b.id);
  return fits[0];
}

class StaticRun implements PolicyRun {
  private cells: CellUsage[] | null = null;
  /** VM -> its node (or -1 when it fitted nowhere), with what it was charged. */
  private placed = new Map<string, { node: number; vcpus: number; memoryMiB: number }>();

  private initCells(sample: HostSample): CellUsage[] {
    return sample.topology.nodes.filter((n) => n.cpus.length > 0).map((n) => ({
      id: n.id, vcpuSlots: n.cpus.length * STATIC_DEFAULTS.cpuAllocationRatio,
      memoryMiB: n.memoryMiB * STATIC_DEFAULTS.ramAllocationRatio, vcpusUsed: 0, memoryUsed: 0,
    }));
  }

  async act(backend: HostBackend): Promise<number> {
    const sample = await backend.sample();
    const cells = (this.cells ??= this.initCells(sample));
    const alive = new Set(sample.vms.map((v) => v.name));
    for (const [name, p] of this.placed) {
      if (alive.has(name)) continue;
      const c = cells.find((x) => x.id === p.node);
      if (c) { c.vcpusUsed -= p.vcpus; c.memoryUsed -= p.memoryMiB; }
      this.placed.delete(name);
    }
    for (const vm of sample.vms) {
      if (!vm.running || this.placed.has(vm.name)) continue;
      await this.boot(backend, sample, cells, vm);
    }
    return STATIC_DEFAULTS.checkIntervalMs;
  }

  private async boot(backend: HostBackend, sample: HostSample, cells: CellUsage[], vm: VmSample): Promise<void> {
    // Charged for the flavour's maximum vCPUs, as the cloud accounts them.
    const vcpus = vm.vcpusMax;
    const cell = pickCell(cells, vcpus, vm.memoryMiB);
    if (!cell) {
      this.placed.set(vm.name, { node: -1, vcpus: 0, memoryMiB: 0 });
      return;
    }
    cell.vcpusUsed += vcpus;
    cell.memoryUsed += vm.memoryMiB;
    this.placed.set(vm.name, { node: cell.id, vcpus, memoryMiB: vm.memoryMiB });
    const node = sample.topology.nodes.find((n) => n.id === cell.id)!;
    const cpuset = formatCpuSet(node.cpus);
    for (let i = 0; i < vm.vcpusCurrent; i++) await backend.pinVcpu(vm.name, i, cpuset, LIVE);
    await backend.pinEmulator(vm.name, cpuset, LIVE);
    await backend.setNodeset(vm.name, String(cell.id), LIVE);
  }
}

export const staticPinningPolicy: Policy = {
  name: 'static',
  description: 'static pinning at VM start (Nova/oVirt style): one node per VM by allocation, never moved',
  host: NO_BALANCING,
  create: () => new StaticRun(),
};
