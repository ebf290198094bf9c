/**
 * Step 1 of planning: per VM, the differences between the placement and what the sample shows
 * (cpusets compared normalised, nodeset, cpu_shares), sorted into a move (some vCPU to another
 * node, or memory), tidying (same nodes: shares, an emulator pin, a cpuset) and a violation
 * (a vCPU allowed onto reserved or offline CPUs, or several nodes). Pure.
 */
import type { VmSample } from '../core/sample.js';
import type { ProblemVm, VmPlacement } from '../../solver/index.js';
import { distanceToMemory, vmCost } from '../core/quality.js';
import { parseCpuSet, sameCpuSet } from '../core/cpuset.js';
import type { HostView } from '../core/host-view.js';
import { describeNumatuneMode, nodesetChangesLive } from '../core/live-rules.js';
import { desiredShares } from '../core/shares.js';
import type { Refusal, Step } from '../core/steps.js';
import type { SharesSettings } from '../core/shares.js';
import type { ChurnState } from './churn.js';

/** What diffVm reads besides the VM: hot-plugged vCPUs, memory moves already refused, the settings it needs. */
export interface DiffContext {
  /** vCPUs hot-plugged this cycle (VM -> their ids): pinned now, they have no place yet. */
  fresh?: ReadonlyMap<string, readonly number[]>;
  churn: Pick<ChurnState, 'refusedNodeset'>;
  settings: { shares: SharesSettings['shares'] & { enabled: boolean }; persistConfig: boolean };
}

/** One VM's candidate change. */
export interface VmDiff {
  vm: VmSample;
  pvm: ProblemVm;
  place: VmPlacement;
  move: Step[];
  moveGains: number[];
  tidy: Step[];
  gain: number;
  violation: string | null;
  memoryMoveMiB: number;
  /** Node of each vCPU after the move, and its memory then. */
  targetNodes: number[];
  targetMemory: Record<string, number>;
  signature: string;
  refusal: Refusal | null;
  /** A config-only nodeset write (persistConfig) for a refused memory move. */
  persistNodeset: Step | null;
}

function same(a: string | null | undefined, b: string): boolean {
  if (a === null || a === undefined) return false;
  try {
    return sameCpuSet(a, b);
  } catch {
    return false;
  }
}

/** The nodeset (text) holds every node of the host that has memory; false when absent or unreadable. */
export function coversAllMemoryNodes(nodeset: string | null | undefined, view: Pick<HostView, 'topology'>): boolean {
  if (nodeset === null || nodeset === undefined || nodeset === '') return false;
  let set: Set<number>;
  try {
    set = new Set(parseCpuSet(nodeset));
  } catch {
    return false;
  }
  return view.topology.nodes.filter((n) => n.memoryMiB > 0).every((n) => set.has(n.id));
}

/** What is wrong with the VM's current vCPU affinity, or null. */
export function vcpuViolation(vm: VmSample, view: Pick<HostView, 'cpuNode' | 'online' | 'reserved'>): string | null {
  const { cpuNode, online, reserved } = view;
  for (let i = 0; i < vm.vcpusCurrent; i++) {
    const pin = vm.vcpuPins[i];
    if (pin === null || pin === undefined) return `vCPU ${i} is not pinned (may run on any node)`;
    let cpus: number[];
    try {
      cpus = parseCpuSet(pin);
    } catch {
      return `vCPU ${i} has an unreadable affinity ${JSON.stringify(pin)}`;
    }
    const res = cpus.filter((c) => reserved.has(c));
    if (res.length > 0) return `vCPU ${i} may run on reserved CPU ${res[0]}`;
    const off = cpus.filter((c) => !online.has(c));
    if (off.length > 0) return `vCPU ${i} may run on offline or absent CPU ${off[0]}`;
    const nodes = new Set(cpus.map((c) => cpuNode.get(c)));
    if (nodes.size > 1) return `vCPU ${i} may run on ${nodes.size} nodes (${pin})`;
  }
  return null;
}

