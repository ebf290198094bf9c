/**
 * HostBackend on a real libvirt host through virsh (runVirshCapture only; argument arrays, no shell).
 *
 * Sampling costs a CONSTANT number of virsh processes per cycle, whatever the number of VMs:
 *   1. one batch: `domstats --raw --state --vcpu --cpu-total --balloon` (all domains), `list --uuid --name`,
 *      `list --persistent --uuid`, `freecell --cellno N` per host node;
 *   2. one batch over the active VMs: `vcpupin`, `emulatorpin`, `numatune`, `schedinfo`, `vcpuinfo`,
 *      `domjobinfo` each, plus `dumpxml` for the VMs whose XML is not cached or may have changed
 *      (new VM, new uuid, started/stopped, vCPU count or memory size changed, changed by us, or older
 *      than `xmlMaxAgeMs` so that metadata edits are seen).
 * Both batches are virsh's own command language with every argument quoted (virsh-batch.ts), so a
 * VM name with blanks, quotes, ';' or $(...) is one literal argument. memoryByNode comes from
 * /proc/PID/numa_maps (pid from /run/libvirt/qemu/NAME.pid) on a local qemu:///system URI.
 * `capabilities` can cost libvirt seconds (it re-probes QEMU when its cache is invalid): it is fetched on
 * the first cycle (one more process) and again only after `capabilitiesMaxAgeMs`.
 * A VM that cannot be read this cycle (vanished mid-cycle, output unreadable) is left out of the
 * sample and listed in `HostSample.skipped`; a failure of the whole batch throws.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatCpuSet, parseCpuSet, CpuSetError } from '../core/cpuset.js';
import type { HostTopology } from '../core/topology.js';
import type { ApplyFlags, DimmSpec, HostBackend, HostSample, HostStats, VmSample } from './backend.js';
import { parseDomainXml, persistentDefinition, type DomainXmlInfo } from './parse-domain-xml.js';
import type { PersistentDefinition } from '../core/sample.js';
import { NUMAPLACE_WRITTEN_ELEMENT, NUMAPLACE_WRITTEN_XMLNS } from './numaplace-metadata.js';
import { SHARES_MAX, SHARES_MIN } from '../core/shares.js';
import { parseGuestVcpus } from './parse-guest-vcpus.js';
import { dimmXml } from './dimm-xml.js';
import { MemnodeEditError, withMemnode } from './memnode-xml.js';
import { parseDomstatsPerDomain, type DomainStats } from './parse-domstats.js';
import {
  parseDomjobinfo, parseEmulatorpin, parseNumatune, parseSchedinfo, parseUuidList, parseUuidNameList, parseVcpuinfo, parseVcpupin,
} from './parse-listings.js';
import { parseNumaMaps } from './parse-numa-maps.js';
import { buildBatch, splitBatchOutput } from './virsh-batch.js';
import {
  classifyActionError, DomainGoneError, InvalidRequestError, LimitationError, stderrSaysGone, VirshOutputError,
} from './virsh-errors.js';
import { runVirsh, runVirshCapture, VirshError, type VirshCounters, type VirshOptions } from './virsh-exec.js';
import { CAPABILITIES_TIMEOUT_MS } from './read-topology.js';
import { capabilityCellIds, topologyFromVirshText } from './virsh-topology-text.js';

export interface VirshBackendOptions {
  /** libvirt URI; undefined means virsh's default. */
  uri?: string;
  /** Per virsh process (a whole batch). Default 30 s. */
  timeoutMs?: number;
  /** virsh binary (tests point it at a fake). */
  binary?: string;
  /** Re-read a VM's XML at least this often, to see metadata edits. Default 60 s. */
  xmlMaxAgeMs?: number;
  /** Re-read `virsh capabilities` (host topology) this often. Default 10 min. */
  capabilitiesMaxAgeMs?: number;
  /** Read memoryByNode from numa_maps; default: only for a local qemu:///system URI. */
  readNumaMaps?: boolean;
  /** Where libvirt keeps QEMU pid files. Default /run/libvirt/qemu. */
  pidDir?: string;
  /** procfs root. Default /proc. */
  procDir?: string;
}

