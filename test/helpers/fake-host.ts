/** Test doubles: VmSample/HostSample builders and an in-memory backend that records and applies steps. */
import type { ApplyFlags, DimmSpec, HostBackend, HostSample, VmSample } from '../../src/host/backend.js';
import type { Placement, Problem } from '../../solver/types.js';
import { formatCpuSet } from '../../src/core/cpuset.js';
import type { HostTopology } from '../../src/core/topology.js';
import { buildHostView, type HostView, type HostViewSettings } from '../../src/core/host-view.js';

/** The one VmSample builder: a running, persistent, unpinned 2-vCPU VM with 1 GiB on no known node; `over` replaces any field. */
export function vmSample(over: Partial<VmSample> & { name: string }): VmSample {
  const vcpus = over.vcpusCurrent ?? 2;
  return {
    uuid: `uuid-${over.name}`,
    state: 'running',
    running: true,
    persistent: true,
    vcpusCurrent: vcpus,
    vcpusMax: vcpus,
    vcpuTimeNs: Array.from({ length: vcpus }, () => 0),
    memoryMiB: 1024,
    maxMemoryMiB: 1024,
    vcpuPins: Array.from({ length: vcpus }, () => null),
    vcpuLastCpu: Array.from({ length: vcpus }, () => null),
    emulatorPin: null,
    numatune: { mode: 'restrictive', nodeset: null },
    memnodes: [],
    cpuShares: 1024,
    guestCells: [],
    machine: 'pc-i440fx-7.2',
    arch: 'x86_64',
    coresPerSocket: 1,
    metadata: {},
    hasVhostUser: false,
    ...over,
  };
}

export function hostSample(topology: HostTopology, vms: VmSample[], atMs = 0): HostSample {
  return { atMs, topology, vms };
}

/** The host view a cycle builds from this sample (by default nothing reserved, no overcommit: the documented defaults). */
export function viewOf(sample: Pick<HostSample, 'topology'>, settings: HostViewSettings = { reservedCpus: '', cpuOvercommit: 1 }): HostView {
  return buildHostView(sample.topology, settings);
}

export interface Call {
  kind: string;
  vm: string;
  args: unknown[];
  flags: ApplyFlags;
}

/** Applies actions to its VmSamples; `failOn(n)` makes the n-th call (1-based) throw. */
export class FakeBackend implements HostBackend {
  readonly kind = 'simulated' as const;
  calls: Call[] = [];
  failAt: Set<number> = new Set();
  /** The n-th call (1-based) takes effect and then never returns. */
  hangAt: Set<number> = new Set();
  failWith: (call: Call) => Error = (c) => new Error(`injected failure of ${c.kind} on ${c.vm}`);
  atMs = 0;
  private n = 0;

  constructor(
    public topo: HostTopology,
    public vms: VmSample[],
  ) {}

