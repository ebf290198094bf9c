/**
 * The simulated host: the scenario's VMs on a synthetic topology, advanced tick by tick.
 * Synchronous and timer-free so benchmarks can step thousands of cycles; SimulatedBackend wraps
 * it in the HostBackend interface. Semantics are documented in docs/scenarios.md.
 */
import { formatCpuSet, parseCpuSet } from '../core/cpuset.js';
import { syntheticTopology } from '../topology/synthetic.js';
import type { CpuInfo, HostTopology } from '../core/topology.js';
import { validateTopology } from '../core/topology-validate.js';
import type { HostSample, VmSample } from '../host/backend.js';
import { fairnessLevels, type Runnable } from './contention.js';
import { migrateMemory } from './memory.js';
import { unitHash } from './rng.js';
import type { InlineTopology, Scenario } from './scenario.js';
import { traceLevel } from './traces.js';
import { ScenarioError } from './validate.js';
import { createVmState, type SimVm } from './vm-state.js';

export function scenarioTopology(s: Scenario): HostTopology {
  if (typeof s.topology === 'string') {
    try {
      return syntheticTopology(s.topology);
    } catch (e) {
      throw new ScenarioError(s.name, 'topology', (e as Error).message);
    }
  }
  return inlineTopology(s.topology, s.name);
}

function inlineTopology(t: InlineTopology, source: string): HostTopology {
  const cpus: CpuInfo[] = t.nodes.flatMap((n) => n.cpus.map((id) => ({ id, node: n.id, socket: n.id, die: 0, core: id, siblings: [id], online: true })));
  cpus.sort((a, b) => a.id - b.id);
  const nodes = t.nodes.map((n) => ({ id: n.id, cpus: [...n.cpus].sort((a, b) => a - b), memoryMiB: n.memoryMiB, freeMemoryMiB: n.memoryMiB, distances: { ...n.distances } }));
  try {
    return validateTopology({ nodes, cpus, warnings: [], source: `simulated:${source}` });
  } catch (e) {
    throw new ScenarioError(source, 'topology', (e as Error).message);
  }
}

/** QEMU 7.2's vCPU limit per machine family (`virsh domcapabilities` <vcpu max>, measured for pc and q35). */
export function hypervisorMaxVcpus(machine: string): number | undefined {
  if (/^(pc-)?q35/.test(machine)) return 288;
  if (/^pc($|-i440fx|-\d)/.test(machine)) return 255;
  if (/^virt/.test(machine)) return 512;
  return undefined;
}

export class SimulatedHost {
  readonly baseTopology: HostTopology;
  readonly vms: SimVm[];
  readonly byName = new Map<string, SimVm>();
  /** Online CPU ids in index order; contention works on indexes. */
  readonly cpuIds: number[];
  readonly cpuIndex = new Map<number, number>();
  readonly cpuNodeIdx: Int32Array;
  readonly nodeIndex = new Map<number, number>();
  readonly hostUsed: number[];
  /** Simulated seconds since the start. */
  now = 0;
  ticks = 0;
  vcpuMoves = 0;
  memoryMigratedMiB = 0;
  private readonly allCpuIdx: number[];

  constructor(readonly scenario: Scenario) {
    this.baseTopology = scenarioTopology(scenario);
    const topo = this.baseTopology;
    topo.nodes.forEach((n, i) => this.nodeIndex.set(n.id, i));
    this.cpuIds = topo.nodes.flatMap((n) => n.cpus).sort((a, b) => a - b);
    this.cpuIds.forEach((id, i) => this.cpuIndex.set(id, i));
    const nodeOfCpu = new Map(topo.nodes.flatMap((n) => n.cpus.map((c) => [c, n.id] as const)));
    this.cpuNodeIdx = Int32Array.from(this.cpuIds, (id) => this.nodeIndex.get(nodeOfCpu.get(id)!)!);
    this.allCpuIdx = this.cpuIds.map((_, i) => i);
    const hu = scenario.hostUsedMiB;
    if (Array.isArray(hu) && hu.length !== topo.nodes.length) {
      throw new ScenarioError(scenario.name, 'hostUsedMiB', `lists ${hu.length} nodes but the host has ${topo.nodes.length}`);
    }
    this.hostUsed = topo.nodes.map((n, i) => Math.min(n.memoryMiB, Array.isArray(hu) ? hu[i] : hu));
    this.vms = scenario.vms.map((spec, i) => {
      this.checkPlacement(i);
      return createVmState(spec, scenario.seed, topo);
    });
    scenario.vms.forEach((spec, i) => {
      const limit = hypervisorMaxVcpus(spec.machine);
      if (limit !== undefined && spec.vcpus.max > limit) {
        throw new ScenarioError(scenario.name, `vms[${i}].vcpus`, `Maximum CPUs greater than specified machine type limit ${limit} (${spec.machine})`);
      }
    });
    for (const vm of this.vms) this.byName.set(vm.spec.name, vm);
    this.updatePresence();
    const free = this.freeByNode();
    for (const [node, mib] of free) {
      if (mib < 0) throw new ScenarioError(scenario.name, 'vms', `VMs present at the start need ${-mib} MiB more than node ${node} has (memoryMiB minus hostUsedMiB); move memory elsewhere or shrink VMs`);
    }
  }