/** The cpu_shares range libvirt accepts (cgroup cpu.shares). */
export { SHARES_MIN as CPU_SHARES_MIN, SHARES_MAX as CPU_SHARES_MAX } from '../core/shares.js';

/** Actions whose --config write puts tuning (pins, nodeset) into the persistent definition. */
const TUNING_ACTIONS = new Set(['pinVcpu', 'pinEmulator', 'setNodeset', 'setMemnode']);

/** States in which the live queries (vcpupin, vcpuinfo, ...) answer. */
const ACTIVE_STATES = new Set(['running', 'paused', 'blocked', 'pmsuspended', 'shutdown']);

const PER_VM_QUERIES = ['vcpupin', 'emulatorpin', 'numatune', 'schedinfo', 'vcpuinfo', 'domjobinfo'] as const;
type Query = (typeof PER_VM_QUERIES)[number] | 'dumpxml' | 'inactive' | 'guestvcpus';

interface CachedXml {
  key: string;
  atMs: number;
  info: DomainXmlInfo;
  /** The persistent definition's tuning, read with the XML (persistent, active VMs). */
  definition?: PersistentDefinition;
}

export interface SkippedVm {
  vm: string;
  error: Error;
}

/** A HostSample plus the VMs left out of it this cycle, and why. */
export interface VirshHostSample extends HostSample {
  skipped: SkippedVm[];
}

export class VirshBackend implements HostBackend {
  readonly kind = 'virsh' as const;
  private readonly counters: VirshCounters = { calls: 0, errors: 0 };
  private readonly virsh: VirshOptions;
  private readonly xmlMaxAgeMs: number;
  private readonly readNumaMaps: boolean;
  private readonly pidDir: string;
  private readonly procDir: string;
  private readonly capabilitiesMaxAgeMs: number;
  private capabilities: { xml: string; nodes: number[]; atMs: number } | undefined;
  private readonly xmlCache = new Map<string, CachedXml>();
  /** VMs we changed since their XML was read: re-read next cycle. */
  private readonly dirty = new Set<string>();
  /** VMs whose persistent definition carries numaplace's "written" marker (set by this process). */
  private readonly marked = new Set<string>();

  constructor(opts: VirshBackendOptions = {}) {
    this.virsh = { uri: opts.uri, timeoutMs: opts.timeoutMs, binary: opts.binary };
    this.xmlMaxAgeMs = opts.xmlMaxAgeMs ?? 60_000;
    this.capabilitiesMaxAgeMs = opts.capabilitiesMaxAgeMs ?? 600_000;
    this.readNumaMaps = opts.readNumaMaps ?? (opts.uri === undefined || /^qemu(\+unix)?:\/\/\/system(\?|$)/.test(opts.uri));
    this.pidDir = opts.pidDir ?? '/run/libvirt/qemu';
    this.procDir = opts.procDir ?? '/proc';
  }

  stats(): HostStats {
    return { ...this.counters, numaMapsErrors: this.numaMapsErrors };
  }

  async close(): Promise<void> {
    this.xmlCache.clear();
    this.dirty.clear();
    this.marked.clear();
  }

  /** Run commands in one virsh process; returns each command's output and the process's stderr. */
  private async batch(commands: string[][]): Promise<{ sections: string[]; stderr: string }> {
    const b = buildBatch(commands);
    const { stdout, stderr } = await runVirshCapture([b.script], this.virsh, this.counters);
    try {
      return { sections: splitBatchOutput(stdout, b), stderr };
    } catch (e) {
      this.counters.errors++;
      throw e;
    }
  }

  private source(): string {
    return this.virsh.uri ? `virsh:${this.virsh.uri}` : 'virsh';
  }

