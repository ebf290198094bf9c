/**
 * Whether, where and how much memory to hot-plug into a VM short of memory
 * (seed: 内存热插). Each refusal names the constraint that forbids it.
 *
 * Trigger (see memoryShortRatio): the guest's balloon driver reports `usable`
 * (memory it can still hand out without swapping, ~MemAvailable) and `available`
 * (the memory it sees, ~MemTotal); the VM is short when usable/available stays
 * below hotplug.memory.minAvailableRatio for windowCycles cycles. Without a
 * balloon driver with stats there is no trigger (nothing is known).
 *
 * Size: hotplug.memory.stepMiB rounded up to a multiple of the guest memory block
 * size (hotplug.memory.blockSizeMiB, `lsmem` block_size_bytes) and of the huge page
 * size when the VM uses huge pages; shrunk (in whole units) to what the VM's
 * maxMemory, the 1:32 rule and the host node's free memory allow.
 *
 * Guest node: the guest cell whose memory sits on the host node with the most free
 * memory (a cell's host node: its <memnode> nodeset, else where its vCPUs run);
 * the dimm's <source><nodemask> names that host node. A Windows guest's first dimm
 * goes to guest node 0 (the seed: otherwise Windows does not see it).
 *
 * Linux guests with less than 4 GiB initial memory: the seed asks for at least
 * 4 GiB. numaplace WARNS (a log line with the plan) rather than refuses: the risk
 * behind it (the guest allocating the page structures of the new memory out of
 * what it has) is what the 1:32 rule bounds for every dimm, which is enforced, and
 * the OS type is often unknown to the host anyway.
 */
import type { VmSample } from '../core/sample.js';
import type { MemoryHotplugConfig } from './config.js';
import type { NodeRoom } from './host-room.js';
import { checkMachine } from './machine.js';
import type { MemoryRefusalCode } from './refusal.js';
import { jobRunning, type HostView } from '../core/host-view.js';
import { mostCommonNode } from '../core/nodes.js';
import { parseCpuSet } from '../core/cpuset.js';

export interface MemoryGrowth {
  ok: true;
  MiB: number;
  guestNode: number;
  hostNode: number;
  /** For the dimm's <source><nodemask>. */
  sourceNodes: string;
  warnings: string[];
}

export interface MemoryRefused {
  ok: false;
  code: MemoryRefusalCode;
  message: string;
}

export type MemoryDecision = MemoryGrowth | MemoryRefused;

/** The seed's ratio: hot-plugging N needs N/32 available in the guest. */
export const AVAILABLE_TO_ADDED = 32;
/** The seed's recommended initial memory for Linux guests. */
export const LINUX_MIN_INITIAL_MIB = 4096;
/** The seed: n virtio-net interfaces leave min(slots, 64 - n) hot-plug slots. */
export const SLOT_LIMIT = 64;