  /** Placement errors are scenario errors naming the VM's field. */
  private checkPlacement(i: number): void {
    const spec = this.scenario.vms[i];
    const at = (f: string) => `vms[${i}].placement.${f}`;
    const fail = (f: string, p: string): never => {
      throw new ScenarioError(this.scenario.name, at(f), p);
    };
    for (const [vcpu, text] of Object.entries(spec.placement.vcpuPins)) {
      const bad = this.unknownCpus(text);
      if (bad.length) fail(`vcpuPins[${vcpu}]`, `CPU ${bad[0]} is not an online CPU of this host (${formatCpuSet(this.cpuIds)})`);
    }
    if (spec.placement.emulatorPin) {
      const bad = this.unknownCpus(spec.placement.emulatorPin);
      if (bad.length) fail('emulatorPin', `CPU ${bad[0]} is not an online CPU of this host (${formatCpuSet(this.cpuIds)})`);
    }
    for (const n of spec.placement.numatune ? parseCpuSet(spec.placement.numatune.nodeset) : []) {
      if (!this.nodeIndex.has(n)) fail('nodeset', `host node ${n} does not exist (nodes: ${[...this.nodeIndex.keys()].join(',')})`);
    }
    for (const n of Object.keys(spec.placement.memoryByNode ?? {})) {
      if (!this.nodeIndex.has(Number(n))) fail(`memoryByNode.${n}`, `host node ${n} does not exist`);
    }
  }

  unknownCpus(text: string): number[] {
    return parseCpuSet(text).filter((c) => !this.cpuIndex.has(c));
  }

  private updatePresence(): void {
    for (const vm of this.vms) {
      const s = vm.spec;
      vm.present = s.arriveAtSeconds <= this.now && (s.departAtSeconds === undefined || this.now < s.departAtSeconds);
    }
  }

  /** Free memory per node id: memory minus what the host uses minus the present VMs' memory (may be negative before validation). */
  freeByNode(): Map<number, number> {
    const free = new Map(this.baseTopology.nodes.map((n, i) => [n.id, n.memoryMiB - this.hostUsed[i]]));
    for (const vm of this.vms) {
      if (!vm.present) continue;
      for (const [n, mib] of vm.memByNode) free.set(n, (free.get(n) ?? 0) - mib);
    }
    return free;
  }

  jobOf(vm: SimVm): string | undefined {
    return vm.spec.jobs.find((j) => j.fromSeconds <= this.now && this.now < j.toSeconds)?.kind;
  }

  /** Per pin array (pins are replaced, never mutated): its CPU indexes and its text. */
  private readonly pinCache = new WeakMap<number[], { idx: number[]; text: string }>();
  private allText?: string;

  private pinInfo(pin: number[]): { idx: number[]; text: string } {
    let info = this.pinCache.get(pin);
    if (!info) {
      const idx = pin.map((c) => this.cpuIndex.get(c)).filter((i): i is number => i !== undefined);
      info = { idx: idx.length ? idx : this.allCpuIdx, text: formatCpuSet(pin) };
      this.pinCache.set(pin, info);
    }
    return info;
  }

  /** CPU indexes a vCPU may run on. */
  private allowedIdx(vm: SimVm, vcpu: number): number[] {
    const pin = vm.pins[vcpu];
    return pin ? this.pinInfo(pin).idx : this.allCpuIdx;
  }