  /** The cached capabilities (host topology without free memory), fetched when missing or stale. */
  private async hostCapabilities(): Promise<{ xml: string; nodes: number[] }> {
    const now = performance.now();
    if (!this.capabilities || now - this.capabilities.atMs > this.capabilitiesMaxAgeMs) {
      // Slow when libvirt re-probes QEMU (see scripts/hypervisor-up.sh on /dev/kvm): unless the caller
      // chose a timeout, allow what read-topology allows.
      const timeoutMs = this.virsh.timeoutMs ?? CAPABILITIES_TIMEOUT_MS;
      const xml = await runVirsh(['capabilities'], { ...this.virsh, timeoutMs }, this.counters);
      this.capabilities = { xml, nodes: capabilityCellIds(xml), atMs: now };
    }
    return this.capabilities;
  }

  private freecellCommands(nodes: number[]): string[][] {
    return nodes.map((n) => ['freecell', '--cellno', String(n)]);
  }

  private topologyFrom(caps: { xml: string; nodes: number[] }, freecells: string[], stderr: string): HostTopology {
    caps.nodes.forEach((n, i) => {
      if (freecells[i] === '') throw new VirshError(['freecell', '--cellno', String(n)], undefined, stderr || 'empty output');
    });
    return topologyFromVirshText(caps.xml, freecells, this.source());
  }

  async topology(): Promise<HostTopology> {
    const caps = await this.hostCapabilities();
    const { sections, stderr } = await this.batch(this.freecellCommands(caps.nodes));
    return this.topologyFrom(caps, sections, stderr);
  }

  async sample(): Promise<VirshHostSample> {
    const atMs = performance.now();
    const caps = await this.hostCapabilities();
    // --- batch 1: everything that needs no domain name.
    const first = await this.batch([
      ['domstats', '--raw', '--state', '--vcpu', '--cpu-total', '--balloon'],
      ['list', '--all', '--uuid', '--name'],
      ['list', '--all', '--persistent', '--uuid'],
      ...this.freecellCommands(caps.nodes),
    ]);
    // Nothing in this batch names a domain, so any complaint on stderr is a real failure.
    if (first.stderr.trim() !== '') throw new VirshError(['domstats', '...(sampling batch)'], undefined, first.stderr);
    const [domstatsText, namesText, persistentText, ...freecells] = first.sections;
    const topology = this.topologyFrom(caps, freecells, first.stderr);
    const { stats, bad } = parseDomstatsPerDomain(domstatsText);
    const uuidOf = new Map(parseUuidNameList(namesText).map((x) => [x.name, x.uuid]));
    const persistent = new Set(parseUuidList(persistentText));

    // --- batch 2: per-VM live queries and the XML that is not cached.
    const skipped: SkippedVm[] = bad.map((b) => ({ vm: b.name, error: b.error }));
    const now = performance.now();
    interface Pending { stats: DomainStats; uuid: string; active: boolean; key: string; at: Partial<Record<Query, number>> }
    const pending: Pending[] = [];
    const commands: string[][] = [];
    for (const d of stats) {
      const uuid = uuidOf.get(d.name);
      if (uuid === undefined) {
        // In domstats but no longer in the list run just after it: undefined meanwhile.
        skipped.push({ vm: d.name, error: new DomainGoneError(d.name) });
        continue;
      }
      const active = ACTIVE_STATES.has(d.state);
      const key = `${uuid}|${active}|${d.vcpuCurrent ?? ''}|${d.balloon.maximumKiB ?? ''}`;
      const p: Pending = { stats: d, uuid, active, key, at: {} };
      if (active) {
        for (const q of PER_VM_QUERIES) {
          p.at[q] = commands.length;
          commands.push([q, '--domain', d.name]);
        }
      }
      const cached = this.xmlCache.get(d.name);
      if (!cached || cached.key !== key || now - cached.atMs > this.xmlMaxAgeMs || this.dirty.has(d.name)) {
        p.at.dumpxml = commands.length;
        commands.push(['dumpxml', '--domain', d.name]);
        // The persistent definition too (what a restart brings back): its pins and nodeset tell
        // whether someone else tunes the VM, and persistConfig compares with it.
        if (active && persistent.has(uuid)) {
          p.at.inactive = commands.length;
          commands.push(['dumpxml', '--inactive', '--domain', d.name]);
        }
      }
      // What the guest itself has online, only where an agent is connected (by the last XML read).
      if (active && cached?.info.guestAgent === 'connected') {
        p.at.guestvcpus = commands.length;
        commands.push(['guestvcpus', '--domain', d.name]);
      }
      pending.push(p);
    }
    const second = commands.length ? await this.batch(commands) : { sections: [], stderr: '' };

    const vms: VmSample[] = [];
    const seen = new Set<string>();
    for (const p of pending) {
      const name = p.stats.name;
      seen.add(name);
      try {
        const out = (q: Query): string | undefined => {
          const i = p.at[q];
          if (i === undefined) return undefined;
          const text = second.sections[i];
          if (text !== '') return text;
          if (stderrSaysGone(second.stderr, name)) throw new DomainGoneError(name);
          const mine = second.stderr.split('\n').filter((l) => l.includes(name)).join('\n');
          throw new VirshError([q, '--domain', name], undefined, mine || second.stderr || `${q} printed nothing`);
        };
        const xmlText = out('dumpxml');
        let info: DomainXmlInfo;
        let definition: PersistentDefinition | undefined;
        if (xmlText !== undefined) {
          info = parseDomainXml(xmlText, `dumpxml of ${JSON.stringify(name)}`);
          // Unreadable (undefined meanwhile, cut short): unknown, as on a host that cannot tell.
          const inactive = p.at.inactive === undefined ? '' : second.sections[p.at.inactive];
          try {
            definition = inactive === '' ? undefined : persistentDefinition(parseDomainXml(inactive, `dumpxml --inactive of ${JSON.stringify(name)}`));
          } catch {
            definition = undefined;
          }
          this.xmlCache.set(name, { key: p.key, atMs: now, info, ...(definition ? { definition } : {}) });
          this.dirty.delete(name);
        } else {
          const cached = this.xmlCache.get(name)!;
          info = cached.info;
          definition = cached.definition;
        }
        // An agent that does not answer leaves the section empty: unknown, not an error.
        const gv = p.at.guestvcpus === undefined ? '' : second.sections[p.at.guestvcpus];
        const guestOnline = gv === '' ? undefined : guestVcpusOnline(gv);
        const vm = await this.vmSample(p.stats, info, persistent.has(p.uuid), p.active ? out : undefined, guestOnline);
        vms.push(definition ? { ...vm, definition } : vm);
      } catch (e) {
        this.xmlCache.delete(name);
        skipped.push({ vm: name, error: e instanceof Error ? e : new Error(String(e)) });
      }
    }
    for (const name of [...this.xmlCache.keys()]) if (!seen.has(name)) this.xmlCache.delete(name);
    const warnings = this.warnings;
    this.warnings = [];
    return { atMs, topology, vms, skipped, ...(warnings.length ? { warnings } : {}) };
  }