/** usable/available from the balloon stats; null when the guest does not report them. */
export function memoryShortRatio(vm: VmSample): number | null {
  const b = vm.balloon;
  if (!b || b.availableKiB === undefined || b.usableKiB === undefined || !(b.availableKiB > 0)) return null;
  return b.usableKiB / b.availableKiB;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Hot-plug unit in MiB: lcm of the block size and the huge page size. */
export function memoryUnitMiB(vm: VmSample, blockSizeMiB: number): number {
  const blockKiB = blockSizeMiB * 1024;
  const page = vm.hugepageKiB && vm.hugepageKiB > 4 ? vm.hugepageKiB : 1;
  return (blockKiB / gcd(blockKiB, page)) * page / 1024;
}

export function freeSlots(vm: VmSample): number | null {
  if (vm.maxMemorySlots === undefined) return null;
  const limit = vm.virtioNetDevices ? Math.min(vm.maxMemorySlots, SLOT_LIMIT - vm.virtioNetDevices) : vm.maxMemorySlots;
  return limit - (vm.usedMemorySlots ?? 0);
}

function singleNode(nodeset: string | null | undefined): number | null {
  if (!nodeset) return null;
  try {
    const ids = parseCpuSet(nodeset);
    return ids.length === 1 ? ids[0] : null;
  } catch {
    return null;
  }
}

/** Host node of each guest cell: its memnode nodeset, else where its vCPUs run, else the VM's numatune nodeset. */
export function cellHostNodes(vm: VmSample, view: HostView): Map<number, number | null> {
  const out = new Map<number, number | null>();
  for (const cell of vm.guestCells) {
    let node = singleNode(vm.memnodes.find((m) => m.cellid === cell.id)?.nodeset);
    if (node === null) {
      const online = cell.cpus.filter((v) => v < vm.vcpusCurrent);
      node = mostCommonNode(online.map((v) => view.vcpuNode(vm, v)).filter((n): n is number => n !== null)) ?? singleNode(vm.numatune?.nodeset);
    }
    out.set(cell.id, node);
  }
  return out;
}

export interface MemoryRequest {
  /** An explicit size: must already be a whole number of units (refused otherwise), never shrunk. */
  MiB?: number;
  /** An explicit guest node. */
  guestNode?: number;
}

export function decideMemoryGrowth(
  vm: VmSample,
  view: HostView,
  rooms: readonly NodeRoom[],
  cfg: MemoryHotplugConfig,
  request: MemoryRequest = {},
): MemoryDecision {
  const machine = checkMachine(vm.machine, vm.arch);
  if (!machine.ok) return { ok: false, code: machine.code, message: machine.message };
  if (vm.hasVhostUser) {
    return { ok: false, code: 'vhost-user', message: 'the VM has vhost-user devices; the seed: vhost-user and memory hot-plug exclude each other' };
  }
  if (vm.guestCells.length === 0) {
    return { ok: false, code: 'no-guest-numa', message: 'memory hot-plug needs guest NUMA: define at least one <cpu><numa><cell> for the VM' };
  }
  const slots = freeSlots(vm);
  if (slots === null || !(vm.maxMemoryMiB > 0)) {
    return { ok: false, code: 'no-memory-hotplug', message: "memory hot-plug is not configured: give the VM <maxMemory slots='N' unit='MiB'>MAX</maxMemory>" };
  }
  if (slots <= 0) {
    const net = vm.virtioNetDevices ? ` (min(${vm.maxMemorySlots} slots, 64 - ${vm.virtioNetDevices} virtio-net))` : '';
    return { ok: false, code: 'no-free-slots', message: `all ${vm.usedMemorySlots ?? 0} memory slots${net} are used; raise <maxMemory slots=...> (needs a restart)` };
  }
  if (jobRunning(vm.job)) {
    return { ok: false, code: 'job-running', message: `a ${vm.job} job is running; no hot-plug during migration, save/restore and snapshots` };
  }

  const block = cfg.blockSizeMiB;
  const unit = memoryUnitMiB(vm, block);
  const hugeMiB = vm.hugepageKiB && vm.hugepageKiB > 4 ? vm.hugepageKiB / 1024 : 0;
  let want: number;
  if (request.MiB !== undefined) {
    if (!(request.MiB > 0) || request.MiB % block !== 0) {
      return { ok: false, code: 'block-size', message: `${request.MiB} MiB is not a multiple of the guest memory block size ${block} MiB (hotplug.memory.blockSizeMiB); the guest could not online it` };
    }
    if (request.MiB % unit !== 0) {
      return { ok: false, code: 'hugepage-size', message: `${request.MiB} MiB is not a multiple of the VM's huge page size ${hugeMiB} MiB` };
    }
    want = request.MiB;
  } else {
    want = Math.ceil(cfg.stepMiB / unit) * unit;
  }
  const whole = (n: number) => Math.floor(n / unit) * unit;
  const tooSmall = (room: number) => (request.MiB !== undefined ? room < want : whole(room) < unit);
  const unitText = hugeMiB && unit !== block ? `${unit} MiB (block size and ${hugeMiB} MiB huge pages)` : `${unit} MiB`;

  const maxRoom = vm.maxMemoryMiB - vm.memoryMiB;
  if (tooSmall(maxRoom)) {
    const code: MemoryRefusalCode = hugeMiB && whole(maxRoom) < unit && Math.floor(maxRoom / block) >= 1 && request.MiB === undefined ? 'hugepage-size' : 'max-memory';
    return {
      ok: false,
      code,
      message: `the VM has ${vm.memoryMiB} MiB of its maxMemory ${vm.maxMemoryMiB} MiB: ${Math.max(0, maxRoom)} MiB left, less than ${request.MiB ?? unitText}${code === 'hugepage-size' ? ' (one huge-page-aligned unit)' : ''}; raise <maxMemory>`,
    };
  }
  // Unknown only for an explicit request (the automatic trigger needs the balloon stats): checked when known.
  const usableKiB = vm.balloon?.usableKiB;
  const usableMiB = (usableKiB ?? 0) / 1024;
  const ratioRoom = usableKiB === undefined ? Infinity : usableMiB * AVAILABLE_TO_ADDED;
  if (tooSmall(ratioRoom)) {
    return {
      ok: false,
      code: 'ratio-1-32',
      message: `the guest has ${usableMiB.toFixed(0)} MiB available; the seed's 1:32 rule allows at most ${ratioRoom.toFixed(0)} MiB hot-plugged at once, less than ${request.MiB ?? unitText} (the guest could hang)`,
    };
  }

  // Guest cell and host node.
  const hostOf = cellHostNodes(vm, view);
  const free = new Map(rooms.map((r) => [r.node, r.freeMemoryMiB]));
  const windowsFirst = (vm.osType ?? '').toLowerCase().startsWith('windows') && (vm.usedMemorySlots ?? 0) === 0;
  let cells = vm.guestCells.map((c) => c.id);
  if (request.guestNode !== undefined) {
    if (!cells.includes(request.guestNode)) {
      return { ok: false, code: 'no-such-guest-node', message: `guest NUMA node ${request.guestNode} does not exist (the VM has cells ${cells.join(',')})` };
    }
    cells = [request.guestNode];
  }
  if (windowsFirst) {
    if (!cells.includes(0)) {
      // An explicit request for another guest node, or (impossibly) no cell 0.
      return { ok: false, code: 'windows-first-dimm-node0', message: 'a Windows guest must get its first dimm on guest NUMA node 0 (the seed: otherwise Windows does not see it)' };
    }
    cells = [0];
  }
  const options = cells.map((cell) => {
    const host = hostOf.get(cell) ?? null;
    // A cell with no known host node may take its memory from the roomiest node.
    const node = host ?? [...free].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? null;
    return { cell, node, free: node === null ? 0 : free.get(node) ?? 0 };
  });
  options.sort((a, b) => b.free - a.free || a.cell - b.cell);
  const best = options[0];
  if (!best || best.node === null || tooSmall(best.free)) {
    const where = options.map((o) => `cell ${o.cell} on host node ${o.node ?? '?'}: ${o.free} MiB free`).join('; ');
    return {
      ok: false,
      code: 'host-memory',
      message: `${windowsFirst ? 'the first dimm of a Windows guest must go to guest node 0, but ' : ''}no host node under the VM's guest cells has room for ${request.MiB ?? unitText} (${where})`,
    };
  }
  const MiB = request.MiB ?? whole(Math.min(want, maxRoom, ratioRoom, best.free));

  const warnings: string[] = [];
  if (usableKiB === undefined) warnings.push("the guest reports no available memory (no balloon statistics): the seed's 1:32 rule could not be checked");
  const initial = vm.guestCells.reduce((a, c) => a + c.memoryMiB, 0);
  if ((vm.osType ?? '').toLowerCase() === 'linux' && initial < LINUX_MIN_INITIAL_MIB) {
    warnings.push(`Linux guest with ${initial} MiB initial memory: the seed recommends at least ${LINUX_MIN_INITIAL_MIB} MiB for memory hot-plug`);
  }
  return { ok: true, MiB, guestNode: best.cell, hostNode: best.node, sourceNodes: String(best.node), warnings };
}
