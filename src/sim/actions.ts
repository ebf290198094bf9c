/**
 * The live actions on the simulated host, refusing what real libvirt 9 / QEMU 7.2 refuse with their
 * texts (captured on this project's machines, see shared/notes/libvirt-on-these-machines.md):
 * HostActionError for a bad value or a busy VM, HostLimitationError for what cannot be done live.
 */
import { nodesetChangesLive } from '../core/live-rules.js';
import { SHARES_MAX, SHARES_MIN } from '../core/shares.js';
import { CpuSetError, parseCpuSet } from '../core/cpuset.js';
import type { ApplyFlags, DimmSpec } from '../host/backend.js';
import { HostActionError, HostLimitationError } from '../host/errors.js';
import type { SimulatedHost } from './host.js';
import type { SimVm } from './vm-state.js';

const LOCK_HELD = 'Timed out during operation: cannot acquire state change lock (held by monitor=remoteDispatchDomainMigratePerform3Params)';

function findVm(host: SimulatedHost, name: string, action: string): SimVm {
  const vm = host.byName.get(name);
  if (!vm || !vm.present) throw new HostActionError(name, action, `failed to get domain '${name}'`);
  return vm;
}

/** --config on a transient VM fails; a config-only change leaves the running VM as it is. */
function live(vm: SimVm, action: string, flags: ApplyFlags): boolean {
  if (flags.config && !vm.spec.persistent) {
    throw new HostActionError(vm.spec.name, action, 'Requested operation is not valid: transient domains do not have any persistent config');
  }
  return flags.live || !flags.config;
}

/** Parse a host CPU list the way virsh and the kernel check it. */
function hostCpus(host: SimulatedHost, vm: string, action: string, text: string): number[] {
  let ids: number[];
  try {
    ids = parseCpuSet(text);
  } catch (e) {
    if (e instanceof CpuSetError) throw new HostActionError(vm, action, `Invalid cpulist '${text}'`);
    throw e;
  }
  const maxcpu = Math.max(...host.baseTopology.cpus.map((c) => c.id), ...host.cpuIds) + 1;
  const over = ids.find((c) => c >= maxcpu);
  if (over !== undefined) throw new HostActionError(vm, action, `CPU ${over} in cpulist '${text}' exceed the maxcpu ${maxcpu}`);
  if (ids.some((c) => !host.cpuIndex.has(c))) throw new HostActionError(vm, action, `Invalid value '${text}' for 'cpuset.cpus': Invalid argument`);
  return ids;
}

function same(a: number[] | null, b: number[] | null): boolean {
  return a === b || (a !== null && b !== null && a.length === b.length && a.every((x, i) => x === b[i]));
}

export function pinVcpu(host: SimulatedHost, name: string, vcpu: number, cpuset: string, flags: ApplyFlags): void {
  const vm = findVm(host, name, 'pinVcpu');
  const max = vm.spec.vcpus.max;
  if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= max) throw new HostActionError(name, 'pinVcpu', `invalid argument: vcpu ${vcpu} is out of range of live cpu count ${max}`);
  const ids = hostCpus(host, name, 'pinVcpu', cpuset);
  if (!live(vm, 'pinVcpu', flags)) return;
  const pin = ids.length === host.cpuIds.length ? null : ids;
  if (!same(vm.pins[vcpu], pin)) {
    if (vcpu < vm.vcpusCurrent) host.vcpuMoves++;
    vm.pins[vcpu] = pin;
  }
}

export function pinEmulator(host: SimulatedHost, name: string, cpuset: string, flags: ApplyFlags): void {
  const vm = findVm(host, name, 'pinEmulator');
  const ids = hostCpus(host, name, 'pinEmulator', cpuset);
  if (!live(vm, 'pinEmulator', flags)) return;
  vm.emulatorPin = ids.length === host.cpuIds.length ? null : ids;
}