  private async vmSample(
    d: DomainStats, x: DomainXmlInfo, persistent: boolean, live: ((q: Query) => string | undefined) | undefined,
    guestOnline?: number[],
  ): Promise<VmSample> {
    const vcpusMax = d.vcpuMaximum ?? x.vcpuMax;
    const vcpusCurrent = d.vcpuCurrent ?? x.vcpuCurrent;
    const ids = Array.from({ length: vcpusMax }, (_, i) => i);
    let vcpuPins: (string | null)[];
    let emulatorPin: string | null;
    let numatune: VmSample['numatune'];
    let cpuShares: number | null;
    let vcpuLastCpu: (number | null)[] = ids.map(() => null);
    let job: string | undefined;
    if (live) {
      const pins = parseVcpupin(live('vcpupin')!);
      vcpuPins = ids.map((i) => pins.get(i) ?? null);
      emulatorPin = parseEmulatorpin(live('emulatorpin')!);
      numatune = parseNumatune(live('numatune')!);
      cpuShares = parseSchedinfo(live('schedinfo')!).cpuShares;
      const info = parseVcpuinfo(live('vcpuinfo')!);
      vcpuLastCpu = ids.map((i) => info.find((v) => v.vcpu === i)?.cpu ?? null);
      job = parseDomjobinfo(live('domjobinfo')!);
    } else {
      vcpuPins = ids.map((i) => x.vcpuPins.get(i) ?? x.vcpuDefaultCpuset);
      emulatorPin = x.emulatorPin ?? x.vcpuDefaultCpuset;
      numatune = x.numatune ? { mode: x.numatune.mode, nodeset: x.numatune.nodeset } : null;
      cpuShares = x.shares;
    }
    const running = d.state === 'running';
    const b = d.balloon;
    const balloon = live && b.currentKiB !== undefined ? Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) : undefined;
    const memoryMiB = live && b.currentKiB !== undefined ? b.currentKiB / 1024 : x.currentMemoryMiB;
    const memoryByNode = live && this.readNumaMaps ? await this.memoryByNode(d.name) : undefined;
    return {
      name: d.name,
      uuid: x.uuid,
      state: d.state,
      running,
      persistent,
      vcpusCurrent,
      vcpusMax,
      vcpuTimeNs: ids.map((i) => (live ? d.vcpuTimeNs.get(i) ?? null : null)),
      memoryMiB,
      maxMemoryMiB: x.maxMemoryMiB ?? (live && b.maximumKiB !== undefined ? b.maximumKiB / 1024 : x.memoryMiB),
      ...(x.maxMemorySlots !== undefined ? { maxMemorySlots: x.maxMemorySlots, usedMemorySlots: x.usedMemorySlots } : {}),
      ...(balloon ? { balloon } : {}),
      vcpuPins,
      vcpuLastCpu,
      emulatorPin,
      numatune,
      memnodes: x.memnodes,
      cpuShares,
      guestCells: x.guestCells,
      machine: x.machine,
      arch: x.arch,
      coresPerSocket: x.coresPerSocket,
      threadsPerCore: x.threadsPerCore,
      ...(memoryByNode ? { memoryByNode } : {}),
      ...(job ? { job } : {}),
      metadata: x.metadata,
      ...(x.foreignManager ? { foreignManager: x.foreignManager } : {}),
      ...(x.osType ? { osType: x.osType } : {}),
      hasVhostUser: x.hasVhostUser,
      ...(x.hugepageKiB !== undefined ? { hugepageKiB: x.hugepageKiB } : {}),
      virtioNetDevices: x.virtioNetDevices,
      ...(guestOnline ? { guestVcpusOnline: guestOnline } : {}),
    };
  }

  /**
   * MiB per host node from numa_maps; undefined when the pid file or numa_maps cannot be read. A
   * read that fails for another reason than the process being gone (EACCES without CAP_SYS_PTRACE:
   * QEMU runs as another user) is counted in `numaMapsErrors` and warned about once per VM process.
   */
  private async memoryByNode(name: string): Promise<Record<string, number> | undefined> {
    let pid: number | undefined;
    try {
      pid = await readQemuPid(this.pidDir, name);
      if (pid === undefined) return undefined;
      return parseNumaMaps(await readFile(join(this.procDir, String(pid), 'numa_maps'), 'utf8'));
    } catch (e) {
      if (e instanceof VirshOutputError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') return undefined; // the VM stopped meanwhile
      this.numaMapsErrors++;
      const key = `${name}\0${pid}`;
      if (!this.numaMapsWarned.has(key)) {
        this.numaMapsWarned.add(key);
        const hint = code === 'EACCES' || code === 'EPERM' ? ': reading another user\'s numa_maps needs CAP_SYS_PTRACE (deploy/numaplace.service grants it)' : '';
        this.warnings.push(`cannot read ${join(this.procDir, String(pid), 'numa_maps')} of VM ${JSON.stringify(name)} (${code ?? (e as Error).message}); its memory placement is unknown${hint}`);
      }
      return undefined;
    }
  }

  /** Failed numa_maps reads so far (numaplace_numa_maps_read_errors_total). */
  numaMapsErrors = 0;
  private readonly numaMapsWarned = new Set<string>();
  /** Said once, handed to the daemon with the next sample. */
  private warnings: string[] = [];

  // ------------------------------------------------------------------------------------------
  // Actions. Each validates what it can before calling virsh, then maps libvirt's refusal to a
  // typed error (LimitationError: this VM cannot, live; InvalidRequestError: bad value; DomainGoneError).

  private async act(vm: string, action: string, args: string[], flags: ApplyFlags): Promise<void> {
    const flagArgs = [...(flags.live ? ['--live'] : []), ...(flags.config ? ['--config'] : [])];
    if (flagArgs.length === 0) throw new InvalidRequestError(vm, action, 'neither live nor config set: nothing would change');
    this.dirty.add(vm);
    if (flags.config && TUNING_ACTIONS.has(action)) await this.markWritten(vm);
    try {
      await runVirshCapture([...args, ...flagArgs], this.virsh, this.counters); // one process per action: each reports its own failure
    } catch (e) {
      throw classifyActionError(e, vm, action);
    }
  }

  /**
   * Before numaplace writes a pin or nodeset to a persistent definition, it marks the definition
   * as tuned by numaplace (its "written" metadata), so that the next sample does not take these
   * pins for another tool's. Best effort: when the marker cannot be written, the VM will look
   * foreign and be left alone (the safe side).
   */
  private async markWritten(vm: string): Promise<void> {
    if (this.marked.has(vm)) return;
    try {
      await runVirshCapture(['metadata', '--domain', vm, '--uri', NUMAPLACE_WRITTEN_XMLNS, '--key', 'npw', '--set', `<${NUMAPLACE_WRITTEN_ELEMENT} tune="yes"/>`, '--config'], this.virsh, this.counters);
      this.marked.add(vm);
    } catch {
      // the pin is still written; see above
    }
  }

  private cpuset(vm: string, action: string, text: string, what: string): string {
    try {
      return formatCpuSet(parseCpuSet(text));
    } catch (e) {
      if (e instanceof CpuSetError) throw new InvalidRequestError(vm, action, `${what}: ${e.message}`);
      throw e;
    }
  }

  async pinVcpu(vm: string, vcpu: number, cpuset: string, flags: ApplyFlags): Promise<void> {
    if (!Number.isInteger(vcpu) || vcpu < 0) throw new InvalidRequestError(vm, 'pinVcpu', `vCPU ${vcpu} is not a vCPU id (0, 1, ...)`);
    const cpus = this.cpuset(vm, 'pinVcpu', cpuset, 'cpuset');
    await this.act(vm, 'pinVcpu', ['vcpupin', '--domain', vm, '--vcpu', String(vcpu), '--cpulist', cpus], flags);
  }

  async pinEmulator(vm: string, cpuset: string, flags: ApplyFlags): Promise<void> {
    const cpus = this.cpuset(vm, 'pinEmulator', cpuset, 'cpuset');
    await this.act(vm, 'pinEmulator', ['emulatorpin', '--domain', vm, '--cpulist', cpus], flags);
  }

  /** numatune --nodeset. Live, libvirt allows it only in mode 'restrictive' (else a LimitationError); the mode is never changed here. */
  async setNodeset(vm: string, nodeset: string, flags: ApplyFlags): Promise<void> {
    const nodes = this.cpuset(vm, 'setNodeset', nodeset, 'nodeset');
    await this.act(vm, 'setNodeset', ['numatune', '--domain', vm, '--nodeset', nodes], flags);
  }

  /**
   * A guest cell's memnode, in the persistent definition only: libvirt 9 changes none live (and
   * `numatune` has no per-cell option), so the definition is read with its secrets
   * (--security-info, or a redefine would drop e.g. a VNC password), edited (memnode-xml.ts) and
   * defined again (throughPrivateFile). Another writer between the read and the define
   * would be overwritten: the window is one virsh round trip.
   */
  async setMemnode(vm: string, cellid: number, nodeset: string, flags: ApplyFlags): Promise<void> {
    if (!Number.isInteger(cellid) || cellid < 0) throw new InvalidRequestError(vm, 'setMemnode', `cell ${cellid} is not a guest cell id (0, 1, ...)`);
    const nodes = this.cpuset(vm, 'setMemnode', nodeset, 'nodeset');
    if (flags.live) throw new LimitationError(vm, 'setMemnode', "libvirt 9 cannot change a guest cell's memnode on a running VM; write it to the persistent definition (persistConfig)");
    if (!flags.config) throw new InvalidRequestError(vm, 'setMemnode', 'neither live nor config set: nothing would change');
    this.dirty.add(vm);
    await this.markWritten(vm);
    let xml: string;
    try {
      xml = withMemnode(await runVirsh(['dumpxml', '--inactive', '--security-info', '--domain', vm], this.virsh, this.counters), cellid, nodes);
    } catch (e) {
      if (e instanceof MemnodeEditError) throw new LimitationError(vm, 'setMemnode', e.reason);
      throw classifyActionError(e, vm, 'setMemnode');
    }
    await throughPrivateFile(xml, async (file) => {
      await runVirshCapture(['define', '--file', file], this.virsh, this.counters).catch((e: unknown) => {
        throw classifyActionError(e, vm, 'setMemnode');
      });
    });
  }

  async setShares(vm: string, shares: number, flags: ApplyFlags): Promise<void> {
    if (!Number.isInteger(shares) || shares < SHARES_MIN || shares > SHARES_MAX) {
      throw new InvalidRequestError(vm, 'setShares', `cpu_shares ${shares} is outside libvirt's range ${SHARES_MIN}..${SHARES_MAX} (whole numbers)`);
    }
    await this.act(vm, 'setShares', ['schedinfo', '--domain', vm, '--set', `cpu_shares=${shares}`], flags);
  }

  async setVcpus(vm: string, count: number, flags: ApplyFlags): Promise<void> {
    if (!Number.isInteger(count) || count < 1) throw new InvalidRequestError(vm, 'setVcpus', `vCPU count ${count} must be a whole number >= 1`);
    await this.act(vm, 'setVcpus', ['setvcpus', '--domain', vm, '--count', String(count)], flags);
  }

  /** attach-device of a dimm; the XML goes through a private temp file (mode 0600 in a 0700 dir), removed after. */
  async attachMemory(vm: string, dimm: DimmSpec, flags: ApplyFlags): Promise<void> {
    if (!Number.isInteger(dimm.MiB) || dimm.MiB <= 0) throw new InvalidRequestError(vm, 'attachMemory', `dimm size ${dimm.MiB} MiB must be a whole number > 0`);
    if (!Number.isInteger(dimm.guestNode) || dimm.guestNode < 0) throw new InvalidRequestError(vm, 'attachMemory', `guest node ${dimm.guestNode} is not a node id`);
    if (dimm.sourceNodes !== undefined) this.cpuset(vm, 'attachMemory', dimm.sourceNodes, 'source nodes');
    await throughPrivateFile(dimmXml(dimm), (file) => this.act(vm, 'attachMemory', ['attach-device', '--domain', vm, '--file', file], flags));
  }
}

