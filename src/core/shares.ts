/** cpu_shares: libvirt's range and the value numaplace wants for a VM (one rule for planner, config and hosts). */
import type { VmSample } from './sample.js';

/** libvirt's cpu_shares range (cgroup v1 cpu.shares). */
export const SHARES_MIN = 2;
export const SHARES_MAX = 262144;

export interface SharesSettings {
  shares: { perVcpu: number; classes: Readonly<Record<string, number>>; weights: Readonly<Record<string, number>> };
}

function positive(text: string | undefined): number | null {
  const n = text === undefined ? NaN : Number(text);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/** Share weight: config weights > metadata weight > metadata class > 1. */
export function shareWeight(vm: VmSample, settings: SharesSettings): number {
  const w = settings.shares.weights[vm.name];
  if (w !== undefined) return w;
  const mw = positive(vm.metadata.weight);
  if (mw !== null) return mw;
  const cls = vm.metadata.class;
  if (cls !== undefined && settings.shares.classes[cls] !== undefined) return settings.shares.classes[cls];
  return 1;
}

/** cpu_shares numaplace wants for the VM: perVcpu x vCPUs x weight, clamped to libvirt's range. */
export function desiredShares(vm: VmSample, settings: SharesSettings): number {
  const raw = Math.round(settings.shares.perVcpu * vm.vcpusCurrent * shareWeight(vm, settings));
  return Math.min(SHARES_MAX, Math.max(SHARES_MIN, raw));
}