export function setNodeset(host: SimulatedHost, name: string, nodeset: string, flags: ApplyFlags): void {
  const vm = findVm(host, name, 'setNodeset');
  const nodes = parseHostNodes(host, name, 'setNodeset', nodeset);
  if (!live(vm, 'setNodeset', flags)) return;
  // libvirt 9.0 (measured): a running VM with no <numatune> takes one nodeset, recorded as mode strict;
  // after that, as in strict mode, a change needs restrictive mode.
  if (!vm.numatune) {
    vm.numatune = { mode: 'strict', nodeset: nodes };
    return;
  }
  if (!nodesetChangesLive(vm.numatune)) {
    throw new HostLimitationError(name, 'setNodeset', 'Requested operation is not valid: change of nodeset for running domain requires restrictive numa mode');
  }
  vm.numatune = { mode: 'restrictive', nodeset: nodes };
}

/**
 * A guest cell's memnode: libvirt 9 changes none on a running VM (numaplace writes it with
 * `virsh define`, persistent definition only). The simulated host keeps no persistent definition,
 * so a config write checks the values and changes nothing here.
 */
export function setMemnode(host: SimulatedHost, name: string, cellid: number, nodeset: string, flags: ApplyFlags): void {
  const vm = findVm(host, name, 'setMemnode');
  if (!Number.isInteger(cellid) || cellid < 0 || cellid >= vm.guestCells.length) {
    throw new HostActionError(name, 'setMemnode', `unsupported configuration: Invalid cellid '${cellid}': the guest has ${vm.guestCells.length} NUMA cells`);
  }
  parseHostNodes(host, name, 'setMemnode', nodeset);
  if (flags.live) throw new HostLimitationError(name, 'setMemnode', 'a guest cell\'s memnode cannot change on a running domain (libvirt 9)');
  live(vm, 'setMemnode', flags);
}

function parseHostNodes(host: SimulatedHost, name: string, action: string, nodeset: string): number[] {
  let nodes: number[];
  try {
    nodes = parseCpuSet(nodeset);
  } catch {
    throw new HostActionError(name, action, `invalid argument: Failed to parse bitmap '${nodeset}'`);
  }
  const missing = nodes.find((n) => !host.nodeIndex.has(n));
  if (missing !== undefined) throw new HostActionError(name, action, `unsupported configuration: NUMA node ${missing} is unavailable`);
  return nodes;
}

export function setShares(host: SimulatedHost, name: string, shares: number, flags: ApplyFlags): void {
  const vm = findVm(host, name, 'setShares');
  if (!Number.isInteger(shares) || shares < SHARES_MIN || shares > SHARES_MAX) {
    throw new HostActionError(name, 'setShares', `invalid argument: shares '${shares}' must be in range [${SHARES_MIN}, ${SHARES_MAX}]`);
  }
  if (!live(vm, 'setShares', flags)) return;
  vm.cpuShares = shares;
}

/** The seed document's minimum machine types for hot-plug: pc-i440fx-1.5 on x86, virt-4.1 on AArch64. */
export function machineSupportsHotplug(machine: string): boolean {
  const m = /^(pc-i440fx|virt)-(\d+)\.(\d+)/.exec(machine);
  if (!m) return true;
  const v = Number(m[2]) + Number(m[3]) / 100;
  return m[1] === 'virt' ? v >= 4.01 : v >= 1.05;
}

export function setVcpus(host: SimulatedHost, name: string, count: number, flags: ApplyFlags): void {
  const vm = findVm(host, name, 'setVcpus');
  const max = vm.spec.vcpus.max;
  if (!Number.isInteger(count) || count < 1) throw new HostActionError(name, 'setVcpus', 'Invalid number of virtual CPUs');
  if (count > max) throw new HostActionError(name, 'setVcpus', `invalid argument: requested vcpus is greater than max allowable vcpus for the live domain: ${count} > ${max}`);
  if (!live(vm, 'setVcpus', flags)) return;
  if (count === vm.vcpusCurrent) return;
  if (host.jobOf(vm)) throw new HostActionError(name, 'setVcpus', LOCK_HELD);
  if (!machineSupportsHotplug(vm.spec.machine)) {
    throw new HostLimitationError(name, 'setVcpus', `machine type '${vm.spec.machine}' does not support CPU hot-plug (needs pc-i440fx-1.5 / virt-4.1 or later)`);
  }
  if (count < vm.vcpusCurrent) {
    // Unplug needs the guest to cooperate; the simulated guests, like a VM with no OS, cannot.
    const model = vm.spec.arch === 'aarch64' ? 'host-arm-cpu' : 'qemu64-x86_64-cpu';
    throw new HostLimitationError(name, 'setVcpus', `internal error: unable to execute QEMU command 'device_del': acpi: device unplug request for not supported device type: ${model}`);
  }
  for (let v = vm.vcpusCurrent; v < count; v++) vm.lastCpu[v] = null;
  vm.vcpusCurrent = count;
}

