/** What the daemon needs from a hypervisor: one sample per cycle, and the live actions. */
import type { HostTopology } from '../core/topology.js';
import type { HostSample } from '../core/sample.js';

export type { BalloonStats, GuestCell, HostSample, MemNode, VmSample } from '../core/sample.js';

/** --live always for a running VM; --config too when `config` is set and the VM is persistent. */
export interface ApplyFlags {
  live: boolean;
  config: boolean;
}

export interface DimmSpec {
  MiB: number;
  guestNode: number;
  /** Host nodes the dimm's memory comes from (source nodemask). */
  sourceNodes?: string;
}

/** Counters the metrics export: calls made and calls failed so far (and numa_maps files that could not be read, where read). */
export interface HostStats {
  calls: number;
  errors: number;
  numaMapsErrors?: number;
}

export interface HostBackend {
  readonly kind: 'virsh' | 'simulated';
  topology(): Promise<HostTopology>;
  sample(): Promise<HostSample>;
  pinVcpu(vm: string, vcpu: number, cpuset: string, flags: ApplyFlags): Promise<void>;
  pinEmulator(vm: string, cpuset: string, flags: ApplyFlags): Promise<void>;
  setNodeset(vm: string, nodeset: string, flags: ApplyFlags): Promise<void>;
  /** A guest cell's `<memnode>` in the persistent definition (flags.config only: libvirt 9 refuses it live). */
  setMemnode(vm: string, cellid: number, nodeset: string, flags: ApplyFlags): Promise<void>;
  setShares(vm: string, shares: number, flags: ApplyFlags): Promise<void>;
  setVcpus(vm: string, count: number, flags: ApplyFlags): Promise<void>;
  attachMemory(vm: string, dimm: DimmSpec, flags: ApplyFlags): Promise<void>;
  stats(): HostStats;
  close(): Promise<void>;
}
