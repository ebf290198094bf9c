/**
 * Runs one scenario under several policies side by side: each policy gets its own fresh
 * simulated host, all hosts advance in lockstep one tick at a time, and at every tick each host is
 * observed; at every measurement instant the instantaneous optimum is computed once (from an
 * untouched reference host) and shared by all policies.
 */
import { SimulatedBackend } from '../../src/sim/backend.js';
import type { Scenario } from '../../src/sim/scenario.js';
import { CountingBackend } from './counting-backend.js';
import { series, summarize, type Observation } from './figures.js';
import { observe } from './observe.js';
import { OptimumCache, type SolveSync } from './optimum.js';
import type { PolicyResult, ScenarioResult } from './report.js';
import type { Policy, PolicyRun } from '../policies/types.js';

export interface ScenarioSpec {
  /** Scenario file (simulated host JSON). */
  file: string;
  durationS: number;
  /** Seconds between instants where the optimum is computed. */
  measureEveryS: number;
  /** Seconds between observations of each host (a multiple of the tick; default 10). */
  observeEveryS?: number;
  /** cpuOvercommit for numaplace and for the optimum (1 unless the scenario overcommits CPU). */
  cpuOvercommit: number;
  /** Whether all-local placement fits CPU and memory (the 95% locality target applies). */
  capacityAllows: boolean;
}

/** A policy's fresh host: the scenario, with the kernel behaviour the policy runs on. */
export type HostFactory = (scenario: Scenario, policy: Policy) => SimulatedBackend;

export const defaultHostFactory: HostFactory = (scenario, policy) =>
  new SimulatedBackend({ ...scenario, numaBalancingMiBPerSecond: policy.host.numaBalancingMiBPerSecond });

interface Lane {
  policy: Policy;
  sim: SimulatedBackend;
  backend: CountingBackend;
  run: PolicyRun;
  nextAtS: number;
  obs: Observation[];
}

export async function runScenario(
  scenario: Scenario,
  spec: ScenarioSpec,
  policies: Policy[],
  solveOptimum: SolveSync,
  hostFactory: HostFactory = defaultHostFactory,
  onProgress?: (line: string) => void,
): Promise<ScenarioResult> {
  const wall0 = performance.now();
  const tick = scenario.tickSeconds;
  const ticks = Math.round(spec.durationS / tick);
  const observeEvery = Math.max(1, Math.round((spec.observeEveryS ?? 10) / tick));
  // The optimum is computed at observation instants only.
  const measureEvery = observeEvery * Math.max(1, Math.round(spec.measureEveryS / (observeEvery * tick)));
  const reference = new SimulatedBackend({ ...scenario, numaBalancingMiBPerSecond: 0 });
  const optimum = new OptimumCache(solveOptimum, spec.cpuOvercommit);
  const lanes: Lane[] = policies.map((policy) => {
    const sim = hostFactory(scenario, policy);
    const run = policy.create({ cpuOvercommit: spec.cpuOvercommit });
    // Backend CPU time is only needed to take it out of a policy's own measured cost.
    return { policy, sim, backend: new CountingBackend(sim, run.cost !== undefined), run, nextAtS: 0, obs: [] };
  });
  for (let k = 0; k < ticks; k++) {
    const t = k * tick;
    for (const lane of lanes) {
      const before = lane.sim.now();
      if (t + 1e-9 >= lane.nextAtS) {
        const delayMs = await lane.run.act(lane.backend, t * 1000);
        lane.nextAtS = t + delayMs / 1000;
      }
      const moved = lane.sim.now() - before;
      // A policy that did not sample this tick still lives through it.
      if (moved < 1e-9) lane.sim.advance(tick);
      else if (moved > tick + 1e-9) throw new Error(`policy ${lane.policy.name} sampled more than once in one tick (${moved} s)`);
    }
    reference.advance(tick);
    if ((k + 1) % observeEvery === 0) {
      const opt = (k + 1) % measureEvery === 0 ? optimum.at(reference.host) : null;
      for (const lane of lanes) lane.obs.push(observe(lane.sim, observeEvery * tick * 1000, opt));
    }
    if (onProgress && (k + 1) % Math.max(1, Math.round(ticks / 4)) === 0) {
      onProgress(`  ${scenario.name}: ${Math.round(((k + 1) / ticks) * 100)}% (${((performance.now() - wall0) / 1000).toFixed(1)} s)`);
    }
  }
  const policiesOut: PolicyResult[] = lanes.map((lane) => {
    const c = lane.run.cost?.();
    const ms = c ? [...c.cpuMsPerCycle].sort((a, b) => a - b) : [];
    return {
      policy: lane.policy.name,
      figures: summarize(lane.obs),
      secondHalf: summarize(lane.obs.slice(Math.floor(lane.obs.length / 2))),
      actions: { ...lane.backend.actions },
      hotplugs: { vcpu: lane.backend.vcpuHotplugs, memory: lane.backend.memoryHotplugs },
      ...(c && c.cycles > 0 ? {
        daemon: {
          cycles: c.cycles,
          cpuMsMean: ms.reduce((a, b) => a + b, 0) / ms.length,
          cpuMsP95: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.95))],
          cpuMsMax: ms[ms.length - 1],
          peakRssMiB: c.peakRssMiB,
          peakHeapMiB: c.peakHeapMiB,
        },
      } : {}),
      series: series(lane.obs),
      ...(lane.run.notes ? { notes: lane.run.notes() } : {}),
    };
  });
  const vmsSeen = scenario.vms.length;
  return {
    scenario: scenario.name,
    topology: typeof scenario.topology === 'string' ? scenario.topology : 'inline',
    vms: vmsSeen,
    durationS: ticks * tick,
    optimum: {
      solves: optimum.solves,
      msMean: optimum.solveMs.reduce((a, b) => a + b, 0) / Math.max(1, optimum.solves),
      msMax: Math.max(0, ...optimum.solveMs),
      notOptimal: optimum.notOptimal,
    },
    policies: policiesOut,
    wallMs: performance.now() - wall0,
  };
}
