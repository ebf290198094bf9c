/** How many of a VM's vCPUs the guest itself reports online (from `virsh guestvcpus`, see src/host/parse-guest-vcpus.ts). */
import type { VmSample } from '../core/sample.js';
import type { VmHotplugState } from './state.js';

export interface GuestVcpuReport {
  vm: string;
  /** vCPUs online as libvirt sees them (plugged). */
  plugged: number;
  /** vCPUs the guest reports online; null = unknown (no guest agent). */
  guestOnline: number | null;
  /** vCPUs numaplace hot-plugged into this VM that are still plugged. */
  hotplugged: number;
  /** Of those, how many the guest reports online; null = unknown. */
  hotpluggedOnline: number | null;
}

export function guestVcpuReport(vm: VmSample, s: VmHotplugState | undefined): GuestVcpuReport {
  const plugged = (s?.pluggedVcpus ?? []).filter((v) => v < vm.vcpusCurrent);
  const online = vm.guestVcpusOnline;
  return {
    vm: vm.name,
    plugged: vm.vcpusCurrent,
    guestOnline: online ? online.length : null,
    hotplugged: plugged.length,
    hotpluggedOnline: online ? plugged.filter((v) => online.includes(v)).length : null,
  };
}
