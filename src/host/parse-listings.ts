/**
 * The small tabular virsh outputs: `vcpupin DOM`, `emulatorpin DOM`, `numatune DOM`, `schedinfo DOM`,
 * `vcpuinfo DOM`, `domjobinfo DOM`, `list --uuid --name`. Real outputs (libvirt 9.0) are in
 * test/fixtures/virsh/; each parser rejects what it does not recognise with a VirshOutputError.
 */
import { parseCpuSet, formatCpuSet, CpuSetError } from '../core/cpuset.js';
import { VirshOutputError } from './virsh-errors.js';

function canonicalCpuset(text: string, what: string, line: string): string {
  try {
    return formatCpuSet(parseCpuSet(text));
  } catch (e) {
    if (e instanceof CpuSetError) throw new VirshOutputError(what, e.message, line);
    throw e;
  }
}

function contentLines(text: string): string[] {
  return text.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
}

/**
 *      VCPU   CPU Affinity
 *     ----------------------
 *      0      0-1
 *      2      0
 * -> affinity (canonical cpuset) by vCPU id.
 */
export function parseVcpupin(text: string): Map<number, string> {
  const lines = contentLines(text);
  if (lines.length < 2 || !/^\s*VCPU\s+CPU Affinity\s*$/.test(lines[0]) || !/^-+$/.test(lines[1].trim())) {
    throw new VirshOutputError('vcpupin output', 'no "VCPU   CPU Affinity" header', lines[0] ?? '');
  }
  const pins = new Map<number, string>();
  for (const line of lines.slice(2)) {
    const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(line);
    if (!m) throw new VirshOutputError('vcpupin output', 'a row that is not "VCPU CPUSET"', line);
    pins.set(Number(m[1]), canonicalCpuset(m[2], 'vcpupin output', line));
  }
  if (pins.size === 0) throw new VirshOutputError('vcpupin output', 'no vCPU rows (cut short?)');
  return pins;
}

/**
 *     emulator: CPU Affinity
 *     ----------------------------------
 *            *: 0-1
 */
export function parseEmulatorpin(text: string): string {
  const lines = contentLines(text);
  if (lines.length < 3 || !/^\s*emulator: CPU Affinity\s*$/.test(lines[0])) {
    throw new VirshOutputError('emulatorpin output', 'not "emulator: CPU Affinity" followed by "*: CPUSET"', lines[0] ?? '');
  }
  const m = /^\s*\*:\s*(\S+)\s*$/.exec(lines[2]);
  if (!m) throw new VirshOutputError('emulatorpin output', 'no "*: CPUSET" row', lines[2]);
  return canonicalCpuset(m[1], 'emulatorpin output', lines[2]);
}

/** `key : value` lines (numatune, schedinfo, domjobinfo) -> map; keys may contain spaces ("Job type"). */
export function parseColonTable(text: string, what: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of contentLines(text)) {
    const i = line.indexOf(':');
    if (i <= 0) throw new VirshOutputError(what, 'a line that is not "key : value"', line);
    out.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  if (out.size === 0) throw new VirshOutputError(what, 'empty output');
  return out;
}

/**
 *     numa_mode      : restrictive
 *     numa_nodeset   : 0
 * An empty nodeset (libvirt chose none) is null.
 */
export function parseNumatune(text: string): { mode: string; nodeset: string | null } {
  const t = parseColonTable(text, 'numatune output');
  const mode = t.get('numa_mode');
  if (!mode) throw new VirshOutputError('numatune output', 'no numa_mode line', text.split('\n')[0]);
  if (!t.has('numa_nodeset')) throw new VirshOutputError('numatune output', 'no numa_nodeset line (cut short?)');
  const ns = t.get('numa_nodeset')!;
  return { mode, nodeset: ns === '' ? null : canonicalCpuset(ns, 'numatune nodeset', ns) };
}

/**
 *     Scheduler      : posix
 *     cpu_shares     : 1024
 *     vcpu_period    : 100000
 * -> all numeric parameters; cpuShares is null when absent (a scheduler without shares).
 */
