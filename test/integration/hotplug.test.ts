/**
 * Hot-plug on real QEMU (TCG) through libvirt: the daemon's runCycle with the virsh backend.
 *
 * Own test domains (numaplace-test-hp-*, redefined fresh in `before`, removed in `after`; their
 * prefix is the one scripts/hypervisor-down.sh cleans up), so the other integration tests'
 * numaplace-test-* domains are neither needed nor touched:
 *   hp-busy  1 of 4 vCPUs online, spinning on a boot sector "jmp $"
 *   hp-idle  1 of 4 vCPUs online, idle in SeaBIOS
 *   hp-max   1 of 1 vCPU, spinning (at its maximum)
 *   hp-numa  2 guest NUMA cells, maxMemory 1024 MiB / 4 slots (memory hot-plug)
 * The daemon sees only these (a filtering wrapper around the backend), so it never acts on
 * anything else on the host. Checks are made outside numaplace: /proc/PID/task/N/comm
 * ("CPU n/TCG") and Cpus_allowed_list, and `virsh dumpxml`.
 *
 * The machine may be shared and busy: the saturation threshold is set from the busy VM's measured
 * load (a quarter of it), not assumed to be 90%.
 *
 * Needs root and libvirt (qemu:///system). Under CI=true a missing libvirt fails the suite; on a
 * dev machine without it the suite is skipped with the reason printed.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { withSettings, type Settings } from '../../src/daemon/settings.js';
import { DEFAULT_HOTPLUG_CONFIG } from '../../src/hotplug/config.js';
import { nodeRoom } from '../../src/hotplug/host-room.js';
import { decideMemoryGrowth } from '../../src/hotplug/memory-decision.js';
import { recordHotplugCycle } from '../../src/daemon/hotplug-metrics.js';
import type { VmSample } from '../../src/host/backend.js';
import { VirshBackend } from '../../src/host/virsh-backend.js';
import { runVirsh } from '../../src/host/virsh-exec.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { parseCpuSet } from '../../src/core/cpuset.js';
import { solve } from '../../solver/solve.js';
import { requireOrSkip } from '../helpers/skip.js';
import { OnlyThese } from '../helpers/only-these.js';
import { cycles, threadAffinity } from '../helpers/daemon-on-real-vms.js';
import { viewOf } from '../helpers/fake-host.js';

const URI = process.env.NUMAPLACE_URI ?? 'qemu:///system';
// libvirtd on a shared, busy machine can take a minute to define a domain (it rebuilds capabilities).
const virsh = (...args: string[]) => runVirsh(args, { uri: URI, timeoutMs: 300_000 });
// The pid in the names keeps concurrent runs (several checkouts testing on one libvirtd) apart.
const PREFIX = 'numaplace-test-hp-';
const BUSY = `${PREFIX}${process.pid}-busy`;
const IDLE = `${PREFIX}${process.pid}-idle`;
const MAX = `${PREFIX}${process.pid}-max`;
const NUMA = `${PREFIX}${process.pid}-numa`;
const ALL = [BUSY, IDLE, MAX, NUMA];
// One boot image per run: QEMU write-locks a disk image, so two runs cannot share one.
const IMAGE = `/var/lib/libvirt/images/${PREFIX}${process.pid}-busy.img`;

function domainXml(name: string, vcpu: string, opts: { busy?: boolean; numa?: boolean } = {}): string {
  const disk = opts.busy ? `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${IMAGE}'/><target dev='hda' bus='ide'/></disk>` : '';
  const numa = opts.numa
    ? `<topology sockets='2' dies='1' cores='2' threads='1'/><numa><cell id='0' cpus='0-1' memory='64' unit='MiB'/><cell id='1' cpus='2-3' memory='64' unit='MiB'/></numa>`
    : '';
  return `<domain type='qemu'>
  <name>${name}</name>
  ${opts.numa ? "<maxMemory slots='4' unit='MiB'>1024</maxMemory>" : ''}
  <memory unit='MiB'>128</memory>
  ${vcpu}
  ${opts.numa ? "<numatune><memory mode='restrictive' nodeset='0'/></numatune>" : ''}
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='allow'>qemu64</model>${numa}</cpu>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>${disk}<serial type='null'/><memballoon model='none'/></devices>
</domain>`;
}

async function exists(name: string): Promise<boolean> {
  try {
    await virsh('domuuid', '--domain', name);
    return true;
  } catch {
    return false;
  }
}

async function remove(name: string): Promise<void> {
  if (!(await exists(name))) return;
  await virsh('destroy', '--domain', name).catch(() => undefined);
  await virsh('undefine', '--domain', name);
}

/** Define afresh (a VM an earlier run grew is gone with it) and start. */
async function fresh(name: string, xml: string, dir: string): Promise<void> {
  await remove(name);
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, xml);
  await virsh('define', '--file', file);
  await virsh('start', '--domain', name);
}

