/**
 * Placement + sample -> the steps that change only what differs, under the churn rules (pure).
 *
 * Per VM the planner compares the placement with what the sample shows (cpusets compared
 * normalised, nodeset, cpu_shares) and sorts the differences:
 * - a violation (a vCPU allowed onto reserved or offline CPUs, or onto CPUs of more than one
 *   node) or a node over its CPU capacity is corrected now, whatever the churn rules say;
 * - a move (some vCPU to another node, or the memory nodeset) waits until the possible relative
 *   improvement of the quality measure has exceeded churn.improvementMargin for churn.holdCycles
 *   cycles and the VM's target has stayed the same as long; then moves go by gain, at most
 *   churn.maxVmsPerCycle VMs, within churn.memoryMigrationMiBPerCycle, never onto a node they
 *   would overload, never a VM still cooling down from its last move;
 * - tidying (cpu_shares, an emulator pin or a cpuset on the same node) does not move anything
 *   and is done at once.
 * Excluded VMs never appear. A memory move for a VM whose numatune mode is not `restrictive` is
 * refused (libvirt cannot change it live); with persistConfig it is written for the next boot.
 */
import type { HostSample, VmSample } from '../core/sample.js';
import type { Placement, Problem, ProblemVm, VmPlacement } from '../../solver/index.js';
import { allLocalCost, distanceToMemory, vmCost, type DistanceMatrix } from '../core/quality.js';
import { parseCpuSet, sameCpuSet } from '../core/cpuset.js';
import { hostView, type HostView, type HostViewSettings } from '../core/host-view.js';
import { describeNumatuneMode, nodesetChangesLive } from '../core/live-rules.js';
import { desiredShares, type SharesSettings } from '../core/shares.js';
import type { ChurnSettings, ChurnState } from './churn.js';
import type { Quality, Refusal, Step } from '../core/steps.js';

/** The configuration keys the planner reads (structurally a subset of the daemon's settings). */
export interface PlannerSettings extends HostViewSettings {
  churn: ChurnSettings;
  shares: SharesSettings['shares'] & { enabled: boolean };
  persistConfig: boolean;
}

export interface PlanInput {
  sample: HostSample;
  problem: Problem;
  placement: Placement;
  excluded: ReadonlyMap<string, string>;
  settings: PlannerSettings;
  churn: ChurnState;
  /** false for an explicit operator action (`numaplace apply`): no hold and no cooldown. */
  holdRule: boolean;
  /** vCPUs hot-plugged this cycle (VM -> their ids): pinned now whatever the churn rules say, as they have no place yet. */
  fresh?: ReadonlyMap<string, readonly number[]>;
}

export interface Deferral {
  vm: string;
  reason: string;
}

export interface PlanOutput {
  steps: Step[];
  /** Gain in the quality measure each step brings (same index as steps; 0 for tidying). */
  gains: number[];
  refused: Refusal[];
  quality: Quality;
  /** Possible relative improvement if the whole placement were applied. */
  improvement: number;
  /** VMs whose planned move waits, and why. */
  deferred: Deferral[];
  /** VMs this plan moves (vCPUs to another node or memory): they cool down once applied. */
  moving: string[];
  /** VMs corrected now because of a violation, with what it was. */
  violations: Deferral[];
  churn: ChurnState;
}

const EPS = 1e-9;

type Dist = DistanceMatrix;

interface VmDiff {
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

function addLoad(into: Map<number, number>, nodes: number[], load: number[], sign: 1 | -1): void {
  nodes.forEach((n, i) => into.set(n, (into.get(n) ?? 0) + sign * (load[i] ?? 0)));
}

function diffVm(input: PlanInput, vm: VmSample, pvm: ProblemVm, place: VmPlacement, view: HostView): VmDiff {
  const D = view.distances;
  const name = vm.name;
  const curNodes = pvm.current?.vcpuNodes ?? place.vcpus.map((v) => v.node);
  const curMem = pvm.current?.memoryMiB ?? {};
  const pins: Step[] = [];
  const pinGains: number[] = [];
  const freshPins: Step[] = [];
  const fresh = new Set(input.fresh?.get(name) ?? []);
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
    if (same(nowPin, v.cpuset)) continue;
    const nowNodes = view.nodesOf(nowPin);
    const moved = !(nowNodes && nowNodes.size === 1 && nowNodes.has(v.node));
    if (moved) nodeChange = true;
    const l = pvm.load[v.vcpu] ?? 0;
    pins.push({ vm: name, kind: 'pinVcpu', vcpu: v.vcpu, cpuset: v.cpuset });
    pinGains.push(l * (distanceToMemory(D, curNodes[v.vcpu], curMem) - distanceToMemory(D, v.node, curMem)));
  }
  const emulator: Step[] = same(vm.emulatorPin, place.emulator.cpuset) ? [] : [{ vm: name, kind: 'pinEmulator', cpuset: place.emulator.cpuset }];