export function parseSchedinfo(text: string): { scheduler: string; params: Record<string, number>; cpuShares: number | null } {
  const t = parseColonTable(text, 'schedinfo output');
  const scheduler = t.get('Scheduler');
  if (scheduler === undefined) throw new VirshOutputError('schedinfo output', 'no "Scheduler" line', text.split('\n')[0]);
  const params: Record<string, number> = {};
  for (const [k, v] of t) {
    if (k === 'Scheduler') continue;
    if (!/^-?\d+$/.test(v)) throw new VirshOutputError('schedinfo output', `${k} = ${JSON.stringify(v)} is not a number`);
    params[k] = Number(v);
  }
  return { scheduler, params, cpuShares: params.cpu_shares ?? null };
}

export interface VcpuInfo {
  vcpu: number;
  /** Physical CPU it last ran on; null when not running (N/A). */
  cpu: number | null;
  state: string;
  /** Affinity as a cpuset, decoded from virsh's y/- map. */
  affinity: string | null;
}

/**
 *     VCPU:           0
 *     CPU:            1
 *     State:          running
 *     CPU time:       0.5s
 *     CPU Affinity:   yy
 * blocks separated by blank lines. A shut-off domain prints "N/A" (and "CPU time" without a colon).
 */
export function parseVcpuinfo(text: string): VcpuInfo[] {
  const out: VcpuInfo[] = [];
  let cur: VcpuInfo | null = null;
  for (const line of contentLines(text)) {
    const m = /^([A-Za-z ]+?):?\s{2,}(.*)$/.exec(line) ?? /^([A-Za-z ]+):\s*(.*)$/.exec(line);
    if (!m) throw new VirshOutputError('vcpuinfo output', 'a line that is not "Key: value"', line);
    const [, key, value] = m;
    if (key === 'VCPU') {
      if (!/^\d+$/.test(value)) throw new VirshOutputError('vcpuinfo output', 'VCPU is not a number', line);
      cur = { vcpu: Number(value), cpu: null, state: 'unknown', affinity: null };
      out.push(cur);
      continue;
    }
    if (!cur) throw new VirshOutputError('vcpuinfo output', 'a field before the first "VCPU:" line', line);
    if (key === 'CPU') {
      if (value === 'N/A') cur.cpu = null;
      else if (/^\d+$/.test(value)) cur.cpu = Number(value);
      else throw new VirshOutputError('vcpuinfo output', 'CPU is neither a number nor N/A', line);
    } else if (key === 'State') {
      cur.state = value;
    } else if (key === 'CPU Affinity') {
      if (!/^[y-]+$/.test(value)) throw new VirshOutputError('vcpuinfo output', 'CPU Affinity is not a y/- map', line);
      const ids = [...value].flatMap((c, i) => (c === 'y' ? [i] : []));
      cur.affinity = ids.length ? formatCpuSet(ids) : null;
    }
  }
  if (out.length === 0) throw new VirshOutputError('vcpuinfo output', 'no "VCPU:" blocks');
  return out;
}

/** The running job's type (Bounded or Unbounded), else undefined. */
export function parseDomjobinfo(text: string): string | undefined {
  const t = parseColonTable(text, 'domjobinfo output');
  const type = t.get('Job type');
  if (type === undefined) throw new VirshOutputError('domjobinfo output', 'no "Job type" line', text.split('\n')[0]);
  // libvirt's job types: None, Bounded, Unbounded, and Completed/Failed/Cancelled for one that ended.
  return type === 'Bounded' || type === 'Unbounded' ? type : undefined;
}

/** `list --all --uuid --name`: "UUID NAME" per line (the name may contain blanks). */
export function parseUuidNameList(text: string): { uuid: string; name: string }[] {
  // Not trimmed: a name may end in blanks, and it must match domstats' verbatim name. A name may
  // also hold a newline (libvirt keeps one): a line that is not "UUID NAME" continues the name above.
  const out: { uuid: string; name: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) ([^]+)$/.exec(line);
    if (m) out.push({ uuid: m[1], name: m[2] });
    else if (out.length && line !== '') out[out.length - 1].name += `\n${line}`;
    else if (line !== '') throw new VirshOutputError('virsh list --uuid --name', 'a line that is not "UUID NAME"', line);
  }
  return out;
}

/** `list --all --persistent --uuid`: one UUID per line. */
export function parseUuidList(text: string): string[] {
  return contentLines(text).map((line) => {
    const u = line.trim();
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(u)) {
      throw new VirshOutputError('virsh list --uuid', 'a line that is not a UUID', line);
    }
    return u;
  });
}
