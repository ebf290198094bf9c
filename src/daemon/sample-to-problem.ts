/**
 * From successive host samples to the solver's Problem (pure).
 *
 * Loads come from cumulative vCPU busy time: (time now - time before) / elapsed, per vCPU,
 * smoothed over the last `load.windowCycles` cycles by a small LoadTracker kept by the caller.
 * Where a VM's vCPUs and memory are now is the cycle's host view's answer (src/core/host-view.ts),
 * the same one hot-plug, the planner and the metrics are given.
 */
import type { HostSample, VmSample } from '../core/sample.js';
import type { Problem, ProblemVm } from '../../solver/index.js';
import { jobRunning, type HostView } from '../core/host-view.js';
import type { Refusal } from '../core/steps.js';
import type { Settings } from './settings.js';

// ---------------------------------------------------------------- loads

export interface LoadTrackerState {
  /** Time of the previous sample, null before the first. */
  prevAtMs: number | null;
  /** Cumulative vCPU times at the previous sample, per VM name (with its uuid, so a re-created VM starts over). */
  prev: Record<string, { uuid: string; times: (number | null)[] }>;
  /** The last windowCycles per-vCPU load vectors, oldest first. */
  history: Record<string, number[][]>;
}

export function newLoadTracker(): LoadTrackerState {
  return { prevAtMs: null, prev: {}, history: {} };
}

/**
 * Feed one sample; returns the next tracker state, the smoothed load per running VM that has one,
 * and `last`: the unsmoothed load of this cycle alone (hot-plug counts saturated cycles itself).
 */
export function trackLoads(
  state: LoadTrackerState,
  sample: HostSample,
  windowCycles: number,
): { state: LoadTrackerState; loads: Map<string, number[]>; last: Map<string, number[]> } {
  const prev: LoadTrackerState['prev'] = {};
  const history: LoadTrackerState['history'] = {};
  const loads = new Map<string, number[]>();
  const last = new Map<string, number[]>();
  const dtMs = state.prevAtMs === null ? 0 : sample.atMs - state.prevAtMs;
  for (const vm of sample.vms) {
    if (!vm.running) continue;
    prev[vm.name] = { uuid: vm.uuid, times: [...vm.vcpuTimeNs] };
    const before = state.prev[vm.name];
    let past = before && before.uuid === vm.uuid ? (state.history[vm.name] ?? []) : [];
    if (before && before.uuid === vm.uuid && dtMs > 0) {
      const now: number[] = [];
      for (let i = 0; i < vm.vcpusCurrent; i++) {
        const t1 = vm.vcpuTimeNs[i];
        const t0 = before.times[i];
        // A vCPU just plugged (no earlier time) or a counter that went backwards counts as idle this cycle.
        const busy = t1 === null || t1 === undefined || t0 === null || t0 === undefined || t1 < t0 ? 0 : (t1 - t0) / (dtMs * 1e6);
        now.push(Math.min(1, Math.max(0, busy)));
      }
      past = [...past, now].slice(-Math.max(1, windowCycles));
      last.set(vm.name, now);
    }
    if (past.length > 0) {
      history[vm.name] = past;
      const smoothed: number[] = [];
      for (let i = 0; i < vm.vcpusCurrent; i++) {
        const vals = past.map((v) => v[i]).filter((x): x is number => x !== undefined);
        smoothed.push(vals.length === 0 ? 0 : vals.reduce((a, b) => a + b, 0) / vals.length);
      }
      loads.set(vm.name, smoothed);
    }
  }
  return { state: { prevAtMs: sample.atMs, prev, history }, loads, last };
}

// ---------------------------------------------------------------- policy

/** `*` and `?` globs, whole name. */
export function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 's');
  return re.test(name);
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && ['true', '1', 'yes'].includes(v.trim().toLowerCase());
}

/**
 * Why another tool seems to manage the VM, or null: another manager's metadata namespace, or
 * persistent pins / a non-restrictive numatune nodeset that numaplace did not write (no "written" marker).
 */
export function foreignReason(vm: VmSample): string | null {
  if (vm.foreignManager) return `managed by ${vm.foreignManager.tool} (domain metadata namespace ${vm.foreignManager.namespace})`;
  const d = vm.definition;
  if (!d || d.writtenByNumaplace) return null;
  const what: string[] = [];
  const pins = Object.keys(d.vcpuPins);
  if (pins.length > 0) what.push(`<vcpupin> for vCPU ${pins.join(',')}`);
  if (d.emulatorPin) what.push('<emulatorpin>');
  // A restrictive nodeset is the one mode libvirt lets a runtime tool change live: an operator who
  // sets it hands memory placement over (numaplace's README asks for it), so it claims nothing.
  if (d.numatune?.nodeset && d.numatune.mode !== 'restrictive') what.push(`<numatune> ${d.numatune.mode} nodeset ${d.numatune.nodeset}`);
  if (d.memnodes.some((m) => m.mode !== 'restrictive')) what.push('<numatune><memnode>');
  if (what.length === 0) return null;
  return `its persistent definition has ${what.join(', ')} that numaplace did not write (another tool or an operator tunes it)`;
}

