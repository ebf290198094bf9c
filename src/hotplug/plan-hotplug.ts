/**
 * One cycle of hot-plug policy, called by the daemon between sampling and solving:
 * feed the detectors, decide, and return the setVcpus / attachMemory steps, the
 * refusals, and the adjustments that make the solver place the grown VM in the
 * same cycle (so the new vCPUs get their pinVcpu steps in the same plan).
 *
 * Pure: the input state is not modified; the next state is returned.
 */
import type { HostSample, VmSample } from '../core/sample.js';
import type { Step } from '../core/steps.js';
import type { HotplugPlanConfig } from './config.js';
import { observe, recordAction, type DetectorParams } from './detector.js';
import type { HostView } from '../core/host-view.js';
import { mainNode, nodeRoom, onlineVcpus, type LoadsByVm, type NodeRoom } from './host-room.js';
import { decideMemoryGrowth, memoryShortRatio } from './memory-decision.js';
import type { ProblemAdjustment } from './adjust-problem.js';
import { isLasting, type HotplugKind, type HotplugRefusal, type RefusalCode } from './refusal.js';
import { initialVmState, memoryFingerprint, vcpuFingerprint, type HotplugState, type VmHotplugState } from './state.js';
import { decideVcpuGrowth } from './vcpu-decision.js';
import type { HotplugDecision } from './settle.js';

export interface HotplugPlan {
  steps: Step[];
  refusals: HotplugRefusal[];
  problemAdjustments: ProblemAdjustment[];
  /** Advice for the log (e.g. the seed's recommendations that are not enforced). */
  warnings: { vm: string; message: string }[];
  /** The state as if every decided hot-plug were done; settleHotplug corrects it by what was executed. */
  state: HotplugState;
  /** Each hot-plug decided this cycle, with the VM's state before it (settleHotplug puts it back when the step did not happen). */
  decided: HotplugDecision[];
}

/** The lowest load among the VM's online vCPUs: every one is above t iff this is. Null if any is unknown. */
export function minOnlineLoad(vm: VmSample, loads: LoadsByVm): number | null {
  const ids = onlineVcpus(vm);
  const l = loads.get(vm.name);
  if (ids.length === 0 || !l) return null;
  let min = Infinity;
  for (const i of ids) {
    const v = l[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) return null;
    min = Math.min(min, v);
  }
  return min;
}

function cloneVmState(s: VmHotplugState): VmHotplugState {
  return { ...s, vcpu: { ...s.vcpu }, memory: { ...s.memory }, refused: { ...s.refused }, pluggedVcpus: [...s.pluggedVcpus] };
}

/**
 * `loads`: each VM's per-vCPU busy fraction over the LAST cycle (not smoothed: the detector counts cycles itself).
 * `excluded`: VMs numaplace leaves alone (exclude.names, metadata); they are neither watched nor grown.
 */
