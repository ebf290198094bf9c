/**
 * Make the solver see a VM as it will be after this cycle's hot-plug, so the plan
 * places the new vCPUs (pinVcpu steps) and accounts the new memory in the same
 * cycle. The daemon applies these to the Problem it built from the sample.
 */
import type { Problem, ProblemVm } from '../../solver/index.js';
import { mostCommonNode } from '../core/nodes.js';

export interface VcpuAdjustment {
  vm: string;
  kind: 'vcpus';
  /** vCPU count after the hot-plug. */
  vcpus: number;
  addedVcpus: number[];
  /** Load each new vCPU is expected to carry. */
  addedLoad: number;
  /** Host node the capacity check booked the new vCPUs on (their "current" node for move costs); null if unknown. */
  preferredNode: number | null;
  /** Guest cell of each added vCPU, when the VM has guest NUMA. */
  addedCells?: number[];
}

export interface MemoryAdjustment {
  vm: string;
  kind: 'memory';
  MiB: number;
  guestNode: number;
  hostNode: number;
}

export type ProblemAdjustment = VcpuAdjustment | MemoryAdjustment;

function growVcpus(vm: ProblemVm, a: VcpuAdjustment): ProblemVm {
  const load = [...vm.load];
  while (load.length < vm.vcpus) load.push(0);
  const next: ProblemVm = { ...vm, vcpus: Math.max(vm.vcpus, a.vcpus), load };
  for (const v of a.addedVcpus) load[v] = a.addedLoad;
  for (let i = 0; i < next.vcpus; i++) if (load[i] === undefined) load[i] = 0;
  if (vm.current) {
    // A new vCPU has no node yet; give it the booked node (or the VM's usual one) so it costs no "move" there.
    const home = a.preferredNode ?? mostCommonNode(vm.current.vcpuNodes);
    if (home !== null) {
      const nodes = [...vm.current.vcpuNodes];
      for (let i = nodes.length; i < next.vcpus; i++) nodes[i] = home;
      next.current = { ...vm.current, vcpuNodes: nodes };
    }
  }
  if (vm.cells && a.addedCells) {
    next.cells = vm.cells.map((c) => {
      const extra = a.addedVcpus.filter((_, k) => a.addedCells![k] === c.id && !c.vcpus.includes(a.addedVcpus[k]));
      return extra.length ? { ...c, vcpus: [...c.vcpus, ...extra].sort((x, y) => x - y) } : c;
    });
  }
  return next;
}

function growMemory(vm: ProblemVm, a: MemoryAdjustment): ProblemVm {
  const next: ProblemVm = { ...vm, memoryMiB: vm.memoryMiB + a.MiB };
  if (vm.current) {
    const mem = { ...vm.current.memoryMiB };
    mem[String(a.hostNode)] = (mem[String(a.hostNode)] ?? 0) + a.MiB;
    next.current = { ...vm.current, memoryMiB: mem };
  }
  if (vm.cells) next.cells = vm.cells.map((c) => (c.id === a.guestNode ? { ...c, memoryMiB: c.memoryMiB + a.MiB } : c));
  return next;
}

/** A new Problem with the adjustments applied (the input is not modified). Unknown VMs are ignored. */
export function applyProblemAdjustments(problem: Problem, adjustments: readonly ProblemAdjustment[]): Problem {
  if (adjustments.length === 0) return problem;
  const vms = problem.vms.map((vm) => {
    let v = vm;
    for (const a of adjustments) {
      if (a.vm !== vm.name) continue;
      v = a.kind === 'vcpus' ? growVcpus(v, a) : growMemory(v, a);
    }
    return v;
  });
  // The new memory is taken from the host node's free memory now.
  const memTaken = new Map<number, number>();
  for (const a of adjustments) if (a.kind === 'memory') memTaken.set(a.hostNode, (memTaken.get(a.hostNode) ?? 0) + a.MiB);
  const topology = memTaken.size
    ? {
        ...problem.topology,
        nodes: problem.topology.nodes.map((n) => (memTaken.has(n.id) ? { ...n, freeMemoryMiB: Math.max(0, n.freeMemoryMiB - memTaken.get(n.id)!) } : n)),
      }
    : problem.topology;
  return { ...problem, topology, vms };
}