  async topology() {
    return this.topo;
  }
  /** Busy fraction of every vCPU per VM; each sample() advances the clock by tickMs and the busy times by it. */
  loads: Record<string, number> = {};
  tickMs = 1000;
  /** Set to make sample() throw (libvirt unreachable). */
  down: Error | null = null;
  samples = 0;
  async sample(): Promise<HostSample> {
    this.samples++;
    if (this.down) throw this.down;
    this.atMs += this.tickMs;
    for (const v of this.vms) v.vcpuTimeNs = v.vcpuTimeNs.map((t) => (t === null ? null : t + (this.loads[v.name] ?? 0) * this.tickMs * 1e6));
    return { atMs: this.atMs, topology: this.topo, vms: this.vms.map((v) => structuredClone(v)) };
  }
  private vm(name: string): VmSample {
    const v = this.vms.find((x) => x.name === name);
    if (!v) throw new Error(`no VM ${name}`);
    return v;
  }
  private call(kind: string, vm: string, args: unknown[], flags: ApplyFlags, apply: (v: VmSample) => void): Promise<void> | void {
    const c = { kind, vm, args, flags };
    this.n++;
    this.calls.push(c);
    if (this.failAt.has(this.n)) throw this.failWith(c);
    if (flags.live) apply(this.vm(vm));
    // Took effect, and the caller never hears back: a process killed while virsh ran.
    if (this.hangAt.has(this.n)) return new Promise<never>(() => {});
  }
  async pinVcpu(vm: string, vcpu: number, cpuset: string, flags: ApplyFlags) {
    return this.call('pinVcpu', vm, [vcpu, cpuset], flags, (v) => (v.vcpuPins[vcpu] = cpuset));
  }
  async pinEmulator(vm: string, cpuset: string, flags: ApplyFlags) {
    return this.call('pinEmulator', vm, [cpuset], flags, (v) => (v.emulatorPin = cpuset));
  }
  async setNodeset(vm: string, nodeset: string, flags: ApplyFlags) {
    return this.call('setNodeset', vm, [nodeset], flags, (v) => (v.numatune = { mode: v.numatune?.mode ?? 'strict', nodeset }));
  }
  async setMemnode(vm: string, cellid: number, nodeset: string, flags: ApplyFlags) {
    await this.call('setMemnode', vm, [cellid, nodeset], flags, () => {});
    const def = this.vm(vm).definition;
    if (flags.config && def) def.memnodes = [...def.memnodes.filter((m) => m.cellid !== cellid), { cellid, mode: 'restrictive', nodeset }];
  }
  async setShares(vm: string, shares: number, flags: ApplyFlags) {
    return this.call('setShares', vm, [shares], flags, (v) => (v.cpuShares = shares));
  }
  async setVcpus(vm: string, count: number, flags: ApplyFlags) {
    return this.call('setVcpus', vm, [count], flags, (v) => (v.vcpusCurrent = count));
  }
  async attachMemory(vm: string, dimm: DimmSpec, flags: ApplyFlags) {
    return this.call('attachMemory', vm, [dimm], flags, (v) => (v.memoryMiB += dimm.MiB));
  }
  stats() {
    return { calls: this.n, errors: 0 };
  }
  async close() {}
}

/**
 * A trivial placement for tests of the planner and loop (not the solver): every VM on the node
 * given by `nodeOf`, vCPUs and emulator on that node's CPUs, memory there.
 */
export function placeAll(problem: Problem, nodeOf: (vm: string) => number): Placement {
  return {
    status: 'feasible',
    vms: problem.vms
      .filter((v) => !v.fixed)
      .map((v) => {
        const node = nodeOf(v.name);
        const cpus = formatCpuSet(problem.topology.nodes.find((n) => n.id === node)!.cpus);
        return {
          name: v.name,
          vcpus: Array.from({ length: v.vcpus }, (_, i) => ({ vcpu: i, node, cpuset: cpus })),
          emulator: { cpuset: cpus },
          memory: { nodeset: String(node), MiB: { [String(node)]: v.memoryMiB } },
        };
      }),
  };
}

/**
 * Placeholder placement until the solver lands: each movable VM to the node holding most of its
 * memory when that node has CPU room, else to the roomiest node. Not the solver.
 */
export function greedyPlacement(problem: Problem): Placement {
  const reserved = new Set(problem.reservedCpus ? problem.reservedCpus.split(',').flatMap((p) => {
    const [a, b] = p.split('-').map(Number);
    return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => a + i);
  }) : []);
  const over = problem.options?.cpuOvercommit ?? 1;
  const room = new Map(problem.topology.nodes.map((n) => [n.id, n.cpus.filter((c) => !reserved.has(c)).length * over]));
  for (const v of problem.vms) if (v.fixed && v.current) v.current.vcpuNodes.forEach((n, i) => room.set(n, room.get(n)! - (v.load[i] ?? 0)));
  const vms = [];
  for (const v of problem.vms.filter((x) => !x.fixed)) {
    const load = v.load.reduce((a, b) => a + b, 0);
    const mem = Object.entries(v.current?.memoryMiB ?? {}).sort((a, b) => b[1] - a[1]);
    let node = mem.length ? Number(mem[0][0]) : problem.topology.nodes[0].id;
    if (room.get(node)! < load) node = [...room].sort((a, b) => b[1] - a[1])[0][0];
    room.set(node, room.get(node)! - load);
    const cpus = formatCpuSet(problem.topology.nodes.find((n) => n.id === node)!.cpus.filter((c) => !reserved.has(c)));
    vms.push({
      name: v.name,
      vcpus: Array.from({ length: v.vcpus }, (_, i) => ({ vcpu: i, node, cpuset: cpus })),
      emulator: { cpuset: cpus },
      memory: { nodeset: String(node), MiB: { [String(node)]: v.memoryMiB } },
    });
  }
  return { status: 'feasible', vms };
}