export function attachMemory(host: SimulatedHost, name: string, dimm: DimmSpec, flags: ApplyFlags): void {
  const vm = findVm(host, name, 'attachMemory');
  const s = vm.spec;
  const fail = (detail: string): never => {
    throw new HostActionError(name, 'attachMemory', detail);
  };
  if (!Number.isInteger(dimm.MiB) || dimm.MiB <= 0) fail(`unsupported configuration: memory device size must be a positive number of MiB, got ${dimm.MiB}`);
  if (s.maxMemoryMiB === undefined || s.memorySlots === undefined) fail("unsupported configuration: cannot use/hotplug a memory device when domain 'maxMemory' is not defined");
  if (s.hasVhostUser) throw new HostLimitationError(name, 'attachMemory', 'memory hot-plug is not supported on a VM with vhost-user devices');
  if (!Number.isInteger(dimm.guestNode) || dimm.guestNode < 0 || dimm.guestNode >= vm.guestCells.length) {
    fail(`can't add memory backend for guest node '${dimm.guestNode}' as the guest has only '${vm.guestCells.length}' NUMA nodes configured`);
  }
  if (vm.memoryMiB + dimm.MiB > s.maxMemoryMiB!) {
    fail(`unsupported configuration: Attaching memory device with size '${dimm.MiB * 1024}' would exceed domain's maxMemory config size '${s.maxMemoryMiB! * 1024}'`);
  }
  // Each virtio-net interface holds one of the 64 slots (seed: at most min(slots, 64 - n) dimms).
  const slots = Math.min(s.memorySlots!, 64 - s.virtioNetDevices);
  if (vm.usedSlots + 1 > slots) fail(`unsupported configuration: memory device count '${vm.usedSlots + 1}' exceeds slots count '${slots}'`);
  if (s.hugepageKiB && (dimm.MiB * 1024) % s.hugepageKiB !== 0) {
    fail(`internal error: unable to execute QEMU command 'object-add': backend memory size must be multiple of 0x${(s.hugepageKiB * 1024).toString(16)}`);
  }
  if (!live(vm, 'attachMemory', flags)) return;
  if (host.jobOf(vm)) fail(LOCK_HELD);
  let sources: number[];
  if (dimm.sourceNodes !== undefined) {
    try {
      sources = parseCpuSet(dimm.sourceNodes);
    } catch {
      return fail(`invalid argument: Failed to parse bitmap '${dimm.sourceNodes}'`);
    }
    const missing = sources.find((n) => !host.nodeIndex.has(n));
    if (missing !== undefined) fail(`unsupported configuration: NUMA node ${missing} is unavailable`);
  } else {
    sources = vm.numatune?.nodeset ?? host.baseTopology.nodes.filter((n) => n.cpus.length > 0).map((n) => n.id);
  }
  // Allocate on the source nodes with the most free memory first.
  const free = host.freeByNode();
  const room = sources.reduce((sum, n) => sum + Math.max(0, free.get(n) ?? 0), 0);
  const memdimm = `memdimm${vm.usedSlots}`;
  if (room < dimm.MiB) fail(`internal error: unable to execute QEMU command 'object-add': cannot set up guest memory '${memdimm}': Cannot allocate memory`);
  let left = dimm.MiB;
  for (const n of [...sources].sort((a, b) => (free.get(b) ?? 0) - (free.get(a) ?? 0) || a - b)) {
    const take = Math.min(left, Math.max(0, Math.floor(free.get(n) ?? 0)));
    if (take > 0) vm.memByNode.set(n, (vm.memByNode.get(n) ?? 0) + take);
    left -= take;
    if (left === 0) break;
  }
  vm.memoryMiB += dimm.MiB;
  vm.hotplugMiB += dimm.MiB;
  vm.usedSlots++;
  vm.guestCells[dimm.guestNode].memoryMiB += dimm.MiB;
}
