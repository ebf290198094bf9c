/**
 * The parts of a domain's XML (`virsh dumpxml`, live for a running VM) that numaplace samples.
 * Real examples: test/fixtures/virsh/*dumpxml*.xml. Truncated or malformed XML is a VirshOutputError.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CpuSetError, formatCpuSet, parseCpuSet } from '../core/cpuset.js';
import type { GuestCell, MemNode } from './backend.js';
import type { PersistentDefinition } from '../core/sample.js';
import { FOREIGN_MANAGERS, NUMAPLACE_POLICY_ATTRIBUTES, NUMAPLACE_POLICY_ELEMENT, NUMAPLACE_WRITTEN_ELEMENT, NUMAPLACE_WRITTEN_XMLNS, NUMAPLACE_XMLNS } from './numaplace-metadata.js';
import { VirshOutputError } from './virsh-errors.js';

export interface DomainXmlInfo {
  name: string;
  uuid: string;
  /** Domain id when running (live XML), else undefined. */
  id?: number;
  /** <currentMemory> (what the guest has now), MiB. */
  currentMemoryMiB: number;
  /** <memory>: boot memory plus hot-plugged dimms, MiB. */
  memoryMiB: number;
  /** <maxMemory>: the hot-plug ceiling, when configured. */
  maxMemoryMiB?: number;
  maxMemorySlots?: number;
  /** dimm/nvdimm devices (each takes a slot). */
  usedMemorySlots: number;
  vcpuMax: number;
  vcpuCurrent: number;
  /** <vcpu cpuset=...>: default affinity of all vCPUs, canonical; null when not set. */
  vcpuDefaultCpuset: string | null;
  /** <cputune><vcpupin> per vCPU id, canonical cpusets. */
  vcpuPins: Map<number, string>;
  emulatorPin: string | null;
  shares: number | null;
  numatune: { mode: string; nodeset: string | null; placement?: string } | null;
  memnodes: MemNode[];
  guestCells: GuestCell[];
  machine: string;
  arch: string;
  coresPerSocket: number;
  threadsPerCore: number;
  metadata: Record<string, string>;
  osType?: string;
  /** Another management tool's metadata (Nova, oVirt, KubeVirt): which tool and the namespace seen. */
  foreignManager?: { tool: string; namespace: string };
  /** numaplace's own "written" marker is present (it wrote this definition's pins/nodeset). */
  writtenByNumaplace: boolean;
  hasVhostUser: boolean;
  virtioNetDevices: number;
  hugepageKiB?: number;
  /**
   * The qemu-guest-agent channel (org.qemu.guest_agent.0): its state in the live XML ('connected'
   * when an agent answers in the guest), 'configured' when the XML gives no state; null when absent.
   */
  guestAgent: 'connected' | 'disconnected' | 'configured' | null;
}

type X = Record<string, unknown>;
const ARRAYS = new Set([
  'domain.cputune.vcpupin', 'domain.numatune.memnode', 'domain.cpu.numa.cell', 'domain.devices.memory',
  'domain.devices.interface', 'domain.devices.disk', 'domain.devices.filesystem', 'domain.memoryBacking.hugepages.page',
  'domain.devices.channel',
]);
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (_name, jpath) => ARRAYS.has(String(jpath)),
});

const UNIT_KIB: Record<string, number> = {
  b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, kb: 1000 / 1024, m: 1024, mib: 1024, mb: 1e6 / 1024,
  g: 1024 ** 2, gib: 1024 ** 2, gb: 1e9 / 1024, t: 1024 ** 3, tib: 1024 ** 3, tb: 1e12 / 1024,
};

