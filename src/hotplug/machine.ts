/**
 * Machine types and the seed's first hot-plug constraint: CPU and memory hot-plug
 * need x86 machine pc-i440fx-1.5 or later (`pc`, q35 of the same vintage) and
 * AArch64 machine virt-4.1 or later.
 *
 * Machine strings seen in the wild: "pc", "q35", "pc-i440fx-7.2", "pc-q35-7.2",
 * "pc-1.3" (the old i440fx name), "pc-i440fx-rhel7.6.0", "pc-q35-rhel9.2.0",
 * "rhel6.6.0", Ubuntu's "pc-q35-jammy" / "pc-i440fx-focal-hpb", "virt",
 * "virt-4.1", "virt-rhel8.2.0".
 */

export type MachineFamily = 'i440fx' | 'q35' | 'virt' | 'other';

export interface MachineInfo {
  family: MachineFamily;
  /** QEMU version the machine type corresponds to, [major, minor]; null = the latest (an alias like `pc`). */
  version: [number, number] | null;
  arch: 'x86' | 'aarch64' | 'other';
}

export type MachineVerdict =
  | { ok: true; info: MachineInfo }
  | { ok: false; code: 'machine-too-old' | 'machine-unsupported'; message: string };

const X86_MIN: [number, number] = [1, 5];
const AARCH64_MIN: [number, number] = [4, 1];

/**
 * RHEL machine types are named after the RHEL release, not QEMU's: map the RHEL
 * major to the QEMU release its first machine type was based on (RHEL 6: 0.12,
 * RHEL 7: 1.5.3, RHEL 8: 2.12 on x86 and 4.x on AArch64 from 8.2, RHEL 9: 6.x).
 */
function rhelBase(rhelMajor: number, rhelMinor: number, arch: 'x86' | 'aarch64'): [number, number] {
  if (rhelMajor <= 6) return [0, 12];
  if (rhelMajor === 7) return arch === 'x86' ? [1, 5] : [2, 12];
  if (rhelMajor === 8) return arch === 'x86' ? [2, 12] : rhelMinor >= 2 ? [4, 2] : [2, 12];
  return [6, 0];
}

function versionOf(text: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function archOf(arch: string, machine: string): MachineInfo['arch'] {
  const a = arch.toLowerCase();
  if (a === 'x86_64' || a === 'i686' || a === 'i386') return 'x86';
  if (a === 'aarch64' || a === 'arm64') return 'aarch64';
  if (a !== '') return 'other';
  if (/^(pc|q35)\b/.test(machine) || /^rhel\d/.test(machine)) return 'x86';
  if (/^virt\b/.test(machine)) return 'aarch64';
  return 'other';
}

/** Parse a machine type; unknown shapes give family 'other'. */
export function parseMachine(machine: string, arch = ''): MachineInfo {
  const m = machine.trim().toLowerCase();
  const a = archOf(arch, m);
  if (a === 'x86') {
    if (m === 'pc' || m === 'q35') return { family: m === 'pc' ? 'i440fx' : 'q35', version: null, arch: a };
    let r = /^pc-(i440fx|q35)-(.+)$/.exec(m);
    if (r) {
      const family = r[1] as 'i440fx' | 'q35';
      const rest = r[2];
      const v = versionOf(rest);
      if (v) return { family, version: v, arch: a };
      const rhel = /^rhel(\d+)\.(\d+)(?:\.\d+)?$/.exec(rest);
      if (rhel) return { family, version: rhelBase(Number(rhel[1]), Number(rhel[2]), 'x86'), arch: a };
      // Ubuntu codenames (pc-i440fx-trusty ... pc-q35-noble[-hpb]): the first, trusty, is QEMU 2.0.
      if (/^[a-z]+(-[a-z0-9]+)*$/.test(rest)) return { family, version: [2, 0], arch: a };
      return { family: 'other', version: null, arch: a };
    }
    // Old i440fx names: pc-0.15, pc-1.3; Ubuntu's pc-1.0-precise.
    r = /^pc-(\d+\.\d+)(?:-[a-z]+)?$/.exec(m);
    if (r) return { family: 'i440fx', version: versionOf(r[1]), arch: a };
    const rhel6 = /^rhel(\d+)\.(\d+)\.\d+$/.exec(m);
    if (rhel6) return { family: 'i440fx', version: rhelBase(Number(rhel6[1]), Number(rhel6[2]), 'x86'), arch: a };
    return { family: 'other', version: null, arch: a };
  }
  if (a === 'aarch64') {
    if (m === 'virt') return { family: 'virt', version: null, arch: a };
    const r = /^virt-(.+)$/.exec(m);
    if (r) {
      const v = versionOf(r[1]);
      if (v) return { family: 'virt', version: v, arch: a };
      const rhel = /^rhel(\d+)\.(\d+)(?:\.\d+)?$/.exec(r[1]);
      if (rhel) return { family: 'virt', version: rhelBase(Number(rhel[1]), Number(rhel[2]), 'aarch64'), arch: a };
    }
    return { family: 'other', version: null, arch: a };
  }
  return { family: 'other', version: null, arch: a };
}

function atLeast(v: [number, number], min: [number, number]): boolean {
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}

/** Whether the seed allows CPU / memory hot-plug on this machine type. */
export function checkMachine(machine: string, arch = ''): MachineVerdict {
  const info = parseMachine(machine, arch);
  const shown = JSON.stringify(machine);
  if (info.family === 'other') {
    return {
      ok: false,
      code: 'machine-unsupported',
      message: `machine type ${shown}${arch ? ` (${arch})` : ''} is not one numaplace knows supports hot-plug (x86: pc/q35 from pc-i440fx-1.5 on; AArch64: virt-4.1 or later)`,
    };
  }
  const min = info.arch === 'aarch64' ? AARCH64_MIN : X86_MIN;
  if (info.version && !atLeast(info.version, min)) {
    const need = info.arch === 'aarch64' ? 'virt-4.1' : 'pc-i440fx-1.5';
    return {
      ok: false,
      code: 'machine-too-old',
      message: `machine type ${shown} is older than ${need}, the oldest that supports hot-plug; redefine the VM with a newer machine type`,
    };
  }
  return { ok: true, info };
}