  // Memory: a live nodeset change only in restrictive mode.
  let refusal: Refusal | null = null;
  let persistNodeset: Step | null = null;
  let nodeset: Step[] = [];
  let nodesetGain = 0;
  let targetMemory = curMem;
  let memoryMoveMiB = 0;
  const wantNodeset = place.memory.nodeset;
  const haveNodeset = vm.numatune?.nodeset ?? null;
  const memoryDiffers = !same(haveNodeset, wantNodeset);
  if (memoryDiffers && wantNodeset !== '') {
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
  const tidy: Step[] = [...freshPins];
  if (input.settings.shares.enabled) {
    const want = desiredShares(vm, input.settings);
    if (vm.cpuShares !== want) tidy.push({ vm: name, kind: 'setShares', shares: want });
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

export function plan(input: PlanInput): PlanOutput {
  const { sample, problem, placement, settings } = input;
  const view = hostView(sample.topology, settings);
  const D = view.distances;
  const placeByName = new Map(placement.vms.map((p) => [p.name, p]));
  const problemByName = new Map(problem.vms.map((p) => [p.name, p]));

  const diffs: VmDiff[] = [];
  for (const vm of sample.vms) {
    if (!vm.running || input.excluded.has(vm.name)) continue;
    const pvm = problemByName.get(vm.name);
    const place = placeByName.get(vm.name);
    if (!pvm || !place || pvm.fixed) continue;
    diffs.push(diffVm(input, vm, pvm, place, view));
  }

  // Quality now, and what the whole placement could reach.
  const nowCost = (p: ProblemVm) => (p.current ? vmCost(D, { load: p.load, vcpuNodes: p.current.vcpuNodes, memoryMiB: p.current.memoryMiB }) : allLocalCost([p]));
  const diffByName = new Map(diffs.map((d) => [d.vm.name, d]));
  const targetCost = (d: VmDiff) => vmCost(D, { load: d.pvm.load, vcpuNodes: d.targetNodes, memoryMiB: d.targetMemory });
  let now = 0;
  let potential = 0;
  for (const p of problem.vms) {
    const c = nowCost(p);
    now += c;
    const d = diffByName.get(p.name);
    potential += d && d.move.length > 0 ? targetCost(d) : c;
  }
  const allLocal = allLocalCost(problem.vms);
  const improvement = now > EPS ? (now - potential) / now : 0;

  // Churn bookkeeping: hold counters and cooldowns tick once per plan.
  const m = settings.churn;
  const heldCycles = improvement > m.improvementMargin ? input.churn.heldCycles + 1 : 0;
  const cooldown: Record<string, number> = {};
  for (const [vm, left] of Object.entries(input.churn.cooldown)) if (left - 1 > 0 && sample.vms.some((v) => v.name === vm)) cooldown[vm] = left - 1;
  const targets: ChurnState['targets'] = {};
  for (const d of diffs) {
    if (d.move.length === 0) continue;
    const before = input.churn.targets[d.vm.name];
    targets[d.vm.name] = { signature: d.signature, cycles: before && before.signature === d.signature ? before.cycles + 1 : 1 };
  }
  const refusedNodeset: Record<string, string> = {};
  for (const d of diffs) {
    const prev = input.churn.refusedNodeset[d.vm.name];
    if (d.refusal) refusedNodeset[d.vm.name] = `${d.vm.uuid} ${d.place.memory.nodeset}`;
    else if (prev !== undefined && prev === `${d.vm.uuid} ${d.place.memory.nodeset}`) refusedNodeset[d.vm.name] = prev;
  }

  // Node loads now, to keep partial moves from overloading a node.
  const capacity = new Map(sample.topology.nodes.map((n) => [n.id, view.capacity(n.id)]));
  const load = new Map<number, number>();
  for (const p of problem.vms) if (p.current) addLoad(load, p.current.vcpuNodes, p.load, 1);
  const over = (n: number) => (load.get(n) ?? 0) > (capacity.get(n) ?? 0) + EPS;
  const fits = (d: VmDiff) => {
    const after = new Map(load);
    addLoad(after, d.pvm.current?.vcpuNodes ?? [], d.pvm.load, -1);
    addLoad(after, d.targetNodes, d.pvm.load, 1);
    for (const [n, l] of after) if (l > (load.get(n) ?? 0) + EPS && l > (capacity.get(n) ?? 0) + EPS) return false;
    return true;
  };
  const take = (d: VmDiff) => {
    addLoad(load, d.pvm.current?.vcpuNodes ?? [], d.pvm.load, -1);
    addLoad(load, d.targetNodes, d.pvm.load, 1);
  };

  const chosen = new Set<VmDiff>();
  const violations: Deferral[] = [];
  const deferred: Deferral[] = [];
  const movers = diffs.filter((d) => d.move.length > 0);
  // 1. Violations: now.
  for (const d of movers) {
    if (d.violation) {
      chosen.add(d);
      take(d);
      violations.push({ vm: d.vm.name, reason: d.violation });
    }
  }
  // 2. Overloaded nodes: moves that take load off them, best gain first, until they fit.
  const byGain = [...movers].sort((a, b) => b.gain - a.gain || a.vm.name.localeCompare(b.vm.name));
  for (const d of byGain) {
    if (chosen.has(d)) continue;
    const cur = d.pvm.current?.vcpuNodes ?? [];
    const relieves = (n: number) => cur.some((c, i) => c === n && d.targetNodes[i] !== n && (d.pvm.load[i] ?? 0) > EPS);
    const overloaded = [...new Set(cur)].filter((n) => over(n) && relieves(n));
    if (overloaded.length === 0 || !fits(d)) continue;
    chosen.add(d);
    take(d);
    violations.push({ vm: d.vm.name, reason: `node ${overloaded.join(',')} is over its CPU capacity` });
  }
  // 3. Ordinary moves, under the churn rules.
  let vmsMoved = 0;
  let memoryMoved = 0;
  for (const d of byGain) {
    if (chosen.has(d)) continue;
    const name = d.vm.name;
    if (improvement <= m.improvementMargin) {
      deferred.push({ vm: name, reason: `improvement ${(improvement * 100).toFixed(1)}% is within churn.improvementMargin ${(m.improvementMargin * 100).toFixed(1)}%` });
      continue;
    }
    if (input.holdRule) {
      if (heldCycles < m.holdCycles) {
        deferred.push({ vm: name, reason: `improvement ${(improvement * 100).toFixed(1)}% has held ${heldCycles}/${m.holdCycles} cycles above churn.improvementMargin ${(m.improvementMargin * 100).toFixed(1)}%` });
        continue;
      }
      if ((targets[name]?.cycles ?? 0) < m.holdCycles) {
        deferred.push({ vm: name, reason: `its target has held ${targets[name]?.cycles ?? 0}/${m.holdCycles} cycles` });
        continue;
      }
      if (cooldown[name] !== undefined) {
        deferred.push({ vm: name, reason: `cooling down after its last move (${cooldown[name]} cycles left)` });
        continue;
      }
    }
    if (vmsMoved >= m.maxVmsPerCycle) {
      deferred.push({ vm: name, reason: `churn.maxVmsPerCycle (${m.maxVmsPerCycle}) VMs already move this cycle` });
      continue;
    }
    if (d.memoryMoveMiB > 0 && memoryMoved > 0 && memoryMoved + d.memoryMoveMiB > m.memoryMigrationMiBPerCycle) {
      deferred.push({ vm: name, reason: `moving ${Math.round(d.memoryMoveMiB)} MiB would exceed churn.memoryMigrationMiBPerCycle (${m.memoryMigrationMiBPerCycle}; ${Math.round(memoryMoved)} already)` });
      continue;
    }
    if (d.memoryMoveMiB > m.memoryMigrationMiBPerCycle && m.memoryMigrationMiBPerCycle === 0) {
      deferred.push({ vm: name, reason: 'churn.memoryMigrationMiBPerCycle is 0' });
      continue;
    }
    if (!fits(d)) {
      deferred.push({ vm: name, reason: 'its target node has no room until other VMs move' });
      continue;
    }
    chosen.add(d);
    take(d);
    vmsMoved++;
    memoryMoved += d.memoryMoveMiB;
  }

  // Steps in sample order, one VM's steps together.
  const steps: Step[] = [];
  const gains: number[] = [];
  const refused: Refusal[] = [];
  let planned = 0;
  const plannedOf = new Map<string, number>();
  for (const d of diffs) {
    if (chosen.has(d)) {
      d.move.forEach((s, i) => {
        steps.push(s);
        gains.push(d.moveGains[i]);
      });
      plannedOf.set(d.vm.name, targetCost(d));
    }
    if (d.persistNodeset && (chosen.has(d) || d.move.length === 0)) {
      steps.push(d.persistNodeset);
      gains.push(0);
    }
    for (const s of d.tidy) {
      steps.push(s);
      gains.push(0);
    }
    if (d.refusal) refused.push(d.refusal);
  }
  for (const p of problem.vms) planned += plannedOf.get(p.name) ?? nowCost(p);

  const moving = diffs.filter((d) => chosen.has(d)).map((d) => d.vm.name);
  return {
    steps,
    gains,
    refused,
    quality: { now, planned, allLocal },
    improvement,
    deferred,
    moving,
    violations,
    churn: { heldCycles, targets, cooldown, refusedNodeset },
  };
}