export function parseDomainXml(xml: string, what = 'domain XML'): DomainXmlInfo {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new VirshOutputError(what, `malformed XML at line ${valid.err.line}: ${valid.err.msg} (cut short?)`);
  }
  const doc = parser.parse(xml) as X;
  const d = doc.domain as X | undefined;
  if (!d || typeof d !== 'object') throw new VirshOutputError(what, 'no <domain> element');
  const fail = (why: string): never => { throw new VirshOutputError(what, why); };
  const text = (n: unknown): string | undefined => {
    if (typeof n === 'string') return n;
    if (typeof n === 'number') return String(n);
    if (n && typeof n === 'object' && '#text' in n) return String((n as X)['#text']);
    return undefined;
  };
  const attr = (n: unknown, a: string): string | undefined =>
    n && typeof n === 'object' ? ((n as X)[`@${a}`] as string | undefined) : undefined;
  const int = (v: string | undefined, where: string): number => {
    if (v === undefined || !/^\d+$/.test(v.trim())) fail(`${where} is ${JSON.stringify(v)}, not a whole number`);
    return Number(v!.trim());
  };
  const mib = (n: unknown, where: string): number => {
    const unit = (attr(n, 'unit') ?? 'KiB').toLowerCase();
    const f = UNIT_KIB[unit];
    if (f === undefined) fail(`${where} has unknown unit ${JSON.stringify(unit)}`);
    return (int(text(n), where) * f) / 1024;
  };
  const cpuset = (v: string | undefined, where: string): string | null => {
    if (v === undefined || v === '') return null;
    try {
      return formatCpuSet(parseCpuSet(v));
    } catch (e) {
      if (e instanceof CpuSetError) fail(`${where}: ${e.message}`);
      throw e;
    }
  };
  const obj = (n: unknown): X => (n && typeof n === 'object' ? (n as X) : {});

  const name = text(d.name) ?? fail('no <name>');
  const uuid = text(d.uuid) ?? fail('no <uuid>');
  if (d.memory === undefined) fail('no <memory>');
  const memoryMiB = mib(d.memory, '<memory>');
  const currentMemoryMiB = d.currentMemory === undefined ? memoryMiB : mib(d.currentMemory, '<currentMemory>');
  const maxMemoryMiB = d.maxMemory === undefined ? undefined : mib(d.maxMemory, '<maxMemory>');
  const slotsAttr = attr(d.maxMemory, 'slots');
  const maxMemorySlots = slotsAttr === undefined ? undefined : int(slotsAttr, '<maxMemory slots>');

  if (d.vcpu === undefined) fail('no <vcpu>');
  const vcpuMax = int(text(d.vcpu), '<vcpu>');
  const cur = attr(d.vcpu, 'current');
  const vcpuCurrent = cur === undefined ? vcpuMax : int(cur, '<vcpu current>');
  const vcpuDefaultCpuset = cpuset(attr(d.vcpu, 'cpuset'), '<vcpu cpuset>');

  const cputune = obj(d.cputune);
  const vcpuPins = new Map<number, string>();
  for (const p of (cputune.vcpupin as X[] | undefined) ?? []) {
    vcpuPins.set(int(attr(p, 'vcpu'), '<vcpupin vcpu>'), cpuset(attr(p, 'cpuset'), '<vcpupin cpuset>') ?? fail('<vcpupin> without cpuset'));
  }
  const emulatorPin = cpuset(attr(cputune.emulatorpin, 'cpuset'), '<emulatorpin cpuset>');
  const shares = cputune.shares === undefined ? null : int(text(cputune.shares), '<cputune><shares>');

  const nt = obj(d.numatune);
  const mem = nt.memory;
  const numatune = mem === undefined ? null : {
    mode: attr(mem, 'mode') ?? 'strict',
    nodeset: cpuset(attr(mem, 'nodeset'), '<numatune><memory nodeset>'),
    ...(attr(mem, 'placement') ? { placement: attr(mem, 'placement') } : {}),
  };
  const memnodes: MemNode[] = ((nt.memnode as X[] | undefined) ?? []).map((m) => ({
    cellid: int(attr(m, 'cellid'), '<memnode cellid>'),
    mode: attr(m, 'mode') ?? 'strict',
    nodeset: cpuset(attr(m, 'nodeset'), '<memnode nodeset>') ?? '',
  }));

  const osTypeEl = obj(d.os).type;
  const machine = attr(osTypeEl, 'machine') ?? fail('no <os><type machine=...>');
  const arch = attr(osTypeEl, 'arch') ?? fail('no <os><type arch=...>');

  const cpu = obj(d.cpu);
  const topo = cpu.topology;
  const coresPerSocket = topo === undefined ? 1 : int(attr(topo, 'cores') ?? '1', '<topology cores>');
  const threadsPerCore = topo === undefined ? 1 : int(attr(topo, 'threads') ?? '1', '<topology threads>');
  const guestCells: GuestCell[] = ((obj(cpu.numa).cell as X[] | undefined) ?? []).map((c, i) => ({
    id: attr(c, 'id') === undefined ? i : int(attr(c, 'id'), '<cell id>'),
    cpus: parseCpuSet(cpuset(attr(c, 'cpus'), `<cell cpus>`) ?? '', { allowEmpty: true }),
    memoryMiB: mib({ '#text': attr(c, 'memory'), '@unit': attr(c, 'unit') }, '<cell memory>'),
  }));

  const devices = obj(d.devices);
  const memDevs = (devices.memory as X[] | undefined) ?? [];
  const usedMemorySlots = memDevs.filter((m) => ['dimm', 'nvdimm'].includes(attr(m, 'model') ?? '')).length;
  const ifaces = (devices.interface as X[] | undefined) ?? [];
  const disks = (devices.disk as X[] | undefined) ?? [];
  const filesystems = (devices.filesystem as X[] | undefined) ?? [];
  const hasVhostUser = ifaces.some((i) => attr(i, 'type') === 'vhostuser')
    || disks.some((x) => attr(x, 'type') === 'vhostuser')
    || filesystems.some((f) => attr(obj(f).driver, 'type') === 'virtiofs');
  const virtioNetDevices = ifaces.filter((i) => attr(obj(i).model, 'type') === 'virtio').length;
  const agent = ((devices.channel as X[] | undefined) ?? []).map((c) => obj(c).target).find((t) => attr(t, 'name') === 'org.qemu.guest_agent.0');
  const agentState = attr(agent, 'state');
  const guestAgent = agent === undefined ? null : agentState === 'connected' || agentState === 'disconnected' ? agentState : 'configured';

  let hugepageKiB: number | undefined;
  const backing = obj(d.memoryBacking);
  if (backing.hugepages !== undefined) {
    const page = ((obj(backing.hugepages).page as X[] | undefined) ?? [])[0];
    // <hugepages/> alone means the host's default huge page size: 2 MiB on x86_64 and most arm64 hosts.
    hugepageKiB = page ? mib({ '#text': attr(page, 'size'), '@unit': attr(page, 'unit') }, '<hugepages><page size>') * 1024 : 2048;
  }

  const { metadata, osType, foreignManager, writtenByNumaplace } = readMetadata(obj(d.metadata));
  const idAttr = attr(d, 'id');
  return {
    name, uuid, ...(idAttr !== undefined && idAttr !== '-1' ? { id: int(idAttr, '<domain id>') } : {}),
    currentMemoryMiB, memoryMiB, maxMemoryMiB, maxMemorySlots, usedMemorySlots,
    vcpuMax, vcpuCurrent, vcpuDefaultCpuset, vcpuPins, emulatorPin, shares, numatune, memnodes, guestCells,
    machine, arch, coresPerSocket, threadsPerCore, metadata, ...(osType ? { osType } : {}),
    ...(foreignManager ? { foreignManager } : {}), writtenByNumaplace,
    hasVhostUser, virtioNetDevices, hugepageKiB, guestAgent,
  };
}

