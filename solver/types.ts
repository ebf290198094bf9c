/**
 * The solver's input and output: the problem and placement JSON contracts
 * (shared/DESIGN.md), plus the optional fields numaplace itself fills.
 * Pure data; no I/O anywhere in solver/.
 */
import type { HostTopology } from '../src/core/topology.js';

/** A guest NUMA cell: its vCPUs and memory are placed together (seed: "Guest NUMA"). */
export interface ProblemCell {
  id: number;
  vcpus: number[];
  memoryMiB: number;
}

export interface ProblemVm {
  name: string;
  vcpus: number;
  /** load[i]: vCPU i's busy fraction, 0..1. */
  load: number[];
  memoryMiB: number;
  /** Where it is now; absent for a VM never placed. */
  current?: {
    vcpuNodes: number[];
    /** MiB of this VM's memory on each host node, keyed by node id. */
    memoryMiB: Record<string, number>;
  };
  /** Excluded/pinned: keeps its current placement, only consumes capacity. */
  fixed?: boolean;
  /** Gets whole physical cores (thread siblings together) instead of a node-wide cpuset. */
  dedicated?: boolean;
  /** Guest NUMA cells; when present the VM is placed cell by cell. */
  cells?: ProblemCell[];
}

export interface ProblemOptions {
  /** Load a node may carry per unreserved CPU. Default 1.0. */
  cpuOvercommit?: number;
  /** Cost per GiB moved per unit of distance, paid once (config solver.memoryMoveCostPerGiB). Default 0.05. */
  memoryMoveCostPerGiB?: number;
  /** Cycles a memory move's cost is spread over, against the per-cycle quality measure (config churn.cooldownCycles, at least 1). Default 6. */
  memoryMovePaybackCycles?: number;
  /** Cost per vCPU moved to another node. Default 0.5. */
  vcpuMoveCost?: number;
  /** Hard deadline for one solve, milliseconds. Default 1000. */
  timeLimitMs?: number;
  /** Relative gap at which the solver stops proving. Default 0.005. */
  gapTolerance?: number;
  /** CPUs for emulator threads of every VM (seed: keep IO-heavy emulators off neighbours); default: the VM's node CPUs. */
  housekeepingCpus?: string;
}

export interface Problem {
  topology: HostTopology;
  /** CPUs no VM may use (cpuset text). */
  reservedCpus?: string;
  vms: ProblemVm[];
  options?: ProblemOptions;
}

export interface VcpuPlacement {
  vcpu: number;
  node: number;
  cpuset: string;
}

export interface VmPlacement {
  name: string;
  vcpus: VcpuPlacement[];
  emulator: { cpuset: string };
  memory: { nodeset: string; MiB: Record<string, number> };
  /** Guest cell -> host node, for VMs with guest NUMA cells. */
  cells?: { id: number; node: number }[];
}

export type PlacementStatus = 'optimal' | 'feasible' | 'infeasible';

export interface Placement {
  status: PlacementStatus;
  vms: VmPlacement[];
  /** Why infeasible, or what the fallback was for. */
  reason?: string;
  /** Which method produced it: "lp+mip", "greedy-repair", ... */
  method?: string;
  /** Quality measure of this placement (shared/DESIGN.md), and with move costs. */
  cost?: number;
  objective?: number;
  /** Best lower bound proven on the objective, and the relative gap to it. */
  bound?: number;
  gap?: number;
  solveMs?: number;
  /** Churn of this placement against `current`: vCPUs whose node changes, MiB of memory that must migrate. */
  moves?: { vcpus: number; memoryMiB: number };
}
