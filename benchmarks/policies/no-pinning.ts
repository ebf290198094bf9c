/**
 * No pinning: nothing is ever set. The simulated kernel places vCPU threads where its load
 * balancer puts them and memory where it was first touched; with automatic NUMA balancing on,
 * pages then drift slowly toward the vCPUs that use them (the host behaves so; no action here).
 */
import type { Policy, PolicyRun } from './types.js';

class Idle implements PolicyRun {
  async act(): Promise<number> {
    return Number.POSITIVE_INFINITY;
  }
}

export const noPinningPolicy: Policy = {
  name: 'no-pinning',
  description: "no pinning: the kernel's default spread, memory where first touched",
  host: { autoNumaBalancing: false },
  create: () => new Idle(),
};

export const autoNumaPolicy: Policy = {
  name: 'autonuma',
  description: 'no pinning with automatic NUMA balancing (slow page migration toward the vCPUs)',
  host: { autoNumaBalancing: true },
  create: () => new Idle(),
};