/** Busy fraction of vCPU 0 over `ms`, measured with domstats (outside the daemon). */
async function vcpu0Load(name: string, ms: number): Promise<number> {
  const t = async () => Number(/vcpu\.0\.time=(\d+)/.exec(await virsh('domstats', '--raw', '--vcpu', name))![1]);
  const a = await t();
  const t0 = Date.now();
  await sleep(ms);
  const b = await t();
  return (b - a) / ((Date.now() - t0) * 1e6);
}

function settings(threshold: number): Settings {
  return withSettings({
    mode: 'apply',
    // CPU 0 reserved: the planned cpuset ("1") differs from QEMU's default affinity, so the pin is visible.
    reservedCpus: '0',
    cpuOvercommit: 8,
    churn: { holdCycles: 1 },
    shares: { enabled: false },
    foreign: { manage: true }, // the NUMA test VM's definition has a <numatune> nodeset numaplace did not write
    hotplug: {
      vcpu: { ...DEFAULT_HOTPLUG_CONFIG.vcpu, threshold, hysteresis: threshold / 2, windowCycles: 2, cooldownCycles: 30 },
      memory: { ...DEFAULT_HOTPLUG_CONFIG.memory, windowCycles: 2, stepMiB: 128 },
    },
  });
}

/** Remove test domains left by runs of this file that no longer exist (killed before their `after`). */
async function removeStale(): Promise<void> {
  const names = (await virsh('list', '--all', '--name')).split('\n').map((l) => l.trim()).filter((n) => n.startsWith(PREFIX));
  for (const name of names) {
    const pid = /^numaplace-test-hp-(\d+)-/.exec(name)?.[1];
    if (!pid || !existsSync(`/proc/${pid}`)) await remove(name).catch(() => undefined);
  }
  const images = '/var/lib/libvirt/images';
  for (const f of existsSync(images) ? readdirSync(images) : []) {
    const pid = /^numaplace-test-hp-(\d+)-busy\.img$/.exec(f)?.[1];
    if (f.startsWith(PREFIX) && (!pid || !existsSync(`/proc/${pid}`))) rmSync(join(images, f), { force: true });
  }
}