  private cpusetText(pin: number[] | null): string {
    if (pin) return this.pinInfo(pin).text;
    return (this.allText ??= formatCpuSet(this.cpuIds));
  }

  /** Advance by `seconds` of simulated time in whole ticks (plus a shorter last one). */
  advance(seconds: number): void {
    let left = seconds;
    while (left > 1e-9) {
      const dt = Math.min(this.scenario.tickSeconds, left);
      this.step(dt);
      left -= dt;
    }
  }

  /** One step: load at the step's start, contention, busy time, memory migration; then the clock moves. */
  step(dt: number): void {
    this.updatePresence();
    const seed = this.scenario.seed;
    const items: Runnable[] = [];
    const owners: { vm: SimVm; vcpu: number }[] = [];
    for (const vm of this.vms) {
      if (!vm.present) continue;
      const weight = vm.cpuShares / vm.vcpusCurrent;
      for (let v = 0; v < vm.spec.vcpus.max; v++) {
        if (v >= vm.vcpusCurrent) {
          vm.lastDemand[v] = 0;
          vm.lastGranted[v] = 0;
          vm.lastGrantedByNode[v].fill(0);
          continue;
        }
        const trace = vm.spec.load[v % vm.spec.load.length];
        // A hot-plugged vCPU the guest never brought online runs nothing.
        const offlineInGuest = v >= vm.spec.vcpus.current && !vm.spec.guestOnlinesHotplug;
        const demand = offlineInGuest ? 0 : traceLevel(trace, this.now, seed, [vm.key, v]);
        vm.lastDemand[v] = demand;
        items.push({ demand, weight, cpus: this.allowedIdx(vm, v) });
        owners.push({ vm, vcpu: v });
      }
    }
    if (this.scenario.numaBalancingMiBPerSecond > 0) this.balanceTasks(items, owners);
    const levels = fairnessLevels(items, this.cpuIds.length);
    items.forEach((it, k) => {
      const { vm, vcpu } = owners[k];
      const byNode = vm.lastGrantedByNode[vcpu];
      byNode.fill(0);
      const piece = it.demand / it.cpus.length;
      let granted = 0;
      for (const c of it.cpus) {
        const g = Math.min(piece, levels[c] * it.weight);
        granted += g;
        byNode[this.cpuNodeIdx[c]] += g;
      }
      vm.lastGranted[vcpu] = granted;
      vm.vcpuTimeNs[vcpu] += Math.round(granted * dt * 1e9);
      // Where it last ran: one of its CPUs, drawn by the seed (weighted evenly: pieces on a CPU are equal unless crowded).
      const r = unitHash(seed, vm.key, vcpu, this.ticks);
      vm.lastCpu[vcpu] = this.cpuIds[it.cpus[Math.min(it.cpus.length - 1, Math.floor(r * it.cpus.length))]];
    });
    const free = this.freeByNode();
    const rate = this.scenario.memoryMigrationMiBPerSecond;
    for (const vm of this.vms) {
      if (!vm.present || !vm.numatune) continue;
      const res = migrateMemory(vm.memByNode, new Set(vm.numatune.nodeset), rate * dt + vm.migrationCarry, free);
      vm.migrationCarry = res.carry;
      this.memoryMigratedMiB += res.movedMiB;
    }
    if (this.scenario.numaBalancingMiBPerSecond > 0) this.balancePages(dt, free);
    this.now += dt;
    this.ticks++;
    this.updatePresence();
  }

  /** Node indexes of the CPUs in an index list, and the list cut to one node (index lists are cached, never mutated). */
  private readonly idxNodes = new WeakMap<number[], { nodes: Set<number>; on: Map<number, number[]> }>();
  private nodesOfIdx(idx: number[]): { nodes: Set<number>; on: Map<number, number[]> } {
    let r = this.idxNodes.get(idx);
    if (!r) {
      const on = new Map<number, number[]>();
      for (const c of idx) {
        const ni = this.cpuNodeIdx[c];
        if (!on.has(ni)) on.set(ni, []);
        on.get(ni)!.push(c);
      }
      r = { nodes: new Set(on.keys()), on };
      this.idxNodes.set(idx, r);
    }
    return r;
  }

