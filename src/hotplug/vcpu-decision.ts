/**
 * Whether, and by how much, to grow a saturated VM's vCPUs (seed: CPU热插).
 *
 * Step: up to the next whole socket, i.e. the smallest multiple of the socket
 * size (cores per socket x threads per core) above the current count, so the
 * guest never sees a half-filled socket (the seed warns its topology gets
 * confused otherwise). Capped by the VM's maximum, the hypervisor's maximum and
 * hotplug.vcpu.maxVcpus; a cap that would leave a partial socket is a refusal.
 *
 * Order of checks: the VM's definition first (lasting causes, remembered), then
 * its running job, then host capacity (transient, metric only).
 */
import type { VmSample } from '../core/sample.js';
import { jobRunning } from '../core/host-view.js';
import { checkMachine } from './machine.js';
import type { VcpuHotplugConfig } from './config.js';
import { onlineVcpus, type NodeRoom, type VcpuLoads } from './host-room.js';
import type { VcpuRefusalCode } from './refusal.js';

export interface VcpuGrowth {
  ok: true;
  from: number;
  target: number;
  /** Ids of the vCPUs that will come online (from .. target-1). */
  added: number[];
  /** Load assumed for each new vCPU: the VM's mean online load (it is saturated). */
  addedLoad: number;
  /** Guest cell of each added vCPU, when the VM has guest NUMA. */
  addedCells?: number[];
}

export interface VcpuRefused {
  ok: false;
  code: VcpuRefusalCode;
  message: string;
}

export type VcpuDecision = VcpuGrowth | VcpuRefused;

export { jobRunning } from '../core/host-view.js';

export function socketSize(vm: VmSample): number {
  const cores = Math.max(1, Math.floor(vm.coresPerSocket || 1));
  const threads = Math.max(1, Math.floor(vm.threadsPerCore ?? 1));
  return cores * threads;
}

/** The cap on the vCPU count and what sets it. */
export function vcpuCap(vm: VmSample, cfg: Pick<VcpuHotplugConfig, 'maxVcpus'>): { cap: number; by: string } {
  let cap = vm.vcpusMax;
  let by = `its maximum of ${vm.vcpusMax} vCPUs (<vcpu> in the domain XML)`;
  if (vm.hypervisorMaxVcpus !== undefined && vm.hypervisorMaxVcpus < cap) {
    cap = vm.hypervisorMaxVcpus;
    by = `the hypervisor's maximum of ${cap} vCPUs for machine ${vm.machine}`;
  }
  if (cfg.maxVcpus > 0 && cfg.maxVcpus < cap) {
    cap = cfg.maxVcpus;
    by = `hotplug.vcpu.maxVcpus = ${cap}`;
  }
  return { cap, by };
}

/**
 * The seed: with guest NUMA, the vCPUs of one socket must sit in one vNode, or the
 * guest may soft-lockup after the hot-plug. Checks the sockets the new vCPUs join.
 */
export function checkGuestNumaSockets(vm: VmSample, added: number[]): VcpuRefused | { ok: true; cells?: number[] } {
  if (vm.guestCells.length === 0) return { ok: true };
  const cellOf = new Map<number, number>();
  for (const cell of vm.guestCells) for (const c of cell.cpus) cellOf.set(c, cell.id);
  const size = socketSize(vm);
  const cells: number[] = [];
  for (const v of added) {
    const cell = cellOf.get(v);
    if (cell === undefined) {
      return {
        ok: false,
        code: 'numa-vcpu-unassigned',
        message: `vCPU ${v} is in no guest NUMA cell; list every vCPU up to the maximum in <cpu><numa><cell cpus=...>`,
      };
    }
    const first = Math.floor(v / size) * size;
    for (let s = first; s < Math.min(first + size, vm.vcpusMax); s++) {
      const other = cellOf.get(s);
      if (other !== cell) {
        return {
          ok: false,
          code: 'numa-socket-split',
          message: `vCPU ${v} is in guest cell ${cell} but vCPU ${s} of the same socket is in ${other === undefined ? 'no cell' : `cell ${other}`}; the seed forbids hot-plug then (guest soft lockup): put each socket's vCPUs (${size} per socket) in one cell`,
        };
      }
    }
    cells.push(cell);
  }
  return { ok: true, cells };
}

export function decideVcpuGrowth(vm: VmSample, loads: VcpuLoads | undefined, rooms: readonly NodeRoom[], cfg: VcpuHotplugConfig): VcpuDecision {
  const machine = checkMachine(vm.machine, vm.arch);
  if (!machine.ok) return { ok: false, code: machine.code, message: machine.message };

  const from = vm.vcpusCurrent;
  const { cap, by } = vcpuCap(vm, cfg);
  if (from >= cap) return { ok: false, code: 'at-maximum', message: `already at ${from} vCPUs, the cap set by ${by}` };
  const size = socketSize(vm);
  const target = Math.floor(from / size) * size + size;
  if (target > cap) {
    return {
      ok: false,
      code: 'partial-socket',
      message: `growing from ${from} to a whole socket (${target} vCPUs, ${size} per socket) would pass the cap set by ${by}; a partial socket confuses the guest's topology`,
    };
  }
  const added = Array.from({ length: target - from }, (_, k) => from + k);
  const numa = checkGuestNumaSockets(vm, added);
  if (!numa.ok) return numa;

  if (jobRunning(vm.job)) {
    return { ok: false, code: 'job-running', message: `a ${vm.job} job is running; the seed forbids CPU hot-plug during migration, save/restore and snapshots` };
  }

  const online = onlineVcpus(vm).map((i) => loads?.[i]).filter((l): l is number => typeof l === 'number');
  const mean = online.length ? online.reduce((a, b) => a + b, 0) / online.length : cfgFallback(cfg);
  const addedLoad = Math.min(1, Math.max(mean, cfg.threshold));
  const extra = addedLoad * added.length;
  const spare = rooms.map((r) => r.capacity - r.used);
  if (!spare.some((s) => s + 1e-9 >= extra)) {
    const best = spare.length ? Math.max(...spare) : 0;
    return {
      ok: false,
      code: 'host-full',
      message: `no host node has room for ${added.length} more busy vCPU(s) (needs ${extra.toFixed(2)} CPUs, the most spare on one node is ${Math.max(0, best).toFixed(2)})`,
    };
  }
  return { ok: true, from, target, added, addedLoad, ...(numa.cells ? { addedCells: numa.cells } : {}) };
}

function cfgFallback(cfg: VcpuHotplugConfig): number {
  return cfg.threshold;
}