/** The candidate change of one VM. */
export function diffVm(input: DiffContext, vm: VmSample, pvm: ProblemVm, place: VmPlacement, view: HostView): VmDiff {
  const D = view.distances;
  const name = vm.name;
  const curNodes = pvm.current?.vcpuNodes ?? place.vcpus.map((v) => v.node);
  const curMem = pvm.current?.memoryMiB ?? {};
  const pins: Step[] = [];
  const pinGains: number[] = [];
  const freshPins: Step[] = [];
  const fresh = new Set(input.fresh?.get(name) ?? []);
  // With persistConfig, a setting that is live already but not in the persistent definition is
  // written there alone (executor's flagsFor: --config only); null when the definition is unknown.
  const def = input.settings.persistConfig && vm.persistent ? (vm.definition ?? null) : null;
  const persistOnly: Step[] = [];
  let nodeChange = false;
  const targetNodes = [...curNodes];
  for (const v of place.vcpus) {
    if (fresh.has(v.vcpu)) {
      targetNodes[v.vcpu] = v.node;
      if (!same(vm.vcpuPins[v.vcpu], v.cpuset)) freshPins.push({ vm: name, kind: 'pinVcpu', vcpu: v.vcpu, cpuset: v.cpuset });
      continue;
    }
    if (v.vcpu >= vm.vcpusCurrent) continue;
    targetNodes[v.vcpu] = v.node;
    const nowPin = vm.vcpuPins[v.vcpu];
    if (same(nowPin, v.cpuset)) {
      // Live already as planned; the persistent definition may still differ (persistConfig).
      if (def && !same(def.vcpuPins[v.vcpu], v.cpuset)) persistOnly.push({ vm: name, kind: 'pinVcpu', vcpu: v.vcpu, cpuset: v.cpuset });
      continue;
    }
    const nowNodes = view.nodesOf(nowPin);
    const moved = !(nowNodes && nowNodes.size === 1 && nowNodes.has(v.node));
    if (moved) nodeChange = true;
    const l = pvm.load[v.vcpu] ?? 0;
    pins.push({ vm: name, kind: 'pinVcpu', vcpu: v.vcpu, cpuset: v.cpuset });
    pinGains.push(l * (distanceToMemory(D, curNodes[v.vcpu], curMem) - distanceToMemory(D, v.node, curMem)));
  }
  const emulator: Step[] = same(vm.emulatorPin, place.emulator.cpuset) ? [] : [{ vm: name, kind: 'pinEmulator', cpuset: place.emulator.cpuset }];
  if (emulator.length === 0 && def && !same(def.emulatorPin, place.emulator.cpuset)) persistOnly.push({ vm: name, kind: 'pinEmulator', cpuset: place.emulator.cpuset });

  // Memory: a live nodeset change only in restrictive mode.
  let refusal: Refusal | null = null;
  let persistNodeset: Step | null = null;
  let nodeset: Step[] = [];
  let nodesetGain = 0;
  let targetMemory = curMem;
  let memoryMoveMiB = 0;
  const wantNodeset = place.memory.nodeset;
  const haveNodeset = vm.numatune?.nodeset ?? null;
  // A nodeset that holds every node with memory restricts nothing (a one-node host: the memory is
  // already where it can only be): no move to plan, nothing to refuse or log.
  const restricts = !coversAllMemoryNodes(wantNodeset, view);
  const memoryDiffers = !same(haveNodeset, wantNodeset) && (restricts || !coversAllMemoryNodes(haveNodeset, view));
  if (memoryDiffers && wantNodeset !== '' && restricts) {
    const plannedMem = place.memory.MiB;
    const restrictive = nodesetChangesLive(vm.numatune);
    let toMove = 0;
    const keys = new Set([...Object.keys(curMem), ...Object.keys(plannedMem)]);
    for (const k of keys) toMove += Math.max(0, (curMem[k] ?? 0) - (plannedMem[k] ?? 0));
    if (restrictive) {
      nodeset = [{ vm: name, kind: 'setNodeset', nodeset: wantNodeset }];
      targetMemory = plannedMem;
      memoryMoveMiB = toMove;
      const before = vmCost(D, { load: pvm.load, vcpuNodes: targetNodes, memoryMiB: curMem });
      const after = vmCost(D, { load: pvm.load, vcpuNodes: targetNodes, memoryMiB: plannedMem });
      nodesetGain = before - after;
      if (memoryMoveMiB > 0.5) nodeChange = true;
    } else if (toMove > 0.5) {
      // Only a real memory move is refused: a nodeset text that differs while the memory is already in place is no matter.
      const key = `${vm.uuid} ${wantNodeset}`;
      if (input.churn.refusedNodeset[name] !== key) {
        const mode = describeNumatuneMode(vm.numatune);
        refusal = {
          vm: name,
          reason:
            `memory move to node(s) ${wantNodeset} refused: numatune mode is ${mode}, and libvirt changes a running VM's nodeset only in restrictive mode` +
            (input.settings.persistConfig && vm.persistent
              ? '; written to the persistent config, it takes effect at the next boot'
              : '; set <memory mode="restrictive"/> in the domain XML (or persistConfig to write it for the next boot)'),
        };
        if (input.settings.persistConfig && vm.persistent) persistNodeset = { vm: name, kind: 'setNodeset', nodeset: wantNodeset };
      }
    }
  }

  const move = [...pins, ...emulator, ...nodeset];
  const moveGains = [...pinGains, ...emulator.map(() => 0), ...nodeset.map(() => nodesetGain)];
  if (!memoryDiffers && restricts && wantNodeset !== '' && def && nodesetChangesLive(vm.numatune) && !same(def.numatune?.nodeset, wantNodeset)) {
    persistOnly.push({ vm: name, kind: 'setNodeset', nodeset: wantNodeset });
  }
  // Guest cells (seed: Guest NUMA, <memnode> per cell): libvirt 9 moves no cell's memory live, so
  // each cell's node goes to the definition and holds from the next boot; live, the VM's nodeset
  // covers its cells' nodes and each cell's vCPUs are pinned to its node.
  if (def && place.cells?.length && nodesetChangesLive(vm.numatune) && def.numatune?.mode === 'restrictive') {
    for (const c of place.cells) {
      if (!same(def.memnodes.find((m) => m.cellid === c.id)?.nodeset, String(c.node))) persistOnly.push({ vm: name, kind: 'setMemnode', cellid: c.id, nodeset: String(c.node) });
    }
  }
  const tidy: Step[] = [...freshPins, ...persistOnly];
  if (input.settings.shares.enabled) {
    const want = desiredShares(vm, input.settings);
    if (vm.cpuShares !== want) tidy.push({ vm: name, kind: 'setShares', shares: want });
    else if (def && def.shares !== want) tidy.push({ vm: name, kind: 'setShares', shares: want });
  }
  const gain = moveGains.reduce((a, b) => a + b, 0);
  const violation = vcpuViolation(vm, view);
  const signature = JSON.stringify([targetNodes, nodeset.length > 0 ? wantNodeset : null]);
  if (!nodeChange && !violation) {
    // Same nodes, different cpusets: tidying, not a move.
    return { vm, pvm, place, move: [], moveGains: [], tidy: [...move, ...tidy], gain: 0, violation, memoryMoveMiB: 0, targetNodes: curNodes, targetMemory: curMem, signature, refusal, persistNodeset };
  }
  return { vm, pvm, place, move, moveGains, tidy, gain, violation, memoryMoveMiB, targetNodes, targetMemory, signature, refusal, persistNodeset };
}

