/**
 * The closed-loop figures of one policy on one scenario, from what was observed at each
 * measurement instant. Pure: observations in, figures out.
 *
 * Every observation stands for the dtMs of simulated time that follows it, so averages are
 * time-weighted. Quality (cost) is the contract's measure (shared/DESIGN.md): lower is better,
 * 10 per unit of load when all-local. "Excess" is what a placement costs above all-local.
 */

export interface Observation {
  /** Simulated time of the instant, ms. */
  atMs: number;
  /** Simulated time this observation stands for (to the next one), ms. */
  dtMs: number;
  /** Quality measure of the host as it is at this instant. */
  cost: number;
  /** The same load all local to its memory: 10 per unit of load. */
  allLocal: number;
  /**
   * The solver's best on this instant's problem with no move costs, scaled to the load this host
   * ran (see optimum.ts); null at instants where it was not computed (cost is then still counted
   * in the averages, but not in the ratio).
   */
  optimum: number | null;
  /** vCPU load (busy fraction summed) whose memory is on the vCPU's own node, and all vCPU load. */
  localLoad: number;
  totalLoad: number;
  /** Nodes whose CPU demand exceeds their CPU capacity at this instant. */
  overloadedNodes: number;
  /** Cumulative counters of the host since the run began. */
  vcpuMoves: number;
  migratedMiB: number;
}

export interface Figures {
  durationS: number;
  /** Time-averaged quality measure, optimum and all-local cost. */
  quality: number;
  optimum: number;
  allLocal: number;
  /** quality / optimum, both time-averaged over the instants with an optimum: 1.00 = optimal throughout. */
  ratioToOptimum: number;
  /** Time-averaged cost above all-local. */
  excess: number;
  /** Share of vCPU load local to its memory, load- and time-weighted, 0..1. */
  locality: number;
  /** Simulated seconds during which at least one node was above its CPU capacity. */
  overloadS: number;
  vcpuMoves: number;
  migratedMiB: number;
}

export interface SeriesPoint {
  tS: number;
  /** cost / optimum at this instant. */
  ratio: number;
  /** local share at this instant, 0..1 (1 when there is no load). */
  locality: number;
}

export function summarize(obs: readonly Observation[]): Figures {
  let t = 0, cost = 0, opt = 0, costAtOpt = 0, optT = 0, allLocal = 0, localLoad = 0, totalLoad = 0, overload = 0;
  for (const o of obs) {
    const dt = o.dtMs / 1000;
    t += dt;
    cost += o.cost * dt;
    if (o.optimum !== null) {
      opt += o.optimum * dt;
      costAtOpt += o.cost * dt;
      optT += dt;
    }
    allLocal += o.allLocal * dt;
    localLoad += o.localLoad * dt;
    totalLoad += o.totalLoad * dt;
    if (o.overloadedNodes > 0) overload += dt;
  }
  const last = obs[obs.length - 1];
  const avg = (x: number) => (t > 0 ? x / t : 0);
  return {
    durationS: t,
    quality: avg(cost),
    optimum: optT > 0 ? opt / optT : 0,
    allLocal: avg(allLocal),
    ratioToOptimum: opt > 0 ? costAtOpt / opt : 1,
    excess: avg(cost - allLocal),
    locality: totalLoad > 0 ? localLoad / totalLoad : 1,
    overloadS: overload,
    // Counters are cumulative since the run began, so the last observation holds the totals.
    vcpuMoves: last ? last.vcpuMoves : 0,
    migratedMiB: last ? last.migratedMiB : 0,
  };
}

/** One point per instant with an optimum. */
export function series(obs: readonly Observation[]): SeriesPoint[] {
  return obs.filter((o) => o.optimum !== null).map((o) => ({
    tS: o.atMs / 1000,
    ratio: o.optimum! > 0 ? o.cost / o.optimum! : 1,
    locality: o.totalLoad > 0 ? o.localLoad / o.totalLoad : 1,
  }));
}

/** 1 - excess(a)/excess(b): how much lower a's excess cost is than b's (0.25 = 25% lower). */
export function excessReduction(a: Figures, b: Figures): number {
  if (b.excess <= 0) return a.excess <= 0 ? 0 : -Infinity;
  return 1 - a.excess / b.excess;
}
