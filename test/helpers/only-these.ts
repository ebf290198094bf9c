/** Test helper: a HostBackend that shows the daemon only the named domains of a shared libvirt. */
import type { ApplyFlags, DimmSpec, HostBackend, HostSample, VmSample } from '../../src/host/backend.js';

/** The daemon's view restricted to the named domains: it never sees, hence never acts on, anything else. */
export class OnlyThese implements HostBackend {
  readonly kind = 'virsh' as const;
  constructor(
    private readonly inner: HostBackend,
    private readonly names: ReadonlySet<string>,
    /** A change to each VM's sample (e.g. a guest balloon report a test injects). */
    private readonly tweak: (vm: VmSample) => VmSample = (vm) => vm,
  ) {}
  topology() {
    return this.inner.topology();
  }
  async sample(): Promise<HostSample> {
    const s = await this.inner.sample();
    // Other domains' troubles (skipped: gone mid-sample) are not the test's.
    return { ...s, vms: s.vms.filter((v) => this.names.has(v.name)).map(this.tweak), skipped: [] };
  }
  pinVcpu(vm: string, vcpu: number, cpuset: string, f: ApplyFlags) {
    return this.inner.pinVcpu(vm, vcpu, cpuset, f);
  }
  pinEmulator(vm: string, cpuset: string, f: ApplyFlags) {
    return this.inner.pinEmulator(vm, cpuset, f);
  }
  setNodeset(vm: string, nodeset: string, f: ApplyFlags) {
    return this.inner.setNodeset(vm, nodeset, f);
  }
  setMemnode(vm: string, cellid: number, nodeset: string, f: ApplyFlags) {
    return this.inner.setMemnode(vm, cellid, nodeset, f);
  }
  setShares(vm: string, shares: number, f: ApplyFlags) {
    return this.inner.setShares(vm, shares, f);
  }
  setVcpus(vm: string, count: number, f: ApplyFlags) {
    return this.inner.setVcpus(vm, count, f);
  }
  attachMemory(vm: string, dimm: DimmSpec, f: ApplyFlags) {
    return this.inner.attachMemory(vm, dimm, f);
  }
  stats() {
    return this.inner.stats();
  }
  close() {
    return this.inner.close();
  }
}
