/**
 * `virsh domstats --raw --state --vcpu --cpu-total --balloon` (all domains in one call). Real output
 * (libvirt 9.0, test/fixtures/virsh/*domstats*):
 *
 *     Domain: 'numaplace-test-idle'
 *       state.state=1
 *       cpu.time=619446000
 *       balloon.current=131072
 *       vcpu.current=1
 *       vcpu.maximum=4
 *       vcpu.0.state=1
 *       vcpu.0.time=230000000
 *
 * The name is printed verbatim between the quotes (it may itself hold quotes). Times are ns,
 * balloon figures KiB; a shut-off domain has no per-vCPU lines.
 */
import { VirshOutputError } from './virsh-errors.js';

/** virDomainState numbers -> the names virsh prints. */
export const DOMAIN_STATES = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'] as const;

export interface DomainStats {
  name: string;
  state: string;
  stateCode: number;
  cpuTimeNs?: number;
  balloon: { currentKiB?: number; maximumKiB?: number; rssKiB?: number; availableKiB?: number; usableKiB?: number; unusedKiB?: number };
  vcpuCurrent?: number;
  vcpuMaximum?: number;
  /** Cumulative time of each online vCPU in ns, by vCPU id (sparse: offline ones absent). */
  vcpuTimeNs: Map<number, number>;
  /** Raw key=value fields, for anything not lifted above. */
  fields: Map<string, string>;
}

// [^] not `.`: a name may hold a carriage return or other line terminators (libvirt accepts them).
const HEADER = /^Domain: '([^]*)'$/;
const FIELD = /^\s+([A-Za-z0-9_.-]+)=(.*)$/;

function num(d: DomainStats, key: string): number | undefined {
  const v = d.fields.get(key);
  if (v === undefined) return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(v)) throw new VirshOutputError(`domstats of ${JSON.stringify(d.name)}`, `${key}=${JSON.stringify(v)} is not a number`);
  return Number(v);
}

/** A domain whose stats could not be read, and why (the others are still good). */
export interface BadDomainStats {
  name: string;
  error: VirshOutputError;
}

/**
 * parseDomstats for a whole host: a domain whose block cannot be read (an odd name, a field that is
 * not a number) is returned in `bad` and the others are parsed, so one odd VM never stops the rest.
 * Throws only when the output as a whole is not domstats output (a stray line before any header).
 */
export function parseDomstatsPerDomain(text: string): { stats: DomainStats[]; bad: BadDomainStats[] } {
  const stats: DomainStats[] = [];
  const bad: BadDomainStats[] = [];
  // Split at header lines; each block is parsed alone.
  const blocks: string[][] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('Domain: ')) blocks.push([line]);
    else if (blocks.length) blocks[blocks.length - 1].push(line);
    else if (line.trim() !== '') throw new VirshOutputError('domstats output', 'a line that is neither "Domain: \'NAME\'" nor an indented key=value', line);
  }
  for (const b of blocks) {
    try {
      stats.push(...parseDomstats(b.join('\n')));
    } catch (e) {
      if (!(e instanceof VirshOutputError)) throw e;
      const h = /^Domain: '?([^]*?)'?$/.exec(b[0]);
      bad.push({ name: h ? h[1] : b[0], error: e });
    }
  }
  return { stats, bad };
}

export function parseDomstats(text: string): DomainStats[] {
  const out: DomainStats[] = [];
  let cur: DomainStats | null = null;
  const lines = text.split('\n');
  for (const line of lines) {
    if (line.trim() === '') continue;
    const h = HEADER.exec(line);
    if (h) {
      cur = { name: h[1], state: 'unknown', stateCode: -1, balloon: {}, vcpuTimeNs: new Map(), fields: new Map() };
      out.push(cur);
      continue;
    }
    const f = FIELD.exec(line);
    if (!f || !cur) throw new VirshOutputError('domstats output', 'a line that is neither "Domain: \'NAME\'" nor an indented key=value', line);
    cur.fields.set(f[1], f[2]);
  }
  for (const d of out) {
    const code = num(d, 'state.state');
    if (code === undefined) {
      throw new VirshOutputError(`domstats of ${JSON.stringify(d.name)}`, 'no state.state (output cut short, or --state missing)');
    }
    d.stateCode = code;
    d.state = DOMAIN_STATES[code] ?? `state-${code}`;
    d.cpuTimeNs = num(d, 'cpu.time');
    d.balloon = {
      currentKiB: num(d, 'balloon.current'),
      maximumKiB: num(d, 'balloon.maximum'),
      rssKiB: num(d, 'balloon.rss'),
      availableKiB: num(d, 'balloon.available'),
      usableKiB: num(d, 'balloon.usable'),
      unusedKiB: num(d, 'balloon.unused'),
    };
    d.vcpuCurrent = num(d, 'vcpu.current');
    d.vcpuMaximum = num(d, 'vcpu.maximum');
    for (const key of d.fields.keys()) {
      const m = /^vcpu\.(\d+)\.time$/.exec(key);
      if (m) d.vcpuTimeNs.set(Number(m[1]), num(d, key)!);
    }
    if (d.state === 'running' && d.vcpuCurrent !== undefined && d.vcpuTimeNs.size < d.vcpuCurrent) {
      throw new VirshOutputError(`domstats of ${JSON.stringify(d.name)}`,
        `vcpu.current=${d.vcpuCurrent} but only ${d.vcpuTimeNs.size} vcpu.N.time lines (output cut short?)`);
    }
  }
  return out;
}
