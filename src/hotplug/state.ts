/**
 * What hot-plug remembers between cycles, per VM: the two detectors, lasting
 * refusals (with the fingerprint of the VM they were decided for) and which vCPUs
 * and how much memory numaplace itself added. Plain JSON: the daemon puts it in
 * its checkpoint; parseHotplugState validates what comes back.
 */
import type { VmSample } from '../core/sample.js';
import type { HotplugConfig } from './config.js';
import { initialDetector, isDetectorState, type DetectorState } from './detector.js';
import type { HotplugKind, RefusalCode } from './refusal.js';

export interface RememberedRefusal {
  code: RefusalCode;
  message: string;
  /** The VM (and config) it was decided for; a different fingerprint forgets it. */
  fingerprint: string;
}

export interface VmHotplugState {
  uuid: string;
  vcpu: DetectorState;
  memory: DetectorState;
  refused: Partial<Record<HotplugKind, RememberedRefusal>>;
  /** vCPU ids numaplace hot-plugged (for the guest-online report). */
  pluggedVcpus: number[];
  /** MiB numaplace hot-plugged, in total. */
  attachedMiB: number;
}

export interface HotplugState {
  version: 1;
  vms: Record<string, VmHotplugState>;
}

export function emptyHotplugState(): HotplugState {
  return { version: 1, vms: {} };
}

export function initialVmState(uuid: string): VmHotplugState {
  return { uuid, vcpu: initialDetector(), memory: initialDetector(), refused: {}, pluggedVcpus: [], attachedMiB: 0 };
}

export class HotplugStateError extends Error {
  constructor(message: string) {
    super(`hot-plug state in the checkpoint is invalid: ${message}; delete the checkpoint to start afresh (hot-plug detectors restart, nothing else is lost)`);
    this.name = 'HotplugStateError';
  }
}

const KINDS: HotplugKind[] = ['vcpu', 'memory'];

/** Validate state read back from a checkpoint. */
export function parseHotplugState(x: unknown): HotplugState {
  if (typeof x !== 'object' || x === null) throw new HotplugStateError('not an object');
  const o = x as Record<string, unknown>;
  if (o.version !== 1) throw new HotplugStateError(`version ${JSON.stringify(o.version)} (expected 1)`);
  if (typeof o.vms !== 'object' || o.vms === null || Array.isArray(o.vms)) throw new HotplugStateError('"vms" is not an object');
  const vms: Record<string, VmHotplugState> = {};
  for (const [name, v] of Object.entries(o.vms as Record<string, unknown>)) {
    const where = `vms[${JSON.stringify(name)}]`;
    if (typeof v !== 'object' || v === null) throw new HotplugStateError(`${where} is not an object`);
    const s = v as Record<string, unknown>;
    if (typeof s.uuid !== 'string') throw new HotplugStateError(`${where}.uuid is not a string`);
    for (const k of KINDS) if (!isDetectorState(s[k])) throw new HotplugStateError(`${where}.${k} is not a detector state`);
    if (!Array.isArray(s.pluggedVcpus) || !s.pluggedVcpus.every((n) => Number.isInteger(n) && n >= 0)) {
      throw new HotplugStateError(`${where}.pluggedVcpus is not a list of vCPU ids`);
    }
    if (typeof s.attachedMiB !== 'number' || !(s.attachedMiB >= 0)) throw new HotplugStateError(`${where}.attachedMiB is not a size`);
    if (typeof s.refused !== 'object' || s.refused === null) throw new HotplugStateError(`${where}.refused is not an object`);
    const refused: VmHotplugState['refused'] = {};
    for (const [k, r] of Object.entries(s.refused as Record<string, unknown>)) {
      if (!KINDS.includes(k as HotplugKind)) throw new HotplugStateError(`${where}.refused has unknown kind ${JSON.stringify(k)}`);
      const rr = r as Record<string, unknown>;
      if (typeof rr !== 'object' || rr === null || typeof rr.code !== 'string' || typeof rr.message !== 'string' || typeof rr.fingerprint !== 'string') {
        throw new HotplugStateError(`${where}.refused.${k} is not a refusal`);
      }
      refused[k as HotplugKind] = { code: rr.code as RefusalCode, message: rr.message, fingerprint: rr.fingerprint };
    }
    vms[name] = {
      uuid: s.uuid,
      vcpu: { ...(s.vcpu as DetectorState) },
      memory: { ...(s.memory as DetectorState) },
      refused,
      pluggedVcpus: [...(s.pluggedVcpus as number[])],
      attachedMiB: s.attachedMiB,
    };
  }
  return { version: 1, vms };
}

/**
 * Everything a lasting vCPU refusal depends on. When any of it changes (the VM was
 * redefined, grown by hand, its job ended, the config changed) the refusal is
 * forgotten and the decision made again.
 */
export function vcpuFingerprint(vm: VmSample, cfg: HotplugConfig): string {
  return JSON.stringify([
    vm.uuid, vm.vcpusCurrent, vm.vcpusMax, vm.hypervisorMaxVcpus ?? null, vm.machine, vm.arch, vm.coresPerSocket,
    vm.threadsPerCore ?? 1, vm.guestCells.map((c) => [c.id, c.cpus]), vm.job ?? '', cfg.vcpu.maxVcpus,
  ]);
}

export function memoryFingerprint(vm: VmSample, cfg: HotplugConfig): string {
  return JSON.stringify([
    vm.uuid, vm.machine, vm.arch, vm.hasVhostUser, vm.guestCells.map((c) => [c.id, c.memoryMiB]), vm.memoryMiB,
    vm.maxMemoryMiB, vm.maxMemorySlots ?? null, vm.usedMemorySlots ?? null, vm.virtioNetDevices ?? 0,
    vm.hugepageKiB ?? 0, vm.osType ?? '', vm.job ?? '', cfg.memory.stepMiB, cfg.memory.blockSizeMiB,
  ]);
}
