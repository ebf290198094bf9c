/**
 * Test VMs and kernel facts on a NumaLab: define/start small TCG domains whose QEMU memory sits on
 * chosen host nodes, and read where each QEMU process's pages and vCPU threads really are
 * (scripts/numa-lab/probe.mjs: /proc/PID/numa_maps, /proc/PID/task/TID/{status,stat}), never
 * through numaplace.
 */
import { join } from 'node:path';
import { type NumaLab, LabError, REPO_ROOT } from './numa-lab.js';

export const URI = 'qemu:///system';
export const NUMAPLACE = join(REPO_ROOT, 'bin', 'numaplace.js');
const PROBE = join(REPO_ROOT, 'scripts', 'numa-lab', 'probe.mjs');

export interface GuestCell { cpus: string; memMiB: number; nodeset?: string }
export interface LabVmSpec {
  name: string;
  vcpus: number;
  memMiB: number;
  /** vCPU 0 spins (boot sector "jmp $"); otherwise it halts (boot sector "cli; hlt"). */
  busy?: boolean;
  /**
   * The share of one lab CPU each vCPU may use (libvirt's vcpu quota; default BUSY_QUOTA for a busy
   * VM, none for an idle one; null: none). Unthrottled spinners made every memory move in the lab
   * 10-20x slower.
   */
  quota?: number | null;
  /** Host nodes for its memory (numatune restrictive, so it can change live). */
  nodeset: string;
  /** Host CPUs for its vCPUs (default: the CPUs of nodeset). */
  cpuset: string;
  /** Guest NUMA cells (each with a <memnode> when nodeset is given). */
  cells?: GuestCell[];
}

/**
 * A busy VM's vCPU spins at this share of a lab CPU. Measured on the four-node lab (2026-12-06): with
 * two unthrottled spinners, `virsh numatune --live` on an idle 64 MiB VM took 112 s, without them 6 s
 * (the lab's 8 vCPUs share the machine's 2 cores).
 */
export const BUSY_QUOTA = 0.2;

export function domainXml(s: LabVmSpec): string {
  const cells = s.cells ?? [];
  const memnodes = cells.map((c, i) => (c.nodeset ? `<memnode cellid='${i}' mode='restrictive' nodeset='${c.nodeset}'/>` : '')).join('');
  const numa = cells.length
    ? `<numa>${cells.map((c, i) => `<cell id='${i}' cpus='${c.cpus}' memory='${c.memMiB}' unit='MiB'/>`).join('')}</numa>` : '';
  const disk = `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/var/lib/libvirt/images/${s.name}.img'/><target dev='hda' bus='ide'/></disk>`;
  const quota = s.quota === undefined ? (s.busy ? BUSY_QUOTA : null) : s.quota;
  const cputune = quota === null ? '' : `<cputune><period>100000</period><quota>${Math.round(quota * 100000)}</quota></cputune>`;
  return `<domain type='qemu'>
  <name>${s.name}</name>
  <memory unit='MiB'>${s.memMiB}</memory>
  <memoryBacking><allocation mode='immediate'/></memoryBacking>
  <vcpu placement='static' cpuset='${s.cpuset}'>${s.vcpus}</vcpu>${cputune}
  <numatune><memory mode='restrictive' nodeset='${s.nodeset}'/>${memnodes}</numatune>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='allow'>qemu64</model>${numa}</cpu>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>${disk}<serial type='null'/><memballoon model='none'/></devices>
</domain>
`;
}

/** Define (persistent) and start a VM; returns the seconds start took. */
export async function startVm(lab: NumaLab, s: LabVmSpec, timeoutMs = 300_000): Promise<number> {
  if (!/^[\w-]+$/.test(s.name)) throw new Error(`lab VM name ${s.name}: letters, digits, - and _ only`);
  const xml = lab.putFile(`${s.name}.xml`, domainXml(s));
  await lab.run(['cp', `/var/lib/libvirt/images/${s.busy ? 'busy' : 'idle'}.img`, `/var/lib/libvirt/images/${s.name}.img`]);
  await lab.run(['virsh', '-q', '-c', URI, 'define', xml], { timeoutMs });
  const t = Date.now();
  const r = await lab.exec(['virsh', '-q', '-c', URI, 'start', s.name], { timeoutMs });
  if (r.code !== 0) throw new LabError('vm-start', `virsh start ${s.name}: ${r.stderr.trim() || r.stdout.trim()}${r.timedOut ? ' (timed out)' : ''}`);
  return (Date.now() - t) / 1000;
}