  /**
   * Automatic NUMA balancing, task side: a vCPU free to run on several nodes goes to its VM's
   * preferred node (the allowed node holding most of the VM's memory; the VM's threads form one
   * numa_group) when that node's CPUs can take its demand on top of what is already there;
   * otherwise it spreads as without balancing. Greedy in VM order, so deterministic.
   */
  private balanceTasks(items: Runnable[], owners: { vm: SimVm; vcpu: number }[]): void {
    const nodeCount = this.baseTopology.nodes.length;
    const capacity = new Float64Array(nodeCount);
    for (let c = 0; c < this.cpuIds.length; c++) capacity[this.cpuNodeIdx[c]]++;
    const load = new Float64Array(nodeCount);
    const free: number[] = [];
    items.forEach((it, k) => {
      if (this.nodesOfIdx(it.cpus).nodes.size > 1) free.push(k);
      else for (const c of it.cpus) load[this.cpuNodeIdx[c]] += it.demand / it.cpus.length;
    });
    for (const k of free) {
      const it = items[k];
      const vm = owners[k].vm;
      const { nodes: allowed, on } = this.nodesOfIdx(it.cpus);
      let preferred = -1, most = 0;
      for (const [node, mib] of vm.memByNode) {
        const ni = this.nodeIndex.get(node)!;
        if (allowed.has(ni) && (mib > most || (mib === most && ni < preferred))) { preferred = ni; most = mib; }
      }
      if (preferred >= 0 && load[preferred] + it.demand <= capacity[preferred] + 1e-9) {
        it.cpus = on.get(preferred)!;
        load[preferred] += it.demand;
      } else {
        for (const c of it.cpus) load[this.cpuNodeIdx[c]] += it.demand / it.cpus.length;
      }
    }
  }

  /**
   * Automatic NUMA balancing, page side: each VM's memory drifts toward the nodes its vCPUs ran on
   * last tick (in proportion to the CPU they got there), within its numatune nodeset and the free
   * memory, at numaBalancingMiBPerSecond per VM. Counted as memory migrated.
   */
  private balancePages(dt: number, free: Map<number, number>): void {
    const nodeIds = this.baseTopology.nodes.map((n) => n.id);
    const budget0 = this.scenario.numaBalancingMiBPerSecond * dt;
    for (const vm of this.vms) {
      if (!vm.present) continue;
      const ran = new Float64Array(nodeIds.length);
      let total = 0;
      for (let v = 0; v < vm.vcpusCurrent; v++) vm.lastGrantedByNode[v].forEach((g, ni) => { ran[ni] += g; total += g; });
      if (total <= 0) continue;
      const mem = [...vm.memByNode.values()].reduce((a, b) => a + b, 0);
      const allowed = vm.numatune ? new Set(vm.numatune.nodeset) : null;
      // Whole MiB above / below where the vCPUs ran.
      const gap = nodeIds.map((id, ni) => Math.round((vm.memByNode.get(id) ?? 0) - (mem * ran[ni]) / total));
      let budget = Math.floor(budget0 + vm.balanceCarry);
      vm.balanceCarry = budget0 + vm.balanceCarry - budget;
      const sources = gap.map((g, ni) => ({ ni, g })).filter((x) => x.g > 0).sort((a, b) => b.g - a.g || a.ni - b.ni);
      const dests = gap.map((g, ni) => ({ ni, g: -g })).filter((x) => x.g > 0 && (!allowed || allowed.has(nodeIds[x.ni])))
        .sort((a, b) => b.g - a.g || a.ni - b.ni);
      for (const src of sources) {
        for (const dst of dests) {
          if (budget <= 0) break;
          const room = Math.floor(free.get(nodeIds[dst.ni]) ?? 0);
          const chunk = Math.min(src.g, dst.g, room, budget);
          if (chunk <= 0) continue;
          const s = nodeIds[src.ni], d = nodeIds[dst.ni];
          vm.memByNode.set(s, (vm.memByNode.get(s) ?? 0) - chunk);
          vm.memByNode.set(d, (vm.memByNode.get(d) ?? 0) + chunk);
          if (vm.memByNode.get(s) === 0) vm.memByNode.delete(s);
          free.set(s, (free.get(s) ?? 0) + chunk);
          free.set(d, (free.get(d) ?? 0) - chunk);
          src.g -= chunk;
          dst.g -= chunk;
          budget -= chunk;
          this.memoryMigratedMiB += chunk;
        }
      }
    }
  }