/** Hands virsh an XML document through a private temp file (mode 0600 in a 0700 dir), removed after. */
async function throughPrivateFile(xml: string, use: (file: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'numaplace-xml-'));
  try {
    const file = join(dir, 'doc.xml');
    await writeFile(file, xml, { mode: 0o600 });
    await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * libvirt 9.0 names the pid file after the XML-escaped domain name ("it&apos;s.pid") while the status
 * XML beside it uses the plain name (seen here with the odd test VM): try both.
 */
export function qemuPidFileNames(name: string): string[] {
  const escaped = name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
  return [...new Set([`${name}.pid`, `${escaped}.pid`])];
}

/** The QEMU pid of a running VM from libvirt's pid file; undefined when there is none. */
export async function readQemuPid(pidDir: string, name: string): Promise<number | undefined> {
  for (const file of qemuPidFileNames(name)) {
    try {
      const text = (await readFile(join(pidDir, file), 'utf8')).trim();
      if (/^\d+$/.test(text)) return Number(text);
    } catch {
      // try the next spelling
    }
  }
  return undefined;
}

/** The vCPU ids `virsh guestvcpus` reports online; undefined when its output cannot be read. */
function guestVcpusOnline(text: string): number[] | undefined {
  try {
    return parseGuestVcpus(text).online;
  } catch {
    return undefined;
  }
}
