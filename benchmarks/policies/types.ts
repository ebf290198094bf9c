/**
 * A placement policy in the closed-loop benchmark. Each policy drives its own fresh simulated host
 * through the HostBackend interface only (sample + live actions), exactly as a daemon would.
 */
import type { HostBackend } from '../../src/host/backend.js';

/** Kernel behaviour of the simulated host the policy runs on. */
export interface HostBehaviour {
  /**
   * Automatic NUMA balancing (kernel.numa_balancing=1): page migration rate toward the vCPUs,
   * MiB/s per VM; 0 = off. See docs/scenarios.md.
   */
  numaBalancingMiBPerSecond: number;
}

/** Off, as numaplace, numad and libvirt-pinned hosts run it (numad and the daemon turn it off). */
export const NO_BALANCING: HostBehaviour = { numaBalancingMiBPerSecond: 0 };

/** What a policy may know of the scenario it runs on (as an operator would configure it). */
export interface RunContext {
  /** The CPU overcommit the host is run with (numaplace's cpuOvercommit key). */
  cpuOvercommit: number;
}

export interface PolicyRun {
  /** Acts on the host at simulated time nowMs; returns how many ms until it wants to act again. */
  act(backend: HostBackend, nowMs: number): Promise<number>;
  /** Per-cycle cost of the policy itself, where it is measured (numaplace only). */
  cost?(): { cycles: number; cpuMsPerCycle: number[]; peakRssMiB: number; peakHeapMiB: number };
  /** Anything worth keeping in the results (errors the policy met, outcomes). */
  notes?(): Record<string, unknown>;
}

export interface Policy {
  /** Short name used in tables, JSON and chart legends. */
  readonly name: string;
  readonly description: string;
  readonly host: HostBehaviour;
  /** A fresh run with no state carried over from another scenario. */
  create(ctx: RunContext): PolicyRun;
}

export const LIVE = { live: true, config: false } as const;