export async function destroyAll(lab: NumaLab): Promise<void> {
  const names = (await lab.run(['virsh', '-q', '-c', URI, 'list', '--all', '--name'])).split('\n').map((l) => l.trim()).filter(Boolean);
  for (const n of names) {
    await lab.exec(['virsh', '-q', '-c', URI, 'destroy', n], { timeoutMs: 120_000 });
    await lab.exec(['virsh', '-q', '-c', URI, 'undefine', n], { timeoutMs: 60_000 });
  }
}

export interface ProbeThread { tid: number; comm: string; allowed: number[]; lastCpu: number; ticks: number }
export interface ProbeVm {
  vm: string; pid: number; error?: string;
  pagesByNode: Record<string, number>; anonPagesByNode: Record<string, number>;
  vmas: { start: string; sizeKiB: number; anon: boolean; pagesByNode: Record<string, number> }[];
  threads: ProbeThread[];
}
export interface Probe { at: number; uptime: number; nodes: Record<string, number[]>; vms: ProbeVm[] }

/** The numaplace config the lab tests run with: virsh calls take seconds under nested TCG. */
export const LAB_CONFIG = { virsh: { timeoutMs: 300_000 }, metrics: { enabled: false }, stateDir: '/var/lib/numaplace' };

/** One VM of a probe; throws when the probe could not read it. */
export function vmOf(p: Probe, name: string): ProbeVm {
  const v = p.vms.find((x) => x.vm === name);
  if (!v || v.error) throw new Error(`probe: ${name}: ${v?.error ?? 'not found'}`);
  return v;
}

export async function probe(lab: NumaLab, vms: string[] = []): Promise<Probe> {
  return JSON.parse(await lab.run(['node', PROBE, ...vms], { timeoutMs: 120_000 })) as Probe;
}

/** vCPU threads ("CPU n/TCG"), by vCPU number. */
export function vcpuThreads(v: ProbeVm): Map<number, ProbeThread> {
  const m = new Map<number, ProbeThread>();
  for (const t of v.threads) { const x = /^CPU (\d+)\/(TCG|KVM)$/.exec(t.comm); if (x) m.set(Number(x[1]), t); }
  return m;
}

export function cpuNode(p: Probe): Map<number, number> {
  const m = new Map<number, number>();
  for (const [n, cpus] of Object.entries(p.nodes)) for (const c of cpus) m.set(c, Number(n));
  return m;
}

/** The host nodes a thread may run on (from its affinity). */
export function threadNodes(p: Probe, t: ProbeThread): Set<number> {
  const cn = cpuNode(p);
  return new Set(t.allowed.map((c) => cn.get(c)!));
}

/** The single host node all vCPU threads are confined to, or null when they span several. */
export function vcpuNode(p: Probe, v: ProbeVm): number | null {
  const nodes = new Set<number>();
  for (const t of vcpuThreads(v).values()) for (const n of threadNodes(p, t)) nodes.add(n);
  return nodes.size === 1 ? [...nodes][0] : null;
}

export function sum(m: Record<string, number>): number { return Object.values(m).reduce((a, b) => a + b, 0); }

/** Fraction of the pages in `pages` on `node`. */
export function fractionOn(pages: Record<string, number>, node: number | null): number {
  const total = sum(pages);
  return node === null || total === 0 ? 0 : (pages[String(node)] ?? 0) / total;
}

/** numaplace CLI inside the lab (node + dist over 9p). */
export async function numaplace(lab: NumaLab, args: string[], timeoutMs = 600_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const r = await lab.exec(['node', NUMAPLACE, ...args], { timeoutMs });
  if (r.timedOut) throw new LabError('numaplace', `numaplace ${args.join(' ')} timed out after ${timeoutMs} ms: ${r.stderr.slice(-1000)}`);
  return r;
}
