/**
 * The simulated hypervisor: `createSimulatedBackend(nameOrPath)` is what `--simulate NAME` resolves
 * to. It implements the host interface (src/host/backend.ts) in memory; it sits beside src/host, and
 * only the CLI opens it (lazily, so a daemon on libvirt never loads it). It ships in the package:
 * `--simulate` is part of the CLI contract and `npm start` runs it.
 */
import { SimulatedBackend } from './backend.js';
import { loadScenario } from './load.js';
import type { Scenario } from './scenario.js';
import { parseScenario } from './validate.js';

export { SimulatedBackend } from './backend.js';
export { SimulatedHost } from './host.js';
export type { HostMetrics, NodeMetrics, VmMetrics } from './metrics.js';
export { BUILTIN_SCENARIO_NAMES, generatedScenario } from './builtins.js';
export { loadScenario } from './load.js';
export { parseScenario, ScenarioError } from './validate.js';
export type { LoadTrace, Scenario, ScenarioVm } from './scenario.js';

export interface SimulatedOptions {
  /** Override the scenario's seed (same seed, same run). */
  seed?: number;
  tickSeconds?: number;
  memoryMigrationMiBPerSecond?: number;
  /** Turn on the kernel's automatic NUMA balancing at this page migration rate (MiB/s per VM). */
  numaBalancingMiBPerSecond?: number;
}

/**
 * A simulated host running a built-in scenario (e.g. "steady-4x16"), `gen-TOPOLOGY-N`, a bare
 * synthetic topology name (no VMs), a scenario JSON file, or a scenario document (parsed JSON). Synchronous; throws ScenarioError
 * naming the bad field.
 */
export function createSimulatedBackend(nameOrPath: string | Record<string, unknown>, opts: SimulatedOptions = {}): SimulatedBackend {
  const base = typeof nameOrPath === 'string' ? loadScenario(nameOrPath) : parseScenario(nameOrPath, String(nameOrPath.name ?? 'inline scenario'));
  const scenario: Scenario = {
    ...base,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.tickSeconds !== undefined ? { tickSeconds: opts.tickSeconds } : {}),
    ...(opts.memoryMigrationMiBPerSecond !== undefined ? { memoryMigrationMiBPerSecond: opts.memoryMigrationMiBPerSecond } : {}),
    ...(opts.numaBalancingMiBPerSecond !== undefined ? { numaBalancingMiBPerSecond: opts.numaBalancingMiBPerSecond } : {}),
  };
  return new SimulatedBackend(scenario);
}