  topologyNow(): HostTopology {
    const free = this.freeByNode();
    return {
      ...this.baseTopology,
      nodes: this.baseTopology.nodes.map((n) => ({ ...n, freeMemoryMiB: Math.max(0, Math.min(n.memoryMiB, free.get(n.id) ?? 0)) })),
    };
  }

  sampleNow(): HostSample {
    const vms: VmSample[] = this.vms.filter((vm) => vm.present).map((vm) => {
      const s = vm.spec;
      const max = s.vcpus.max;
      const online = (v: number) => v < vm.vcpusCurrent;
      const job = this.jobOf(vm);
      let balloon: VmSample['balloon'] = { currentKiB: vm.memoryMiB * 1024, maximumKiB: vm.memoryMiB * 1024, rssKiB: vm.memoryMiB * 1024 };
      if (s.memoryUse) {
        const usedMiB = traceLevel(s.memoryUse, this.now, this.scenario.seed, [vm.key, -1], 4) * s.memoryMiB;
        const seen = s.guestOnlinesHotplug ? vm.memoryMiB : vm.memoryMiB - vm.hotplugMiB;
        const usable = Math.max(0, seen - usedMiB);
        balloon = {
          ...balloon,
          rssKiB: Math.round(Math.min(vm.memoryMiB, usedMiB) * 1024),
          availableKiB: seen * 1024,
          usableKiB: Math.round(usable * 1024),
          unusedKiB: Math.round(usable * 1024),
        };
      }
      return {
        name: s.name,
        uuid: vm.uuid,
        state: 'running',
        running: true,
        persistent: s.persistent,
        vcpusCurrent: vm.vcpusCurrent,
        vcpusMax: max,
        vcpuTimeNs: Array.from({ length: max }, (_, v) => (online(v) ? vm.vcpuTimeNs[v] : null)),
        memoryMiB: vm.memoryMiB,
        maxMemoryMiB: s.maxMemoryMiB ?? vm.memoryMiB,
        maxMemorySlots: s.memorySlots,
        usedMemorySlots: s.memorySlots === undefined ? undefined : vm.usedSlots,
        balloon,
        vcpuPins: vm.pins.map((p) => this.cpusetText(p)),
        vcpuLastCpu: Array.from({ length: max }, (_, v) => (online(v) ? vm.lastCpu[v] ?? this.cpuIds[this.allowedIdx(vm, v)[0]] : null)),
        emulatorPin: this.cpusetText(vm.emulatorPin),
        // As `virsh numatune` reports a running VM with no <numatune>.
        numatune: vm.numatune ? { mode: vm.numatune.mode, nodeset: formatCpuSet(vm.numatune.nodeset) } : { mode: 'strict', nodeset: null },
        memnodes: vm.memnodes.map((m) => ({ ...m })),
        cpuShares: vm.cpuShares,
        guestCells: vm.guestCells.map((c) => ({ ...c, cpus: [...c.cpus] })),
        machine: s.machine,
        arch: s.arch,
        coresPerSocket: s.coresPerSocket,
        threadsPerCore: s.threadsPerCore,
        ...(hypervisorMaxVcpus(s.machine) ? { hypervisorMaxVcpus: hypervisorMaxVcpus(s.machine) } : {}),
        virtioNetDevices: s.virtioNetDevices,
        ...(s.guestAgent
          ? { guestVcpusOnline: Array.from({ length: s.guestOnlinesHotplug ? vm.vcpusCurrent : Math.min(vm.vcpusCurrent, s.vcpus.current) }, (_, i) => i) }
          : {}),
        memoryByNode: Object.fromEntries([...vm.memByNode].sort((a, b) => a[0] - b[0]).map(([n, m]) => [String(n), m])),
        ...(job ? { job } : {}),
        metadata: { ...s.metadata },
        ...(s.osType ? { osType: s.osType } : {}),
        hasVhostUser: s.hasVhostUser,
        ...(s.hugepageKiB ? { hugepageKiB: s.hugepageKiB } : {}),
      };
    });
    return { atMs: Math.round(this.now * 1000), topology: this.topologyNow(), vms };
  }
}
