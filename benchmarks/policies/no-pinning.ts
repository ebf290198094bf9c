/**
 * No pinning: nothing is ever set. The simulated kernel places vCPU threads where its load
 * balancer puts them and memory where it was first touched; with automatic NUMA balancing on,
 * pages then drift slowly toward the vCPUs that use them (the host behaves so; no action here).
 */
import type { Policy, PolicyRun } from './types.js';
import { NO_BALANCING } from './types.js';

/**
 * Page migration rate of automatic NUMA balancing: the kernel scans 256 MB of a task's address
 * space per scan period (1 s at first, backing off to 60 s once placement settles), so a VM's
 * pages move at tens of MiB/s at most; 16 MiB/s per VM is a settled middle.
 */
export const AUTONUMA_MIB_PER_S = 16;

class Idle implements PolicyRun {
  async act(): Promise<number> {
    return Number.POSITIVE_INFINITY;
  }
}

export const noPinningPolicy: Policy = {
  name: 'no-pinning',
  description: "no pinning: the kernel's default spread, memory where first touched",
  host: NO_BALANCING,
  create: () => new Idle(),
};

export const autoNumaPolicy: Policy = {
  name: 'autonuma',
  description: 'no pinning with automatic NUMA balancing (slow page migration toward the vCPUs)',
  host: { numaBalancingMiBPerSecond: AUTONUMA_MIB_PER_S },
  create: () => new Idle(),
};
