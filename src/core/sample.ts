/** What a host sample says: the topology, and per VM its load counters, pins, memory and definition (plain data). */
import type { HostTopology } from './topology.js';

export interface GuestCell {
  id: number;
  cpus: number[];
  memoryMiB: number;
}

export interface MemNode {
  cellid: number;
  mode: string;
  nodeset: string;
}

export interface BalloonStats {
  currentKiB?: number;
  maximumKiB?: number;
  rssKiB?: number;
  /** Guest-reported (virtio balloon stats), present only with a guest driver. */
  availableKiB?: number;
  usableKiB?: number;
  unusedKiB?: number;
}

/**
 * The tuning of a VM's persistent definition (`virsh dumpxml --inactive`), what a restart brings
 * back; read for persistent VMs by the virsh backend.
 */
export interface PersistentDefinition {
  /** <cputune><vcpupin> by vCPU id (canonical cpusets), absent ids have none. */
  vcpuPins: Record<number, string>;
  emulatorPin: string | null;
  shares: number | null;
  numatune: { mode: string; nodeset: string | null } | null;
  memnodes: MemNode[];
  /** numaplace's "written" marker is in the definition's metadata (it wrote these pins/nodeset). */
  writtenByNumaplace: boolean;
}

export interface VmSample {
  name: string;
  uuid: string;
  /** libvirt state name: running, paused, shutoff, ... */
  state: string;
  running: boolean;
  persistent: boolean;
  vcpusCurrent: number;
  vcpusMax: number;
  /** Cumulative busy time per vCPU in ns, indexed by vCPU id; null where the vCPU is offline. */
  vcpuTimeNs: (number | null)[];
  memoryMiB: number;
  maxMemoryMiB: number;
  /** Hot-plug limits from <maxMemory slots=...>; undefined when memory hot-plug is not configured. */
  maxMemorySlots?: number;
  usedMemorySlots?: number;
  balloon?: BalloonStats;
  /** Affinity of each vCPU (cpuset text), indexed by vCPU id, for all vCPUs up to vcpusMax where known. */
  vcpuPins: (string | null)[];
  /** Physical CPU each online vCPU last ran on (virsh vcpuinfo "CPU:"), indexed by vCPU id. */
  vcpuLastCpu: (number | null)[];
  emulatorPin: string | null;
  numatune: { mode: string; nodeset: string | null } | null;
  memnodes: MemNode[];
  cpuShares: number | null;
  guestCells: GuestCell[];
  /** Machine type, e.g. "pc-i440fx-7.2", "virt-4.1". */
  machine: string;
  arch: string;
  /** Cores per socket of the guest CPU topology (1 when none is configured). */
  coresPerSocket: number;
  /** Threads per core of the guest CPU topology (1 when none is configured or unknown). */
  threadsPerCore?: number;
  /** The hypervisor's vCPU limit for this machine type (`virsh domcapabilities` <vcpu max=...>), where known. */
  hypervisorMaxVcpus?: number;
  /** Host memory of this VM per host node in MiB, where the backend can tell. */
  memoryByNode?: Record<string, number>;
  /** Running job (migration, save, snapshot) if any: the seed forbids hot-plug then. */
  job?: string;
  /** Another management tool owns the VM (its metadata namespace in the domain XML). */
  foreignManager?: { tool: string; namespace: string };
  /** The persistent definition's tuning, where read (persistent VMs on the virsh backend). */
  definition?: PersistentDefinition;
  /** numaplace's metadata from the domain XML (exclusion, weight, class). */
  metadata: Record<string, string>;
  /** Guest OS type where known ("linux", "windows"); affects memory hot-plug rules. */
  osType?: string;
  /** The domain has vhost-user devices (memory hot-plug is excluded then). */
  hasVhostUser: boolean;
  hugepageKiB?: number;
  /** virtio-net interfaces: each one takes a slot, so memory hot-plug gets min(slots, 64 - n) (seed). */
  virtioNetDevices?: number;
  /**
   * vCPU ids the guest itself reports online (`virsh guestvcpus`, needs qemu-guest-agent);
   * undefined when unknown (no agent configured or it does not answer).
   */
  guestVcpusOnline?: number[];
}

export interface HostSample {
  /** Monotonic sample time in ms (simulated time for the simulated host). */
  atMs: number;
  topology: HostTopology;
  vms: VmSample[];
  /** VMs the backend could not read this cycle (vanished mid-cycle, unreadable output): left out of `vms`. */
  skipped?: { vm: string; error: Error }[];
  /** Things the backend could not read that do not stop the cycle, each said once (e.g. a numa_maps read refused). */
  warnings?: string[];
}