describe('hot-plug on real QEMU (libvirt, TCG)', function () {
  this.timeout(900_000);
  let dir = '';
  let host: VirshBackend;

  before(async function () {
    try {
      await virsh('version');
    } catch (e) {
      requireOrSkip(this, `libvirt at ${URI} does not answer (${(e as Error).message.split('\n')[0]})`, 'run scripts/hypervisor-up.sh as root');
    }
    host = new VirshBackend({ uri: URI, timeoutMs: 300_000 });
    await removeStale();
    dir = mkdtempSync(join(tmpdir(), 'numaplace-hp-'));
    chmodSync(dir, 0o755); // libvirtd reads nothing here, but keep it traversable
    if (!existsSync(IMAGE)) {
      mkdirSync('/var/lib/libvirt/images', { recursive: true });
      writeFileSync(IMAGE, Buffer.concat([Buffer.from([0xeb, 0xfe]), Buffer.alloc(508), Buffer.from([0x55, 0xaa])]));
      chmodSync(IMAGE, 0o644);
    }
    await fresh(IDLE, domainXml(IDLE, "<vcpu placement='static' current='1'>4</vcpu>"), dir);
    await fresh(NUMA, domainXml(NUMA, "<vcpu placement='static' current='2'>4</vcpu>", { numa: true }), dir);
  });

  after(async function () {
    if (!dir) return;
    for (const name of ALL) await remove(name).catch(() => undefined);
    rmSync(IMAGE, { force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('the busy VM, held saturated, gets one more vCPU pinned as planned; the idle VM gets none', async () => {
    await fresh(BUSY, domainXml(BUSY, "<vcpu placement='static' current='1'>4</vcpu>", { busy: true }), dir);
    try {
      const busyLoad = await vcpu0Load(BUSY, 1500);
      const idleLoad = await vcpu0Load(IDLE, 1500);
      expect(busyLoad, `the busy VM does not spin (load ${busyLoad})`).to.be.greaterThan(0.03);
      const threshold = busyLoad / 4;
      console.log(`      measured vCPU 0 load: busy ${busyLoad.toFixed(2)}, idle ${idleLoad.toFixed(3)}; saturation threshold set to ${threshold.toFixed(2)}`);
      expect(idleLoad, `idle VM load ${idleLoad} vs threshold ${threshold}`).to.be.lessThan(threshold / 2);
      const backend = new OnlyThese(host, new Set([BUSY, IDLE]));
      const daemon = new Daemon({ backend, settings: settings(threshold), solve, logger: memoryLogger('warn'), stateDir: null });
      // warm-up, then saturated cycles fire the hot-plug; one more cycle shows nothing else happens.
      const reports = await cycles(daemon, { max: 12, gapMs: 1500, done: (r) => r.applied.some((s) => s.kind === 'setVcpus'), after: 1 });
      const grown = reports.flatMap((r) => r.applied.filter((s) => s.kind === 'setVcpus'));
      expect(grown, JSON.stringify(reports.map((r) => [r.outcome, r.steps, r.failed]))).to.deep.equal([{ vm: BUSY, kind: 'setVcpus', count: 2 }]);
      const cycle = reports.find((r) => r.applied.some((s) => s.kind === 'setVcpus'))!;
      const pin = cycle.applied.find((s) => s.vm === BUSY && s.kind === 'pinVcpu' && s.vcpu === 1);
      expect(pin, 'no pin for the new vCPU in the same cycle').to.deep.equal({ vm: BUSY, kind: 'pinVcpu', vcpu: 1, cpuset: '1' });
      // Outside numaplace: libvirt reports 2 vCPUs and QEMU's "CPU 1/TCG" thread is allowed only on CPU 1.
      expect(await virsh('vcpucount', '--domain', BUSY, '--live', '--active')).to.match(/^\s*2\s*$/);
      const threads = threadAffinity(BUSY);
      expect(threads.get('CPU 1/TCG'), `threads: ${JSON.stringify([...threads])}`).to.equal('1');
      expect(parseCpuSet(threads.get('CPU 0/TCG')!)).to.deep.equal([1]);
      // The idle VM still has its one vCPU.
      expect(await virsh('vcpucount', '--domain', IDLE, '--live', '--active')).to.match(/^\s*1\s*$/);
    } finally {
      await remove(BUSY);
    }
  });

  it('a saturated VM at its maximum gets no vCPU and the refusal shows in the metrics', async () => {
    await fresh(MAX, domainXml(MAX, "<vcpu placement='static'>1</vcpu>", { busy: true }), dir);
    try {
      const load = await vcpu0Load(MAX, 1500);
      expect(load).to.be.greaterThan(0.03);
      const backend = new OnlyThese(host, new Set([MAX]));
      const daemon = new Daemon({ backend, settings: settings(load / 4), solve, logger: memoryLogger('warn'), stateDir: null });
      const registry = new Registry();
      const metrics = createMetrics(registry);
      const reports = await cycles(daemon, { max: 12, gapMs: 1500, done: (r) => r.refused.some((x) => x.vm === MAX), after: 1 });
      for (const r of reports) recordHotplugCycle(metrics, r);
      expect(reports.flatMap((r) => r.applied.filter((s) => s.kind === 'setVcpus'))).to.deep.equal([]);
      expect(reports.flatMap((r) => r.refused).some((x) => x.vm === MAX && /\(at-maximum\)/.test(x.reason))).to.equal(true);
      expect(await registry.metrics()).to.contain('numaplace_hotplug_total{kind="vcpu",result="refused",reason="at-maximum"} 1');
      expect(await virsh('vcpucount', '--domain', MAX, '--live', '--active')).to.match(/^\s*1\s*$/);
    } finally {
      await remove(MAX);
    }
  });

  it('memory hot-plug adds a dimm of the planned size on the planned guest node (virsh dumpxml)', async () => {
    // The test VM has no guest OS, hence no balloon statistics: inject what a guest short of memory
    // would report (8 MiB usable of 128) so the daemon's trigger fires.
    const short = (vm: VmSample): VmSample => (vm.name === NUMA ? { ...vm, balloon: { ...vm.balloon, availableKiB: 128 * 1024, usableKiB: 8 * 1024 } } : vm);
    const backend = new OnlyThese(host, new Set([NUMA]), short);
    const daemon = new Daemon({ backend, settings: settings(0.9), solve, logger: memoryLogger('warn'), stateDir: null });
    const reports = await cycles(daemon, { max: 8, gapMs: 1000, done: (r) => r.applied.some((s) => s.kind === 'attachMemory'), after: 1 });
    const attached = reports.flatMap((r) => r.applied.filter((s) => s.kind === 'attachMemory'));
    expect(attached, JSON.stringify(reports.map((r) => [r.steps, r.failed, r.refused]))).to.deep.equal([{ vm: NUMA, kind: 'attachMemory', MiB: 128, guestNode: 0, sourceNodes: '0' }]);
    const xml = await virsh('dumpxml', '--domain', NUMA);
    const dimms = [...xml.matchAll(/<memory model='dimm'[^>]*>([\s\S]*?)<\/memory>/g)].map((m) => m[1]);
    expect(dimms).to.have.length(1);
    expect(dimms[0]).to.match(/<size unit='KiB'>131072<\/size>/);
    expect(dimms[0]).to.match(/<node>0<\/node>/);
    expect(dimms[0]).to.match(/<nodemask>0<\/nodemask>/);
  });

  it('a memory request that breaks a constraint is refused naming it, and nothing is attached', async () => {
    const backend = new OnlyThese(host, new Set([NUMA]));
    const sample = await backend.sample();
    const vm = sample.vms.find((v) => v.name === NUMA)!;
    const rooms = nodeRoom(viewOf(sample), sample, new Map());
    const cfg = { ...DEFAULT_HOTPLUG_CONFIG.memory };
    const before = (await virsh('dumpxml', '--domain', NUMA)).match(/<memory model='dimm'/g)?.length ?? 0;
    const cases: [number, number | undefined, string][] = [
      [100, 0, 'block-size'], // not a multiple of the 128 MiB guest block
      [2048, 0, 'max-memory'], // past <maxMemory> 1024 MiB
      [128, 5, 'no-such-guest-node'],
    ];
    for (const [MiB, guestNode, code] of cases) {
      const d = decideMemoryGrowth(vm, viewOf(sample), rooms, cfg, { MiB, ...(guestNode !== undefined ? { guestNode } : {}) });
      expect(d.ok, `${MiB} MiB on node ${guestNode}`).to.equal(false);
      if (!d.ok) expect(d.code).to.equal(code);
    }
    // And one that libvirt would take is accepted by the same checks (on guest node 1 as asked).
    const ok = decideMemoryGrowth(vm, viewOf(sample), rooms, cfg, { MiB: 256, guestNode: 1 });
    expect(ok).to.deep.include({ ok: true, MiB: 256, guestNode: 1 });
    expect((await virsh('dumpxml', '--domain', NUMA)).match(/<memory model='dimm'/g)?.length ?? 0).to.equal(before);
  });
});