const LIBOSINFO_XMLNS = 'http://libosinfo.org/xmlns/libvirt/domain/1.0';

/** numaplace's policy attributes and the guest OS family (from libosinfo's metadata, which virt-install writes). */
function readMetadata(md: Record<string, unknown>): { metadata: Record<string, string>; osType?: string; foreignManager?: { tool: string; namespace: string }; writtenByNumaplace: boolean } {
  const metadata: Record<string, string> = {};
  let osType: string | undefined;
  let foreignManager: { tool: string; namespace: string } | undefined;
  let writtenByNumaplace = false;
  for (const [tag, value] of Object.entries(md)) {
    const [prefix, local] = tag.includes(':') ? tag.split(':', 2) : ['', tag];
    const el = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
    const ns = el[prefix ? `@xmlns:${prefix}` : '@xmlns'];
    const foreign = typeof ns === 'string' ? FOREIGN_MANAGERS.find((f) => ns.startsWith(f.prefix)) : undefined;
    if (foreign && !foreignManager) foreignManager = { tool: foreign.tool, namespace: ns as string };
    if (ns === NUMAPLACE_WRITTEN_XMLNS && local === NUMAPLACE_WRITTEN_ELEMENT) writtenByNumaplace = true;
    if (ns === NUMAPLACE_XMLNS && local === NUMAPLACE_POLICY_ELEMENT) {
      for (const a of NUMAPLACE_POLICY_ATTRIBUTES) {
        const v = el[`@${a}`];
        if (typeof v === 'string') metadata[a] = v;
      }
    } else if (ns === LIBOSINFO_XMLNS) {
      const os = el[prefix ? `${prefix}:os` : 'os'] as Record<string, unknown> | undefined;
      const id = typeof os?.['@id'] === 'string' ? (os['@id'] as string) : '';
      if (/microsoft\.com\/win/.test(id)) osType = 'windows';
      else if (id) osType = 'linux';
    }
  }
  return { metadata, ...(osType ? { osType } : {}), ...(foreignManager ? { foreignManager } : {}), writtenByNumaplace };
}

/** The tuning part of a persistent definition (`dumpxml --inactive`), as the sample carries it. */
export function persistentDefinition(x: DomainXmlInfo): PersistentDefinition {
  return {
    vcpuPins: Object.fromEntries(x.vcpuPins),
    emulatorPin: x.emulatorPin,
    shares: x.shares,
    numatune: x.numatune ? { mode: x.numatune.mode, nodeset: x.numatune.nodeset } : null,
    memnodes: x.memnodes,
    writtenByNumaplace: x.writtenByNumaplace,
  };
}
