/**
 * What the solver is measured against, scored with the same quality measure:
 * - numad-style: biggest VM first onto the node with the most free CPU and memory,
 *   the whole VM on one node when it fits, else spread over the freest nodes
 *   (numad's advice ignores where the VM is now and what moving costs);
 * - no pinning: the kernel's spread, vCPUs over all CPU nodes in proportion to their
 *   CPU counts, memory where it was first touched (its current nodes, else where
 *   its vCPUs run).
 * Fixed VMs keep their current placement in both. Pure.
 */
import { reservedCpuSet, usableCpusOf } from '../src/core/nodes.js';
import { DEFAULTS } from './model.js';
import { allLocalCost, qualityCost, type PlacedVm } from '../src/core/quality.js';
import type { Problem } from './types.js';

export interface BaselineResult {
  name: string;
  quality: number;
  /** quality minus the all-local cost: the part placement can remove. */
  excess: number;
  /** Nodes whose CPU load or memory exceeds capacity under this placement. */
  overloadedNodes: number;
  placed: PlacedVm[];
}

function finish(problem: Problem, name: string, placed: PlacedVm[]): BaselineResult {
  const quality = qualityCost(problem.topology, placed);
  const reserved = reservedCpuSet(problem.reservedCpus);
  const oc = problem.options?.cpuOvercommit ?? DEFAULTS.cpuOvercommit;
  let overloaded = 0;
  for (const n of problem.topology.nodes) {
    let load = 0, mem = 0;
    placed.forEach((p, v) => {
      p.vcpuNodes.forEach((node, i) => node === n.id && (load += p.load[i]));
      const had = problem.vms[v].current?.memoryMiB[String(n.id)] ?? 0;
      mem += Math.max(0, (p.memoryMiB[String(n.id)] ?? 0) - had);
    });
    if (load > usableCpusOf(n, reserved).length * oc + 1e-6 || mem > n.freeMemoryMiB + 1) overloaded++;
  }
  return { name, quality, excess: quality - allLocalCost(problem.vms), overloadedNodes: overloaded, placed };
}

export function numadBaseline(problem: Problem): BaselineResult {
  const nodes = problem.topology.nodes.filter((n) => n.cpus.length > 0);
  const reserved = reservedCpuSet(problem.reservedCpus);
  const oc = problem.options?.cpuOvercommit ?? DEFAULTS.cpuOvercommit;
  const cpuCap = new Map(nodes.map((n) => [n.id, usableCpusOf(n, reserved).length * oc]));
  const cpuFree = new Map(cpuCap);
  // numad re-places every VM from scratch: the memory the movable VMs hold now counts as free for it
  // (kinder to numad than reality, where that memory is only freed once it has moved).
  const memFree = new Map(problem.topology.nodes.map((n) => [n.id, n.freeMemoryMiB]));
  for (const vm of problem.vms) {
    if (vm.fixed || !vm.current) continue;
    for (const [k, mib] of Object.entries(vm.current.memoryMiB)) memFree.set(Number(k), (memFree.get(Number(k)) ?? 0) + mib);
  }
  const placed: PlacedVm[] = new Array(problem.vms.length);
  const load = (v: number) => problem.vms[v].load.reduce((a, b) => a + b, 0);
  problem.vms.forEach((vm, v) => {
    if (!vm.fixed) return;
    placed[v] = { load: vm.load, vcpuNodes: vm.current!.vcpuNodes, memoryMiB: vm.current!.memoryMiB };
    vm.current!.vcpuNodes.forEach((n, i) => cpuFree.set(n, (cpuFree.get(n) ?? 0) - vm.load[i]));
  });
  const order = problem.vms.map((_, v) => v).filter((v) => !problem.vms[v].fixed);
  // numad's "magnitude": CPU x memory, biggest first
  order.sort((a, b) => load(b) * problem.vms[b].memoryMiB - load(a) * problem.vms[a].memoryMiB || a - b);
  const freeness = (id: number) => (cpuFree.get(id) ?? 0) / Math.max(1e-9, cpuCap.get(id) ?? 1) + (memFree.get(id) ?? 0) / Math.max(1, problem.topology.nodes.find((n) => n.id === id)!.memoryMiB);
  for (const v of order) {
    const vm = problem.vms[v];
    const l = load(v);
    const ranked = nodes.map((n) => n.id).sort((a, b) => freeness(b) - freeness(a) || a - b);
    const whole = ranked.find((id) => (cpuFree.get(id) ?? 0) >= l && (memFree.get(id) ?? 0) >= vm.memoryMiB);
    if (whole !== undefined) {
      placed[v] = { load: vm.load, vcpuNodes: new Array(vm.vcpus).fill(whole), memoryMiB: { [String(whole)]: vm.memoryMiB } };
      cpuFree.set(whole, cpuFree.get(whole)! - l);
      memFree.set(whole, memFree.get(whole)! - vm.memoryMiB);
      continue;
    }
    // span the freest nodes, as many as it takes
    const vcpuNodes: number[] = [];
    let k = 0;
    for (let i = 0; i < vm.vcpus; i++) {
      while (k < ranked.length - 1 && (cpuFree.get(ranked[k]) ?? 0) < vm.load[i]) k++;
      vcpuNodes.push(ranked[k]);
      cpuFree.set(ranked[k], (cpuFree.get(ranked[k]) ?? 0) - vm.load[i]);
    }
    const memoryMiB: Record<string, number> = {};
    let left = vm.memoryMiB;
    const memRanked = problem.topology.nodes.map((n) => n.id).sort((a, b) => (memFree.get(b) ?? 0) - (memFree.get(a) ?? 0));
    for (const id of memRanked) {
      if (left <= 0) break;
      const put = Math.min(left, Math.max(0, memFree.get(id) ?? 0));
      if (put > 0) memoryMiB[String(id)] = put;
      memFree.set(id, (memFree.get(id) ?? 0) - put);
      left -= put;
    }
    if (left > 0) memoryMiB[String(memRanked[0])] = (memoryMiB[String(memRanked[0])] ?? 0) + left;
    placed[v] = { load: vm.load, vcpuNodes, memoryMiB };
  }
  return finish(problem, 'numad-style', placed);
}

export function noPinningBaseline(problem: Problem): BaselineResult {
  const nodes = problem.topology.nodes.filter((n) => n.cpus.length > 0);
  const total = nodes.reduce((s, n) => s + n.cpus.length, 0);
  const placed = problem.vms.map((vm): PlacedVm => {
    if (vm.fixed) return { load: vm.load, vcpuNodes: vm.current!.vcpuNodes, memoryMiB: vm.current!.memoryMiB };
    // each vCPU spends time on every node in proportion to its CPUs: split each vCPU into node shares
    const vcpuNodes: number[] = [];
    const load: number[] = [];
    for (let i = 0; i < vm.vcpus; i++) {
      for (const n of nodes) {
        vcpuNodes.push(n.id);
        load.push((vm.load[i] * n.cpus.length) / total);
      }
    }
    let memoryMiB: Record<string, number>;
    const cur = vm.current && Object.values(vm.current.memoryMiB).some((x) => x > 0) ? vm.current.memoryMiB : undefined;
    if (cur) memoryMiB = cur;
    else {
      memoryMiB = {};
      for (const n of nodes) memoryMiB[String(n.id)] = (vm.memoryMiB * n.cpus.length) / total;
    }
    return { load, vcpuNodes, memoryMiB };
  });
  return finish(problem, 'no pinning', placed);
}
