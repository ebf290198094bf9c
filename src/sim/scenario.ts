/**
 * The simulated host's scenario: a host (synthetic topology name or inline topology), the VMs on it,
 * where they start, and how their load evolves. docs/scenarios.md documents every field.
 * These are the validated, defaults-filled shapes; validate.ts turns JSON into them.
 */

/** Busy fraction of one vCPU (0..1) as a function of simulated time. */
export type LoadTrace =
  | { kind: 'steady'; level: number }
  /** `base`, and with probability `probability` per `burstSeconds` window a burst to `peak` (seeded). */
  | { kind: 'bursty'; base: number; peak: number; probability: number; burstSeconds: number }
  /** Linear from `from` at `startSeconds` to `to` at `endSeconds`, flat outside. */
  | { kind: 'ramping'; from: number; to: number; startSeconds: number; endSeconds: number }
  /** mean + amplitude * sin(2π (t + phaseSeconds) / periodSeconds), clamped to 0..1. */
  | { kind: 'diurnal'; mean: number; amplitude: number; periodSeconds: number; phaseSeconds: number }
  /** Ramps from `from` to 1.0 over `rampSeconds` starting at `startSeconds`; every vCPU, hot-plugged ones too. */
  | { kind: 'saturating'; from: number; startSeconds: number; rampSeconds: number }
  /** Piecewise: the trace of the last phase whose `atSeconds` has passed (0 before the first). */
  | { kind: 'phases'; phases: { atSeconds: number; trace: LoadTrace }[] };

export const TRACE_KINDS = ['steady', 'bursty', 'ramping', 'diurnal', 'saturating', 'phases'] as const;

export type NumaMode = 'strict' | 'restrictive' | 'preferred' | 'interleave';
export const NUMA_MODES: readonly NumaMode[] = ['strict', 'restrictive', 'preferred', 'interleave'];

export interface ScenarioGuestCell {
  id: number;
  /** Guest vCPU ids of the cell. */
  cpus: number[];
  memoryMiB: number;
}

export interface ScenarioPlacement {
  /** Affinity per vCPU id (cpuset text); a missing entry means unpinned (all host CPUs). */
  vcpuPins: Record<number, string>;
  emulatorPin?: string;
  /** Host memory per node at start (MiB, sums to memoryMiB); default: spread evenly over the nodeset (or all nodes). */
  memoryByNode?: Record<string, number>;
  /** numatune; absent means no <numatune> (kernel default placement). */
  numatune?: { mode: NumaMode; nodeset: string };
  memnodes: { cellid: number; mode: NumaMode; nodeset: string }[];
}

export interface ScenarioJob {
  kind: string;
  fromSeconds: number;
  toSeconds: number;
}

export interface ScenarioVm {
  name: string;
  uuid?: string;
  vcpus: { current: number; max: number };
  memoryMiB: number;
  maxMemoryMiB?: number;
  memorySlots?: number;
  guestCells: ScenarioGuestCell[];
  coresPerSocket: number;
  threadsPerCore: number;
  machine: string;
  arch: string;
  osType?: string;
  hasVhostUser: boolean;
  hugepageKiB?: number;
  /** virtio-net interfaces: each takes a memory slot, so hot-plug gets min(slots, 64 - n). */
  virtioNetDevices: number;
  /** The guest runs qemu-guest-agent: the sample lists the vCPUs the guest has online. */
  guestAgent: boolean;
  /** The guest brings hot-plugged vCPUs and memory online (udev rules); if not, they stay idle / unused. */
  guestOnlinesHotplug: boolean;
  persistent: boolean;
  cpuShares: number;
  metadata: Record<string, string>;
  placement: ScenarioPlacement;
  /** vCPU i follows load[i % load.length]. */
  load: LoadTrace[];
  /** Guest memory in use as a fraction of the VM's initial memory (may exceed 1: the VM is short of memory). Absent: no guest balloon stats. */
  memoryUse?: LoadTrace;
  jobs: ScenarioJob[];
  arriveAtSeconds: number;
  departAtSeconds?: number;
}

/** Inline host: the topology JSON contract ({ nodes: [{ id, cpus, memoryMiB, freeMemoryMiB?, distances }] }). */
export interface InlineTopology {
  nodes: { id: number; cpus: number[]; memoryMiB: number; distances: Record<string, number> }[];
}

export interface Scenario {
  name: string;
  description: string;
  seed: number;
  topology: string | InlineTopology;
  /** Simulated seconds each sample() advances. */
  tickSeconds: number;
  /** How fast a VM's memory moves toward a new nodeset, MiB per simulated second (per VM). */
  memoryMigrationMiBPerSecond: number;
  /** Host memory per node used by things other than VMs (MiB): a number for every node, or one per node. */
  hostUsedMiB: number[] | number;
  /**
   * The kernel's automatic NUMA balancing (kernel.numa_balancing=1), for vCPUs free to run on
   * several nodes: each VM's threads prefer the node holding most of its memory while that node has
   * CPU to spare, and its pages drift toward the nodes its vCPUs run on at this rate (MiB per
   * simulated second, per VM). 0 = off (the default).
   */
  numaBalancingMiBPerSecond: number;
  vms: ScenarioVm[];
}
