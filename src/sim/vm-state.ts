/** The simulated host's live state of one VM, built from its scenario entry. */
import { parseCpuSet } from '../core/cpuset.js';
import type { HostTopology } from '../core/topology.js';
import { derivedUuid, hashString } from './rng.js';
import type { NumaMode, ScenarioGuestCell, ScenarioVm } from './scenario.js';

export interface SimVm {
  spec: ScenarioVm;
  /** Hash of the name: the VM's key for seeded randomness. */
  key: number;
  uuid: string;
  present: boolean;
  vcpusCurrent: number;
  /** Affinity per vCPU id (all up to max); null = unpinned. Kept for offline vCPUs too (applied on plug). */
  pins: (number[] | null)[];
  emulatorPin: number[] | null;
  numatune: { mode: NumaMode; nodeset: number[] } | null;
  memnodes: { cellid: number; mode: string; nodeset: string }[];
  /** Host memory per node, whole MiB. */
  memByNode: Map<number, number>;
  migrationCarry: number;
  /** Fraction of a MiB of automatic NUMA balancing budget carried to the next tick. */
  balanceCarry: number;
  memoryMiB: number;
  /** MiB added by dimms (not usable by a guest that does not online hot-plugged memory). */
  hotplugMiB: number;
  usedSlots: number;
  guestCells: ScenarioGuestCell[];
  cpuShares: number;
  /** Cumulative busy ns per vCPU id (offline vCPUs stay where they stopped). */
  vcpuTimeNs: number[];
  lastCpu: (number | null)[];
  /** Last tick: demand and granted busy fraction per vCPU id, and granted per node index. */
  lastDemand: number[];
  lastGranted: number[];
  lastGrantedByNode: Float64Array[];
}

/** Spread `total` MiB evenly in whole MiB over `nodes` (the first ones take the remainder). */
export function spreadEvenly(total: number, nodes: number[]): Map<number, number> {
  const m = new Map<number, number>();
  const base = Math.floor(total / nodes.length);
  let rest = total - base * nodes.length;
  for (const n of nodes) {
    const v = base + (rest > 0 ? 1 : 0);
    if (rest > 0) rest--;
    if (v > 0) m.set(n, v);
  }
  return m;
}

export function createVmState(spec: ScenarioVm, seed: number, topo: HostTopology): SimVm {
  const max = spec.vcpus.max;
  const pins = Array.from({ length: max }, (_, i) => (spec.placement.vcpuPins[i] !== undefined ? parseCpuSet(spec.placement.vcpuPins[i]) : null));
  const nt = spec.placement.numatune;
  const numatune = nt ? { mode: nt.mode, nodeset: parseCpuSet(nt.nodeset) } : null;
  const memNodes = numatune?.nodeset ?? topo.nodes.filter((n) => n.cpus.length > 0).map((n) => n.id);
  const memByNode = spec.placement.memoryByNode
    ? new Map(Object.entries(spec.placement.memoryByNode).filter(([, v]) => v > 0).map(([k, v]) => [Number(k), v]))
    : spreadEvenly(spec.memoryMiB, memNodes);
  return {
    spec,
    key: hashString(spec.name),
    uuid: spec.uuid ?? derivedUuid(seed, spec.name),
    present: false,
    vcpusCurrent: spec.vcpus.current,
    pins,
    emulatorPin: spec.placement.emulatorPin ? parseCpuSet(spec.placement.emulatorPin) : null,
    numatune,
    memnodes: spec.placement.memnodes.map((m) => ({ ...m })),
    memByNode,
    migrationCarry: 0,
    balanceCarry: 0,
    memoryMiB: spec.memoryMiB,
    hotplugMiB: 0,
    usedSlots: 0,
    guestCells: spec.guestCells.map((c) => ({ ...c, cpus: [...c.cpus] })),
    cpuShares: spec.cpuShares,
    vcpuTimeNs: new Array(max).fill(0),
    lastCpu: new Array(max).fill(null),
    lastDemand: new Array(max).fill(0),
    lastGranted: new Array(max).fill(0),
    lastGrantedByNode: Array.from({ length: max }, () => new Float64Array(topo.nodes.length)),
  };
}
