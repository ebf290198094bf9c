/**
 * Faults between sampling and applying, on REAL QEMU VMs (TCG, 64 MiB, no disk, idle in SeaBIOS)
 * through the real VirshBackend and the daemon's real cycle (Daemon.runCycle: sample -> plan ->
 * executePlan). Each fault is injected after sample() and before the cycle's first action:
 * destroy (transient and persistent), undefine + destroy, rename (shut off, domrename, start),
 * and suspend. And a VM in a long libvirt job: `virsh dump --live --memory-only` into a FIFO the
 * test holds open and does not read, so QEMU blocks writing and the job lasts (a live migration
 * cannot be made on one host; the dump is the job this host can hold open). The reader is opened BEFORE the dump: libvirtd opens the target in an RPC
 * worker thread, and with no reader that open() blocks, and libvirtd stops answering (seen here).
 *
 * What libvirt 9.0 does, measured here and asserted below:
 * - destroyed/undefined/renamed: `failed to get domain` -> DomainGoneError, the VM's step fails;
 * - destroyed but still defined: `domain is not running` -> LimitationError: the steps are refused;
 * - paused: vcpupin, emulatorpin and schedinfo --live all work on a paused VM: applied.
 * Settings are read outside numaplace (virsh vcpupin/emulatorpin, /proc/PID/task/N/status).
 *
 * Own domains numaplace-test-flt-PID-*, removed in `after` (and stale ones of dead runs in `before`);
 * the daemon sees only these, so the shared numaplace-test-* VMs are never touched.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { Daemon } from '../../src/daemon/loop.js';
import type { CycleReport } from '../../src/daemon/cycle.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { metricsObserver } from '../../src/daemon/metrics-observer.js';
import { withSettings } from '../../src/daemon/settings.js';
import type { ApplyFlags, DimmSpec, HostBackend, HostSample } from '../../src/host/backend.js';
import { HostLimitationError } from '../../src/host/errors.js';
import { VirshBackend } from '../../src/host/virsh-backend.js';
import { DomainGoneError, LimitationError } from '../../src/host/virsh-errors.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { Step } from '../../src/core/steps.js';
import { solveInProcess } from '../../solver/solve.js';
import { counters, registerReport } from '../reliability/counters.js';
import { runVirsh } from '../../src/host/virsh-exec.js';
import { requireLibvirt, TEST_URI } from './libvirt-available.js';
import { ownVmXml, removeStaleVms, removeVm, virsh, vmExists } from './own-vms.js';

registerReport();

const PREFIX = 'numaplace-test-flt-';
const name = (what: string) => `${PREFIX}${process.pid}-${what}`;
const BYSTANDER = name('b');

/** Settings of a running VM, read outside numaplace. */
interface Seen { vcpu0: string; emulator: string; threads: string[] }
async function seen(n: string): Promise<Seen> {
  const vcpu0 = /^\s*0\s+(\S+)/m.exec(await virsh('vcpupin', '--domain', n, '--live'))![1];
  const emulator = /\*:\s*(\S+)/.exec(await virsh('emulatorpin', '--domain', n, '--live'))![1];
  // And the kernel's view: every QEMU thread's allowed CPUs (vCPU and emulator pins both end there).
  const pid = readFileSync(`/run/libvirt/qemu/${n}.pid`, 'utf8').trim();
  const threads: string[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      threads.push(`${comm}=${/Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1]}`);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return { vcpu0, emulator, threads: threads.sort() };
}

/** The starting point the daemon must correct (CPU 0 is reserved): vCPU 0 and the emulator on CPU 0. */
const OLD = { vcpu0: '0', emulator: '0' };
async function pinToZero(n: string, persistent: boolean): Promise<void> {
  const flags = persistent ? ['--live', '--config'] : ['--live'];
  await virsh('vcpupin', '--domain', n, '--vcpu', '0', '--cpulist', '0', ...flags);
  await virsh('emulatorpin', '--domain', n, '--cpulist', '0', ...flags);
}

/** What the steps planned for `vm` make of OLD. */
function planned(r: CycleReport, vm: string): { vcpu0: string; emulator: string } {
  const out = { ...OLD };
  for (const s of r.steps.filter((x) => x.vm === vm)) {
    if (s.kind === 'pinVcpu' && s.vcpu === 0) out.vcpu0 = s.cpuset;
    if (s.kind === 'pinEmulator') out.emulator = s.cpuset;
  }
  return out;
}

/** (a) The VM, if it still runs, has its old settings or the planned ones: all or nothing per pin. */
async function oldOrPlanned(r: CycleReport, vm: string): Promise<'old' | 'planned'> {
  const s = await seen(vm);
  const p = planned(r, vm);
  const now = { vcpu0: s.vcpu0, emulator: s.emulator };
  const which = JSON.stringify(now) === JSON.stringify(OLD) ? 'old' : JSON.stringify(now) === JSON.stringify(p) ? 'planned' : null;
  expect(which, `${vm}: ${JSON.stringify(now)} is neither old ${JSON.stringify(OLD)} nor planned ${JSON.stringify(p)}`).to.not.equal(null);
  // The threads agree with what libvirt says.
  const vcpuThread = s.threads.find((t) => t.startsWith('CPU 0/TCG='));
  expect(vcpuThread, s.threads.join(' ')).to.equal(`CPU 0/TCG=${now.vcpu0}`);
  expect(s.threads.filter((t) => !t.startsWith('CPU ')).every((t) => t.endsWith(`=${now.emulator}`)), s.threads.join(' ')).to.equal(true);
  return which!;
}

/** The daemon's view: only our VMs; the fault runs once, after sample() and before the first action. */
class Faulty implements HostBackend {
  readonly kind = 'virsh' as const;
  names = new Set<string>();
  /** Set by a test: runs before the first action after the next sample(). */
  fault: (() => Promise<void>) | null = null;
  private armed = false;
  /** Errors the real backend threw from actions, as thrown (typed). */
  thrown: { vm: string; action: string; error: unknown }[] = [];
  constructor(readonly inner: VirshBackend) {}
  topology() {
    return this.inner.topology();
  }
  async sample(): Promise<HostSample> {
    const s = await this.inner.sample();
    this.armed = this.fault !== null;
    return { atMs: s.atMs, topology: s.topology, vms: s.vms.filter((v) => this.names.has(v.name)) };
  }
  private async act(vm: string, action: string, f: () => Promise<void>): Promise<void> {
    if (this.armed && this.fault) {
      this.armed = false;
      const fault = this.fault;
      this.fault = null;
      await fault();
    }
    try {
      await f();
    } catch (e) {
      this.thrown.push({ vm, action, error: e });
      throw e;
    }
  }
  pinVcpu(vm: string, vcpu: number, cpuset: string, fl: ApplyFlags) {
    return this.act(vm, 'pinVcpu', () => this.inner.pinVcpu(vm, vcpu, cpuset, fl));
  }
  pinEmulator(vm: string, cpuset: string, fl: ApplyFlags) {
    return this.act(vm, 'pinEmulator', () => this.inner.pinEmulator(vm, cpuset, fl));
  }
  setNodeset(vm: string, nodeset: string, fl: ApplyFlags) {
    return this.act(vm, 'setNodeset', () => this.inner.setNodeset(vm, nodeset, fl));
  }
  setMemnode(vm: string, cellid: number, nodeset: string, fl: ApplyFlags) {
    return this.act(vm, 'setMemnode', () => this.inner.setMemnode(vm, cellid, nodeset, fl));
  }
  setShares(vm: string, shares: number, fl: ApplyFlags) {
    return this.act(vm, 'setShares', () => this.inner.setShares(vm, shares, fl));
  }
  setVcpus(vm: string, count: number, fl: ApplyFlags) {
    return this.act(vm, 'setVcpus', () => this.inner.setVcpus(vm, count, fl));
  }
  attachMemory(vm: string, dimm: DimmSpec, fl: ApplyFlags) {
    return this.act(vm, 'attachMemory', () => this.inner.attachMemory(vm, dimm, fl));
  }
  stats() {
    return this.inner.stats();
  }
  close() {
    return this.inner.close();
  }
}

describe('reliability: faults between sampling and applying on real QEMU VMs (virsh backend, daemon cycle)', function () {
  this.timeout(180_000);
  let dir = '';
  let host: Faulty;
  const made = new Set<string>();

  async function define(n: string, persistent: boolean): Promise<void> {
    await removeVm(n);
    const file = join(dir, `${n}.xml`);
    writeFileSync(file, ownVmXml(n));
    made.add(n);
    if (persistent) {
      await virsh('define', '--file', file);
      await virsh('start', '--domain', n);
    } else {
      await virsh('create', '--file', file);
    }
    await pinToZero(n, persistent);
  }

  /** A daemon on our VMs, warmed up (first sample taken), with a metrics registry. */
  async function daemon(vms: string[]) {
    host.names = new Set(vms);
    host.thrown = [];
    for (const vm of vms) {
      if (!(await vmExists(vm))) continue;
      const persistent = /Persistent:\s*yes/.test(await virsh('dominfo', '--domain', vm));
      await pinToZero(vm, persistent);
    }
    const logger = memoryLogger();
    const registry = new Registry();
    const d = new Daemon({
      backend: host,
      settings: withSettings({ mode: 'apply', reservedCpus: '0', churn: { holdCycles: 1 }, shares: { enabled: false }, foreign: { manage: true } }), // persistent VMs pinned with --config by the test itself
      solve: async (p) => solveInProcess(p, { timeLimitMs: 200 }),
      logger,
      stateDir: null,
      observer: metricsObserver(createMetrics(registry)),
    });
    expect((await d.runCycle()).outcome).to.equal('warming-up');
    return { d, logger, registry };
  }

  /** (b) the cycle ended, the bystander was placed; (d) the next cycle works. */
  async function bystanderPlacedAndNextCycleOk(r: CycleReport, d: Daemon): Promise<CycleReport> {
    expect(r.outcome, r.error).to.equal('ok');
    expect(r.applied.filter((s) => s.vm === BYSTANDER).map((s) => s.kind).sort()).to.deep.equal(['pinEmulator', 'pinVcpu']);
    expect(await oldOrPlanned(r, BYSTANDER)).to.equal('planned');
    const next = await d.runCycle();
    expect(next.outcome, next.error).to.equal('ok');
    expect(next.failed).to.deep.equal([]);
    return next;
  }

  function goneReported(r: CycleReport, vm: string, logger: { lines: string[] }, registry: Registry): Promise<void> {
    // (c) typed, named, in the report, the logs and the metrics.
    const thrown = host.thrown.filter((t) => t.vm === vm);
    expect(thrown.length, 'the first action on the VM was tried').to.equal(1);
    expect(thrown[0].error).to.be.instanceOf(DomainGoneError);
    expect(r.applied.filter((s) => s.vm === vm)).to.deep.equal([]);
    const failed = r.failed.filter((f) => f.step.vm === vm);
    expect(failed).to.have.length(1);
    expect(failed[0].error).to.contain(JSON.stringify(vm)).and.to.match(/disappeared/);
    expect(logger.lines.some((l) => { const j = JSON.parse(l); return j.level === 'error' && j.vm === vm && j.result === 'failed' && /disappeared/.test(j.error); })).to.equal(true);
    return registry.metrics().then((text) => {
      expect(text).to.match(new RegExp(`numaplace_steps_total\\{kind="${failed[0].step.kind}",result="failed"\\} 1`));
      expect(text).to.match(/numaplace_cycles_total\{outcome="partial"\} 1/);
    });
  }

  function survived(what: string, result: string): void {
    counters.faultsSurvived++;
    counters.perFault[`real VM ${what} between sample and apply`] = result;
  }

  before(async function () {
    await requireLibvirt(this, []);
    await removeStaleVms(PREFIX);
    dir = mkdtempSync(join(tmpdir(), 'numaplace-flt-'));
    chmodSync(dir, 0o755);
    host = new Faulty(new VirshBackend({ uri: TEST_URI, timeoutMs: 60_000 }));
    await define(BYSTANDER, true);
  });

  after(async function () {
    for (const n of made) await removeVm(n).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a transient VM destroyed (gone): its step fails with DomainGoneError, the other VM is placed', async () => {
    const vm = name('t');
    await define(vm, false);
    const { d, logger, registry } = await daemon([vm, BYSTANDER]);
    host.fault = () => virsh('destroy', '--domain', vm).then(() => undefined);
    counters.faultsInjected++;
    const r = await d.runCycle();
    expect(await vmExists(vm), 'a destroyed transient domain no longer exists').to.equal(false);
    await goneReported(r, vm, logger, registry);
    await bystanderPlacedAndNextCycleOk(r, d);
    survived('transient destroyed', 'survived: failed step, DomainGoneError');
  });

  const P = name('p');
  it('a persistent VM destroyed (shut off, still defined): libvirt says "domain is not running", its steps are refused (LimitationError)', async () => {
    await define(P, true);
    const { d, logger } = await daemon([P, BYSTANDER]);
    host.fault = () => virsh('destroy', '--domain', P).then(() => undefined);
    counters.faultsInjected++;
    const r = await d.runCycle();
    expect((await virsh('domstate', '--domain', P)).trim()).to.equal('shut off');
    const thrown = host.thrown.filter((t) => t.vm === P);
    expect(thrown.length).to.be.greaterThan(0);
    for (const t of thrown) {
      expect(t.error).to.be.instanceOf(LimitationError).and.instanceOf(HostLimitationError);
      expect((t.error as Error).message).to.match(/domain is not running/);
    }
    expect(r.applied.filter((s) => s.vm === P)).to.deep.equal([]);
    expect(r.refused.filter((x) => x.vm === P).length).to.equal(thrown.length);
    expect(r.refused.every((x) => x.vm !== P || /the VM is not running/.test(x.reason))).to.equal(true);
    expect(logger.lines.some((l) => { const j = JSON.parse(l); return j.vm === P && j.result === 'refused' && /not running/.test(j.error); })).to.equal(true);
    // Its definition (the --config half) is untouched too.
    expect(await virsh('dumpxml', '--domain', P, '--inactive')).to.match(/<vcpupin vcpu='0' cpuset='0'\/>/).and.match(/<emulatorpin cpuset='0'\/>/);
    await bystanderPlacedAndNextCycleOk(r, d);
    survived('persistent destroyed', 'survived: steps refused, LimitationError (domain is not running)');
  });

  it('a VM paused (suspend): libvirt 9.0 pins a paused VM live, so its steps are applied', async () => {
    if ((await virsh('domstate', '--domain', P)).trim() !== 'running') await virsh('start', '--domain', P);
    const { d } = await daemon([P, BYSTANDER]);
    host.fault = () => virsh('suspend', '--domain', P).then(() => undefined);
    counters.faultsInjected++;
    const r = await d.runCycle();
    expect((await virsh('domstate', '--domain', P)).trim()).to.equal('paused');
    expect(host.thrown).to.deep.equal([]);
    expect(r.failed).to.deep.equal([]);
    expect(r.applied.filter((s) => s.vm === P).map((s) => s.kind).sort()).to.deep.equal(['pinEmulator', 'pinVcpu']);
    expect(await oldOrPlanned(r, P)).to.equal('planned');
    const next = await bystanderPlacedAndNextCycleOk(r, d);
    expect(next.steps.filter((s) => s.vm === P), 'a paused VM is not planned for').to.deep.equal([]);
    await virsh('resume', '--domain', P);
    survived('paused', 'survived: applied (vcpupin/emulatorpin work on a paused VM)');
  });

  it('a VM renamed (shut off, domrename, started again): the old name is gone (DomainGoneError); next cycle places it under its new name', async () => {
    const renamed = name('p-renamed');
    made.add(renamed);
    const { d, logger, registry } = await daemon([P, renamed, BYSTANDER]);
    host.fault = async () => {
      await virsh('destroy', '--domain', P);
      await virsh('domrename', '--domain', P, '--new-name', renamed);
      await virsh('start', '--domain', renamed);
    };
    counters.faultsInjected++;
    const r = await d.runCycle();
    expect(await vmExists(P)).to.equal(false);
    await goneReported(r, P, logger, registry);
    // Started from its definition: the pins written there before (old), nothing of the plan.
    expect(await oldOrPlanned(r, renamed)).to.equal('old');
    const next = await bystanderPlacedAndNextCycleOk(r, d);
    expect(next.applied.filter((s: Step) => s.vm === renamed).map((s) => s.kind).sort()).to.deep.equal(['pinEmulator', 'pinVcpu']);
    expect(await oldOrPlanned(next, renamed)).to.equal('planned');
    survived('renamed', 'survived: failed step, DomainGoneError; placed under the new name next cycle');
  });

  it('a VM in a long libvirt job (live memory dump into a stalled reader): sampled with its job and left alone (pins untouched); the other VM is placed', async () => {
    const vm = name('j');
    await define(vm, false);
    const { d } = await daemon([vm, BYSTANDER]); // pins to the starting point and warms up before the job
    const fifo = join(dir, 'dump.fifo');
    execFileSync('mkfifo', ['-m', '0666', fifo]);
    // Reader first (non-blocking open of a FIFO with no writer succeeds): libvirtd's open() then returns at once.
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const dump = runVirsh(['dump', '--live', '--memory-only', '--domain', vm, '--file', fifo], { uri: TEST_URI, timeoutMs: 120_000 }).then(() => 'done', (e: Error) => e.message);
    let r: CycleReport;
    try {
      const inJob = async () => /Job type:\s+Unbounded/.test(await virsh('domjobinfo', '--domain', vm));
      for (let i = 0; i < 100 && !(await inJob()); i++) await sleep(100);
      expect(await inJob(), 'the dump job is running').to.equal(true);
      counters.faultsInjected++;
      r = await d.runCycle();
      expect(await inJob(), 'the job still runs after the cycle').to.equal(true);
      // QEMU stops the guest for dump-guest-memory: libvirt reports it paused, with the job.
      const seenVm = r.sample!.vms.find((v) => v.name === vm)!;
      expect([seenVm.state, seenVm.job]).to.deep.equal(['paused', 'Unbounded']);
      expect(r.steps.filter((x) => x.vm === vm)).to.deep.equal([]);
      expect(r.outcome, r.error).to.equal('ok');
    } finally {
      closeSync(reader); // QEMU's next write fails (EPIPE): the dump ends (a memory-only dump cannot be aborted)
      await dump;
    }
    expect(await virsh('domjobinfo', '--domain', vm)).to.match(/Job type:\s+None/);
    expect(await oldOrPlanned(r, vm)).to.equal('old');
    await bystanderPlacedAndNextCycleOk(r, d);
    survived('in a libvirt job (live memory dump)', 'survived: sampled with its job, left alone, other VM placed');
  });

  it('a persistent VM undefined while running, then destroyed (gone): DomainGoneError, the other VM is placed', async () => {
    const vm = name('u');
    await define(vm, true);
    const { d, logger, registry } = await daemon([vm, BYSTANDER]);
    host.fault = async () => {
      await virsh('undefine', '--domain', vm);
      await virsh('destroy', '--domain', vm);
    };
    counters.faultsInjected++;
    const r = await d.runCycle();
    expect(await vmExists(vm)).to.equal(false);
    await goneReported(r, vm, logger, registry);
    await bystanderPlacedAndNextCycleOk(r, d);
    survived('undefined + destroyed', 'survived: failed step, DomainGoneError');
  });
});