/** Why a VM is left alone, or null when numaplace manages it. */
export function exclusionReason(vm: VmSample, settings: Pick<Settings, 'exclude'> & { foreign?: Settings['foreign'] }): string | null {
  const pat = settings.exclude.names.find((p) => globMatch(p, vm.name));
  if (pat !== undefined) return `excluded by exclude.names pattern ${JSON.stringify(pat)}`;
  if (settings.exclude.metadata && truthy(vm.metadata.exclude)) return 'excluded by its domain metadata (np:policy exclude="true")';
  if (!(settings.foreign?.manage ?? false)) {
    const why = foreignReason(vm);
    if (why) return `left as it is: ${why}; set foreign.manage to true to hand it over to numaplace`;
  }
  return null;
}

// ---------------------------------------------------------------- the problem

export interface ProblemBuild {
  problem: Problem;
  /** VMs left alone (name -> reason); they appear in the problem as `fixed` when their place is known. */
  excluded: Map<string, string>;
  /** Things the sample did not tell, said once per build (e.g. an excluded VM whose vCPUs are nowhere known). */
  notes: string[];
  /** VMs left alone this cycle (fixed in the problem, no steps) because a libvirt job (migration, save, dump, snapshot) runs on them. */
  busy: Refusal[];
}

/** Why a VM with a running libvirt job is left alone this cycle, or null when no job runs. */
export function jobReason(vm: VmSample): string | null {
  if (!jobRunning(vm.job)) return null;
  return `a libvirt job (${vm.job}) is running on it (migration, save, dump or snapshot): left alone until the job ends`;
}

/** Build the solver's Problem from a sample, its host view and the smoothed loads (VMs without a load yet count as idle). */
export function sampleToProblem(
  view: HostView,
  sample: HostSample,
  loads: ReadonlyMap<string, number[]>,
  settings: Pick<Settings, 'exclude' | 'reservedCpus' | 'cpuOvercommit' | 'solver' | 'emulator' | 'churn'> & { foreign?: Settings['foreign'] },
): ProblemBuild {
  const topo = sample.topology;
  const excluded = new Map<string, string>();
  const notes: string[] = [];
  const busy: Refusal[] = [];
  const vms: ProblemVm[] = [];
  for (const vm of sample.vms) {
    if (!vm.running) continue;
    // A VM in a job keeps its place: a migrating VM is about to run elsewhere, and changes made
    // during a save or snapshot are not in what it writes.
    // Not `excluded`: the hot-plug stage still sees it and says why it does not grow (job-running).
    const job = jobReason(vm);
    if (job) busy.push({ vm: vm.name, reason: job });
    const excludedWhy = exclusionReason(vm, settings);
    if (excludedWhy) excluded.set(vm.name, excludedWhy);
    const reason = excludedWhy ?? job;
    const load = Array.from({ length: vm.vcpusCurrent }, (_, i) => loads.get(vm.name)?.[i] ?? 0);
    const vcpuNodes = view.vcpuNodes(vm);
    const memoryMiB = view.memoryOf(vm);
    const pvm: ProblemVm = { name: vm.name, vcpus: vm.vcpusCurrent, load, memoryMiB: vm.memoryMiB };
    if (vcpuNodes && Object.keys(memoryMiB).length > 0) pvm.current = { vcpuNodes, memoryMiB };
    if (reason) {
      if (!pvm.current) {
        notes.push(`${vm.name}: ${excludedWhy ? 'excluded' : 'in a libvirt job'} but where its vCPUs run is unknown; its load is not counted on any node`);
        continue;
      }
      pvm.fixed = true;
    }
    const cells = vm.guestCells
      .map((c) => ({ id: c.id, vcpus: c.cpus.filter((v) => v < vm.vcpusCurrent), memoryMiB: c.memoryMiB }))
      .filter((c) => c.vcpus.length > 0 || c.memoryMiB > 0);
    // A cell whose vCPUs are all offline (not hot-plugged yet) has nothing to place with its memory:
    // the VM is then placed as a whole rather than cell by cell.
    if (cells.length > 0 && cells.every((c) => c.vcpus.length > 0)) pvm.cells = cells;
    vms.push(pvm);
  }
  const problem: Problem = {
    topology: topo,
    vms,
    options: {
      cpuOvercommit: settings.cpuOvercommit,
      // The solver spreads a memory move's cost over the payback cycles (a VM moved stays put at
      // least the cooldown, so its gain is earned that long); the same defaults apply to a problem
      // without options (`numaplace solve`), so both give one problem one answer.
      memoryMoveCostPerGiB: settings.solver.memoryMoveCostPerGiB,
      memoryMovePaybackCycles: Math.max(1, settings.churn.cooldownCycles),
      vcpuMoveCost: settings.solver.vcpuMoveCost,
      timeLimitMs: settings.solver.timeLimitMs,
      ...(settings.emulator.housekeepingCpus !== '' ? { housekeepingCpus: settings.emulator.housekeepingCpus } : {}),
    },
  };
  if (settings.reservedCpus.trim() !== '') problem.reservedCpus = settings.reservedCpus;
  return { problem, excluded, notes, busy };
}