export function planHotplug(
  view: HostView,
  sample: HostSample,
  loads: LoadsByVm,
  state: HotplugState,
  config: HotplugPlanConfig,
  excluded: { has(name: string): boolean } = new Set<string>(),
): HotplugPlan {
  const cfg = config.hotplug;
  const vcpuParams: DetectorParams = {
    threshold: cfg.vcpu.threshold,
    windowCycles: cfg.vcpu.windowCycles,
    cooldownCycles: cfg.vcpu.cooldownCycles,
    hysteresis: cfg.vcpu.hysteresis,
    direction: 'above',
  };
  const memParams: DetectorParams = {
    threshold: cfg.memory.minAvailableRatio,
    windowCycles: cfg.memory.windowCycles,
    cooldownCycles: cfg.memory.cooldownCycles,
    hysteresis: 0,
    direction: 'below',
  };
  const rooms = nodeRoom(view, sample, loads);
  const out: HotplugPlan = { steps: [], refusals: [], problemAdjustments: [], warnings: [], state: { version: 1, vms: {} }, decided: [] };

  for (const vm of sample.vms) {
    if (excluded.has(vm.name)) continue;
    const prev = state.vms[vm.name];
    // A different uuid under the same name is another VM: start afresh.
    const s = prev && prev.uuid === vm.uuid ? cloneVmState(prev) : initialVmState(vm.uuid);
    out.state.vms[vm.name] = s;
    const running = vm.running && vm.state === 'running';

    // Remembered lasting refusals are forgotten when the VM (or config) changed.
    const prints: Record<HotplugKind, string> = { vcpu: vcpuFingerprint(vm, cfg), memory: memoryFingerprint(vm, cfg) };
    for (const k of ['vcpu', 'memory'] as HotplugKind[]) {
      if (s.refused[k] && s.refused[k]!.fingerprint !== prints[k]) delete s.refused[k];
    }
    const refuse = (kind: HotplugKind, code: RefusalCode, message: string) => {
      const lasting = isLasting(code);
      out.refusals.push({ vm: vm.name, kind, code, message, lasting, repeated: false });
      if (lasting) s.refused[kind] = { code, message, fingerprint: prints[kind] };
    };
    const remembered = (kind: HotplugKind): boolean => {
      const r = s.refused[kind];
      if (!r) return false;
      out.refusals.push({ vm: vm.name, kind, code: r.code, message: r.message, lasting: true, repeated: true });
      return true;
    };

    if (cfg.vcpu.enabled) {
      const o = observe(s.vcpu, running ? minOnlineLoad(vm, loads) : null, vcpuParams);
      s.vcpu = o.state;
      if (o.fired && !remembered('vcpu')) {
        const d = decideVcpuGrowth(vm, loads.get(vm.name), rooms, cfg.vcpu);
        if (!d.ok) refuse('vcpu', d.code, d.message);
        else {
          const step: Step = { vm: vm.name, kind: 'setVcpus', count: d.target };
          out.steps.push(step);
          out.decided.push({ vm: vm.name, kind: 'vcpu', step, before: { detector: s.vcpu, pluggedVcpus: [...s.pluggedVcpus], attachedMiB: s.attachedMiB } });
          const preferred = reserveCpu(rooms, mainNode(vm, view), d.addedLoad * d.added.length);
          out.problemAdjustments.push({
            vm: vm.name,
            kind: 'vcpus',
            vcpus: d.target,
            addedVcpus: d.added,
            addedLoad: d.addedLoad,
            preferredNode: preferred,
            ...(d.addedCells ? { addedCells: d.addedCells } : {}),
          });
          s.vcpu = recordAction(s.vcpu, vcpuParams);
          s.pluggedVcpus = [...new Set([...s.pluggedVcpus, ...d.added])].sort((a, b) => a - b);
        }
      }
    }

    if (cfg.memory.enabled) {
      const o = observe(s.memory, running ? memoryShortRatio(vm) : null, memParams);
      s.memory = o.state;
      if (o.fired && !remembered('memory')) {
        const d = decideMemoryGrowth(vm, view, rooms, cfg.memory);
        if (!d.ok) refuse('memory', d.code, d.message);
        else {
          const step: Step = { vm: vm.name, kind: 'attachMemory', MiB: d.MiB, guestNode: d.guestNode, sourceNodes: d.sourceNodes };
          out.steps.push(step);
          out.decided.push({ vm: vm.name, kind: 'memory', step, before: { detector: s.memory, pluggedVcpus: [...s.pluggedVcpus], attachedMiB: s.attachedMiB } });
          out.problemAdjustments.push({ vm: vm.name, kind: 'memory', MiB: d.MiB, guestNode: d.guestNode, hostNode: d.hostNode });
          const room = rooms.find((r) => r.node === d.hostNode);
          if (room) room.freeMemoryMiB -= d.MiB;
          for (const w of d.warnings) out.warnings.push({ vm: vm.name, message: w });
          s.memory = recordAction(s.memory, memParams);
          s.attachedMiB += d.MiB;
        }
      }
    }
  }
  return out;
}

/** Book the extra load on the VM's node if it has room, else on the roomiest node; returns that node. */
function reserveCpu(rooms: NodeRoom[], main: number | null, extra: number): number | null {
  const fits = (r: NodeRoom) => r.capacity - r.used + 1e-9 >= extra;
  let room = rooms.find((r) => r.node === main && fits(r));
  if (!room) room = [...rooms].sort((a, b) => b.capacity - b.used - (a.capacity - a.used) || a.node - b.node)[0];
  if (!room) return main;
  room.used += extra;
  return room.node;
}
