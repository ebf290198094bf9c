/** Small builders for hot-plug tests: a VM preset and a host sample on a synthetic topology. */
import type { HostSample, VmSample } from '../../../src/host/backend.js';
import { vmSample } from '../../helpers/fake-host.js';
import { syntheticTopology } from '../../../src/topology/synthetic.js';
import type { HostTopology } from '../../../src/core/topology.js';
import { DEFAULT_HOTPLUG_CONFIG, type HotplugConfig, type HotplugPlanConfig } from '../../../src/hotplug/config.js';

/**
 * The hot-plug tests' VM: the one VmSample builder (vmSample) with a running 4-of-8 vCPU VM pinned
 * on node 0 of the 2x8 host, room to grow (maxMemory, slots, balloon statistics), guest NUMA with one cell.
 */
export function vm(over: Partial<VmSample> = {}): VmSample {
  const current = over.vcpusCurrent ?? 4;
  const max = over.vcpusMax ?? 8;
  return vmSample({
    name: 'web1',
    uuid: '00000000-0000-0000-0000-000000000001',
    vcpusCurrent: current,
    vcpusMax: max,
    vcpuTimeNs: Array.from({ length: max }, (_, i) => (i < current ? 1e9 : null)),
    memoryMiB: 4096,
    maxMemoryMiB: 16384,
    maxMemorySlots: 16,
    usedMemorySlots: 0,
    balloon: { availableKiB: 4096 * 1024, usableKiB: 2048 * 1024 },
    vcpuPins: Array.from({ length: max }, () => '0-7'),
    vcpuLastCpu: Array.from({ length: max }, (_, i) => (i < current ? 1 : null)),
    emulatorPin: '0-7',
    numatune: { mode: 'restrictive', nodeset: '0' },
    guestCells: [{ id: 0, cpus: Array.from({ length: max }, (_, i) => i), memoryMiB: 4096 }],
    machine: 'pc-q35-7.2',
    ...over,
  });
}

export function host(vms: VmSample[], topology: HostTopology = syntheticTopology('2x8')): HostSample {
  return { atMs: 0, topology, vms };
}

export function config(over: { vcpu?: Partial<HotplugConfig['vcpu']>; memory?: Partial<HotplugConfig['memory']> } = {}): HotplugPlanConfig {
  return {
    hotplug: { vcpu: { ...DEFAULT_HOTPLUG_CONFIG.vcpu, ...over.vcpu }, memory: { ...DEFAULT_HOTPLUG_CONFIG.memory, ...over.memory } },
  };
}

/** loads map: every online vCPU of each VM at `l`. */
export function loadsOf(vms: VmSample[], l: number | ((vm: VmSample, i: number) => number)): Map<string, (number | null)[]> {
  return new Map(vms.map((v) => [v.name, v.vcpuTimeNs.map((t, i) => (t === null ? null : typeof l === 'number' ? l : l(v, i)))]));
}
