/**
 * The instantaneous optimum: the solver's best placement for the load of one instant, ignoring
 * where anything is now (no move costs, every VM's memory free to go anywhere). Computed once per
 * measurement instant from a reference host that runs the scenario untouched (the demand is the
 * scenario's, whatever a policy does), and shared by every policy.
 *
 * A policy's host may run a different load than the reference (contention grants less than the
 * demand; hot-plugged vCPUs add load), so the optimum is compared per unit of load: it is scaled
 * by (the host's all-local cost / the reference's all-local cost) before the ratio is taken.
 */
import { qualityCost } from '../../src/core/quality.js';
import type { Placement, Problem, ProblemVm } from '../../solver/types.js';
import type { SimulatedHost } from '../../src/sim/host.js';

export interface OptimumAt {
  /** Quality measure of the best placement found, and all-local cost of the same load. */
  cost: number;
  allLocal: number;
  status: Placement['status'];
  solveMs: number;
}

export type SolveSync = (problem: Problem) => Placement;

/** The problem of this instant: each present VM with the demand each online vCPU had last tick. */
export function instantProblem(host: SimulatedHost, cpuOvercommit: number): Problem {
  const topo = host.topologyNow();
  const nodes = topo.nodes.map((n, i) => ({ ...n, freeMemoryMiB: n.memoryMiB - host.hostUsed[i] }));
  const vms: ProblemVm[] = [];
  for (const vm of host.vms) {
    if (!vm.present) continue;
    const memoryMiB = [...vm.memByNode.values()].reduce((a, b) => a + b, 0);
    vms.push({ name: vm.spec.name, vcpus: vm.vcpusCurrent, load: vm.lastDemand.slice(0, vm.vcpusCurrent), memoryMiB });
  }
  return {
    topology: { ...topo, nodes },
    vms,
    options: { cpuOvercommit, memoryMoveCostPerGiB: 0, vcpuMoveCost: 0 },
  };
}

/** Load key of a problem: instants with the same demand share one solve. */
function keyOf(p: Problem): string {
  return p.vms.map((v) => `${v.name}:${v.memoryMiB}:${v.load.map((l) => l.toFixed(4)).join(',')}`).join(';');
}

export class OptimumCache {
  private cache = new Map<string, OptimumAt>();
  solves = 0;
  notOptimal = 0;
  solveMs: number[] = [];

  constructor(private readonly solve: SolveSync, private readonly cpuOvercommit: number) {}

  at(host: SimulatedHost): OptimumAt {
    const problem = instantProblem(host, this.cpuOvercommit);
    const key = keyOf(problem);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const t0 = performance.now();
    const placement = this.solve(problem);
    const solveMs = performance.now() - t0;
    const allLocal = 10 * problem.vms.reduce((s, v) => s + v.load.reduce((a, b) => a + b, 0), 0);
    if (placement.status === 'infeasible') {
      throw new Error(`instantaneous optimum of ${host.scenario.name} at ${host.now} s: solver found no placement (${placement.reason ?? placement.status}); raise the scenario's cpuOvercommit`);
    }
    const r: OptimumAt = { cost: placementCost(problem, placement), allLocal, status: placement.status, solveMs };
    this.solves++;
    if (placement.status !== 'optimal') this.notOptimal++;
    this.solveMs.push(solveMs);
    this.cache.set(key, r);
    return r;
  }
}

/** The quality measure of a placement, recomputed here rather than taken from the solver's word. */
export function placementCost(problem: Problem, placement: Placement): number {
  const byName = new Map(placement.vms.map((v) => [v.name, v]));
  return qualityCost(problem.topology, problem.vms.map((vm) => {
    const p = byName.get(vm.name);
    if (!p) throw new Error(`placement lacks VM ${vm.name}`);
    const node = new Map(p.vcpus.map((c) => [c.vcpu, c.node]));
    return { load: vm.load, vcpuNodes: vm.load.map((_, i) => node.get(i)!), memoryMiB: p.memory.MiB };
  }));
}
