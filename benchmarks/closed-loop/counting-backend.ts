/**
 * Wraps a HostBackend to count the actions a policy issues and to measure the CPU time spent
 * inside the backend, so a policy's own cost can be reported with the backend's time taken out.
 */
import type { ApplyFlags, DimmSpec, HostBackend, HostSample } from '../../src/host/backend.js';
import type { HostTopology } from '../../src/core/topology.js';

export class CountingBackend implements HostBackend {
  readonly kind: 'virsh' | 'simulated';
  readonly actions: Record<string, number> = {};
  /** vCPU hot-plugs: setVcpus calls that raised a VM's vCPU count. */
  vcpuHotplugs = 0;
  memoryHotplugs = 0;
  /** CPU time (user + system, microseconds) spent inside backend calls. */
  backendCpuUs = 0;
  private depth = 0;
  private enteredAt: NodeJS.CpuUsage | null = null;
  private vcpus = new Map<string, number>();

  /** `timeCpu`: measure the CPU spent in the backend (two getrusage calls per backend call). */
  constructor(private readonly inner: HostBackend, private readonly timeCpu = true) {
    this.kind = inner.kind;
  }

  /** Nested or concurrent calls are timed once, from the first entry to the last exit. */
  private async timed<T>(f: () => Promise<T>): Promise<T> {
    if (!this.timeCpu) return f();
    if (this.depth++ === 0) this.enteredAt = process.cpuUsage();
    try {
      return await f();
    } finally {
      if (--this.depth === 0 && this.enteredAt) {
        const d = process.cpuUsage(this.enteredAt);
        this.backendCpuUs += d.user + d.system;
        this.enteredAt = null;
      }
    }
  }

  private count(kind: string): void {
    this.actions[kind] = (this.actions[kind] ?? 0) + 1;
  }

  topology(): Promise<HostTopology> {
    return this.timed(() => this.inner.topology());
  }

  async sample(): Promise<HostSample> {
    const s = await this.timed(() => this.inner.sample());
    for (const vm of s.vms) this.vcpus.set(vm.name, vm.vcpusCurrent);
    return s;
  }

  pinVcpu(vm: string, vcpu: number, cpuset: string, flags: ApplyFlags): Promise<void> {
    this.count('pinVcpu');
    return this.timed(() => this.inner.pinVcpu(vm, vcpu, cpuset, flags));
  }

  pinEmulator(vm: string, cpuset: string, flags: ApplyFlags): Promise<void> {
    this.count('pinEmulator');
    return this.timed(() => this.inner.pinEmulator(vm, cpuset, flags));
  }

  setNodeset(vm: string, nodeset: string, flags: ApplyFlags): Promise<void> {
    this.count('setNodeset');
    return this.timed(() => this.inner.setNodeset(vm, nodeset, flags));
  }

  setMemnode(vm: string, cellid: number, nodeset: string, flags: ApplyFlags): Promise<void> {
    this.count('setMemnode');
    return this.timed(() => this.inner.setMemnode(vm, cellid, nodeset, flags));
  }

  setShares(vm: string, shares: number, flags: ApplyFlags): Promise<void> {
    this.count('setShares');
    return this.timed(() => this.inner.setShares(vm, shares, flags));
  }

  async setVcpus(vm: string, count: number, flags: ApplyFlags): Promise<void> {
    this.count('setVcpus');
    await this.timed(() => this.inner.setVcpus(vm, count, flags));
    const before = this.vcpus.get(vm);
    if (before !== undefined && count > before) this.vcpuHotplugs++;
    this.vcpus.set(vm, count);
  }

  async attachMemory(vm: string, dimm: DimmSpec, flags: ApplyFlags): Promise<void> {
    this.count('attachMemory');
    await this.timed(() => this.inner.attachMemory(vm, dimm, flags));
    this.memoryHotplugs++;
  }

  stats(): { calls: number; errors: number } {
    return this.inner.stats();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
