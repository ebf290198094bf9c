/**
 * The hotplug.* configuration keys (CONFIG-KEYS.md). The daemon's Config carries
 * these under `hotplug`; this module only needs that part, plus the host-wide
 * capacity settings, so it types them structurally.
 */

export interface VcpuHotplugConfig {
  enabled: boolean;
  /** Busy fraction every online vCPU must exceed. */
  threshold: number;
  /** Consecutive cycles above the threshold before the VM counts as saturated. */
  windowCycles: number;
  /** Cycles after a hot-plug during which the VM gets no other. */
  cooldownCycles: number;
  /** Cap on the vCPU count numaplace grows a VM to; 0 = only the VM's and the hypervisor's maximum. */
  maxVcpus: number;
  /** After a hot-plug the detector re-arms only once the load fell below threshold - hysteresis. */
  hysteresis: number;
}

export interface MemoryHotplugConfig {
  enabled: boolean;
  /** usable / available (guest balloon stats) below this = short of memory. */
  minAvailableRatio: number;
  windowCycles: number;
  cooldownCycles: number;
  /** Size of one hot-plug, rounded up to the block size (and huge page size). */
  stepMiB: number;
  /** Guest memory block size (`lsmem` block_size_bytes), in MiB. */
  blockSizeMiB: number;
}

export interface HotplugConfig {
  vcpu: VcpuHotplugConfig;
  memory: MemoryHotplugConfig;
}

/** What planHotplug reads from the daemon's Config (structurally a subset of it). */
export interface HotplugPlanConfig {
  hotplug: HotplugConfig;
  cpuOvercommit: number;
  reservedCpus: string;
}

export const DEFAULT_HOTPLUG_CONFIG: HotplugConfig = Object.freeze({
  vcpu: Object.freeze({ enabled: true, threshold: 0.9, windowCycles: 6, cooldownCycles: 30, maxVcpus: 0, hysteresis: 0.1 }),
  memory: Object.freeze({ enabled: true, minAvailableRatio: 0.1, windowCycles: 6, cooldownCycles: 30, stepMiB: 1024, blockSizeMiB: 128 }),
}) as HotplugConfig;
