/**
 * HostBackend over the simulated host. Each sample() first advances the simulated clock by one
 * tick (scenario.tickSeconds), then reports: the busy time in that sample is what ran during the
 * tick, and actions taken between two samples shape the next tick. No timers, no processes.
 */
import type { HostTopology } from '../core/topology.js';
import type { ApplyFlags, DimmSpec, HostBackend, HostSample } from '../host/backend.js';
import * as act from './actions.js';
import { SimulatedHost } from './host.js';
import { hostMetrics, type HostMetrics } from './metrics.js';
import type { Scenario } from './scenario.js';

export class SimulatedBackend implements HostBackend {
  readonly kind = 'simulated' as const;
  readonly host: SimulatedHost;
  private readonly counters = { calls: 0, errors: 0 };
  private closed = false;

  constructor(readonly scenario: Scenario) {
    this.host = new SimulatedHost(scenario);
  }

  /** Count the call and its failure, like the virsh backend counts virsh runs. */
  private run<T>(f: () => T): Promise<T> {
    this.counters.calls++;
    try {
      if (this.closed) throw new Error('simulated host is closed');
      return Promise.resolve(f());
    } catch (e) {
      this.counters.errors++;
      return Promise.reject(e);
    }
  }

  topology(): Promise<HostTopology> {
    return this.run(() => this.host.topologyNow());
  }

  sample(): Promise<HostSample> {
    return this.run(() => {
      this.host.step(this.scenario.tickSeconds);
      return this.host.sampleNow();
    });
  }

  /** Move the clock without sampling (tests, benchmarks). Not counted as a host call. */
  advance(seconds: number): void {
    this.host.advance(seconds);
  }

  /** Simulated seconds since the start. */
  now(): number {
    return this.host.now;
  }

  hostMetrics(): HostMetrics {
    return hostMetrics(this.host);
  }

  pinVcpu(vm: string, vcpu: number, cpuset: string, flags: ApplyFlags): Promise<void> {
    return this.run(() => act.pinVcpu(this.host, vm, vcpu, cpuset, flags));
  }

  pinEmulator(vm: string, cpuset: string, flags: ApplyFlags): Promise<void> {
    return this.run(() => act.pinEmulator(this.host, vm, cpuset, flags));
  }

  setNodeset(vm: string, nodeset: string, flags: ApplyFlags): Promise<void> {
    return this.run(() => act.setNodeset(this.host, vm, nodeset, flags));
  }

  setMemnode(vm: string, cellid: number, nodeset: string, flags: ApplyFlags): Promise<void> {
    return this.run(() => act.setMemnode(this.host, vm, cellid, nodeset, flags));
  }

  setShares(vm: string, shares: number, flags: ApplyFlags): Promise<void> {
    return this.run(() => act.setShares(this.host, vm, shares, flags));
  }

  setVcpus(vm: string, count: number, flags: ApplyFlags): Promise<void> {
    return this.run(() => act.setVcpus(this.host, vm, count, flags));
  }

  attachMemory(vm: string, dimm: DimmSpec, flags: ApplyFlags): Promise<void> {
    return this.run(() => act.attachMemory(this.host, vm, dimm, flags));
  }

  stats(): { calls: number; errors: number } {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
