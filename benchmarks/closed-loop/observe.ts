/**
 * One observation of a simulated host for the figures: the contract's quality measure over the
 * load it ran last tick, how much of that load was local to its memory, which nodes were asked
 * for more CPU than they have, and the host's move counters. Read from the simulator's ground
 * truth (hostMetrics and its VM state), never from what a policy reports.
 */
import type { SimulatedBackend } from '../../src/sim/backend.js';
import type { Observation } from './figures.js';
import type { OptimumAt } from './optimum.js';

/** Share of a CPU set on each node index, per pin array (the simulator replaces pin arrays, never mutates them). */
const SHARES = new WeakMap<object, Map<number[] | null, Float64Array>>();

function nodeShares(sim: SimulatedBackend, pin: number[] | null): Float64Array {
  const host = sim.host;
  let perHost = SHARES.get(host);
  if (!perHost) SHARES.set(host, (perHost = new Map()));
  let shares = perHost.get(pin);
  if (!shares) {
    const all = host.cpuIds;
    const cpus = pin && pin.some((c) => host.cpuIndex.has(c)) ? pin.filter((c) => host.cpuIndex.has(c)) : all;
    shares = new Float64Array(host.baseTopology.nodes.length);
    for (const c of cpus) shares[host.cpuNodeIdx[host.cpuIndex.get(c)!]] += 1 / cpus.length;
    perHost.set(pin, shares);
  }
  return shares;
}

/** CPU demand per node index last tick: each vCPU's demand spread evenly over the CPUs it may use. */
export function nodeDemand(sim: SimulatedBackend): number[] {
  const host = sim.host;
  const demand = new Array<number>(host.baseTopology.nodes.length).fill(0);
  for (const vm of host.vms) {
    if (!vm.present) continue;
    for (let v = 0; v < vm.vcpusCurrent; v++) {
      const d = vm.lastDemand[v];
      if (d <= 0) continue;
      const shares = nodeShares(sim, vm.pins[v]);
      for (let ni = 0; ni < shares.length; ni++) demand[ni] += d * shares[ni];
    }
  }
  return demand;
}

export function observe(sim: SimulatedBackend, dtMs: number, optimum: OptimumAt | null): Observation {
  const m = sim.hostMetrics();
  let localLoad = 0, totalLoad = 0;
  for (const vm of m.vms) {
    localLoad += vm.localAccessShare * vm.granted;
    totalLoad += vm.granted;
  }
  const demand = nodeDemand(sim);
  const overloadedNodes = m.nodes.filter((n, i) => n.cpus > 0 && demand[i] > n.cpus + 1e-9).length;
  const scaled = optimum && optimum.allLocal > 0 ? optimum.cost * (m.quality.allLocal / optimum.allLocal) : optimum ? 0 : null;
  return {
    atMs: Math.round(m.atSeconds * 1000),
    dtMs,
    cost: m.quality.cost,
    allLocal: m.quality.allLocal,
    optimum: scaled,
    localLoad,
    totalLoad,
    overloadedNodes,
    vcpuMoves: m.vcpuMoves,
    migratedMiB: m.memoryMigratedMiB,
  };
}
