/**
 * Faults on the real QEMU test VMs (and, where real libvirt cannot produce the state, the simulated
 * host): after each, every VM has either its old or its new settings, the daemon goes on, and its
 * report/logs say what happened. Each test leaves libvirtd running and answering.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { withSettings } from '../../src/daemon/settings.js';
import { VirshBackend } from '../../src/host/virsh-backend.js';
import { runVirsh } from '../../src/host/virsh-exec.js';
import type { HostBackend, HostSample } from '../../src/host/backend.js';
import { solveInProcess } from '../../solver/solve.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { FakeBackend, vmSample } from '../helpers/fake-host.js';
import { counters, registerReport } from '../reliability/counters.js';
import { requireLibvirt, TEST_URI } from './libvirt-available.js';

registerReport();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Pins = Map<string, string>;
const pinsOf = (s: HostSample): Pins => new Map(s.vms.map((v) => [v.name, JSON.stringify([v.vcpuPins, v.emulatorPin, v.cpuShares, v.numatune?.nodeset ?? null])]));

function libvirtdPid(): number {
  return Number(readFileSync('/run/libvirtd.pid', 'utf8').trim());
}

async function answering(): Promise<boolean> {
  try {
    await runVirsh(['version'], { uri: TEST_URI, timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Every VM's settings are either the old or the new (planned) ones. */
function oldOrNew(before: Pins, after: Pins, planned: Pins): void {
  for (const [vm, a] of after) {
    const b = before.get(vm);
    if (b === undefined) continue;
    expect(a === b || a === planned.get(vm), `${vm}: settings are neither the old nor the planned ones`).to.equal(true);
  }
}

describe('reliability: faults on real libvirt + QEMU', function () {
  this.timeout(120_000);
  before(async function () {
    await requireLibvirt(this);
  });
  afterEach(async () => {
    // Whatever happened, libvirtd runs and answers again.
    try {
      process.kill(libvirtdPid(), 'SIGCONT');
    } catch {
      // not running: nothing to continue
    }
    for (let i = 0; i < 30 && !(await answering()); i++) await sleep(1000);
    expect(await answering(), 'libvirtd answers after the test').to.equal(true);
  });

  it('libvirtd frozen (SIGSTOP) mid-cycle: virsh times out, the cycle ends, nothing half-applied; SIGCONT resumes', async () => {
    const backend = new VirshBackend({ uri: TEST_URI, timeoutMs: 1500 });
    const logger = memoryLogger();
    const daemon = new Daemon({ backend, settings: withSettings({ mode: 'apply', virsh: { timeoutMs: 1500 }, backoff: { initialMs: 1, maxMs: 2 } } as Parameters<typeof withSettings>[0]), logger, stateDir: null, solve: async (p) => solveInProcess(p, { timeLimitMs: 200 }) });
    await backend.topology();
    const before = pinsOf(await backend.sample());
    counters.faultsInjected++;
    const pid = libvirtdPid();
    process.kill(pid, 'SIGSTOP');
    let report;
    try {
      const t0 = Date.now();
      report = await daemon.runCycle();
      expect(Date.now() - t0, 'cycle bounded by the virsh timeout').to.be.below(15_000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(report.outcome).to.equal('host-error');
    expect(report.error).to.match(/timed out/);
    expect(logger.lines.some((l) => /cannot sample the host/.test(l))).to.equal(true);
    expect(report.applied).to.deep.equal([]);
    await sleep(50);
    const r2 = await daemon.runCycle();
    expect(r2.outcome).to.be.oneOf(['ok', 'warming-up']);
    // Read back with an ordinary timeout: libvirtd may still be working off its backlog after SIGCONT.
    const after = pinsOf(await new VirshBackend({ uri: TEST_URI, timeoutMs: 30_000 }).sample());
    oldOrNew(before, after, after);
    for (const [vm, b] of before) if (!r2.applied.some((s) => s.vm === vm)) expect(after.get(vm), vm).to.equal(b);
    counters.faultsSurvived++;
    counters.perFault['libvirtd SIGSTOP/SIGCONT'] = 'survived';
  });
});

describe('reliability: faults between sampling and applying (simulated host)', () => {
  /** Runs `disrupt` once, after sample() and before the first action. */
  function disrupting(inner: FakeBackend, disrupt: (b: FakeBackend) => void): HostBackend {
    let armed = false;
    return new Proxy(inner, {
      get(t, prop, recv) {
        const v = Reflect.get(t, prop, recv);
        if (typeof v !== 'function') return v;
        if (prop === 'sample') return async () => { const s = await v.call(t); armed = true; return s; };
        if (['pinVcpu', 'pinEmulator', 'setNodeset', 'setShares', 'setVcpus', 'attachMemory'].includes(String(prop)))
          return async (...args: unknown[]) => { if (armed) { armed = false; disrupt(t); } return v.apply(t, args); };
        return v.bind(t);
      },
    }) as unknown as HostBackend;
  }

  for (const [what, disrupt] of [
    ['destroyed (gone)', (b: FakeBackend) => { b.vms = b.vms.filter((v) => v.name !== 'a'); }],
    ['renamed', (b: FakeBackend) => { b.vms.find((v) => v.name === 'a')!.name = 'a-renamed'; }],
    ['paused', (b: FakeBackend) => { const v = b.vms.find((x) => x.name === 'a')!; v.state = 'paused'; }],
  ] as const) {
    it(`a VM ${what} between sample() and the first action: the cycle ends, other VMs done, failure reported`, async () => {
      const topo = syntheticTopology('2x8');
      const inner = new FakeBackend(topo, [
        vmSample({ name: 'a', vcpuPins: [null, null], numatune: { mode: 'restrictive', nodeset: '0' }, memoryByNode: { '0': 1024 } }),
        vmSample({ name: 'b', vcpuPins: [null, null], numatune: { mode: 'restrictive', nodeset: '1' }, memoryByNode: { '1': 1024 } }),
      ]);
      inner.loads = { a: 0.5, b: 0.5 };
      const logger = memoryLogger();
      const daemon = new Daemon({ backend: disrupting(inner, disrupt), settings: withSettings({ mode: 'apply' }), logger, stateDir: null, solve: async (p) => solveInProcess(p, { timeLimitMs: 200 }) });
      await daemon.runCycle(); // warm-up
      counters.faultsInjected++;
      const r = await daemon.runCycle();
      expect(r.outcome).to.equal('ok');
      const aSteps = r.applied.filter((s) => s.vm === 'a');
      if (what !== 'paused') {
        expect(aSteps, 'nothing applied to the vanished VM').to.deep.equal([]);
        expect(r.failed.some((f) => f.step.vm === 'a'), 'its failure is reported').to.equal(true);
      }
      expect(r.applied.some((s) => s.vm === 'b'), 'the other VM is placed').to.equal(true);
      const r3 = await daemon.runCycle();
      expect(r3.outcome).to.equal('ok');
      counters.faultsSurvived++;
      counters.perFault[`VM ${what} before apply`] = 'survived';
    });
  }
});

describe('reliability: the daemon process killed (SIGKILL) while writing its checkpoint', function () {
  this.timeout(60_000);
  it('5 kills at random moments of a checkpoint-writing loop: the checkpoint always loads intact', async () => {
    const { spawn } = await import('node:child_process');
    const { mkdtempSync, rmSync, readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadState } = await import('../../src/daemon/state.js');
    const dir = mkdtempSync(join(tmpdir(), 'np-kill-'));
    const mod = join(process.cwd(), 'dist/src/daemon/state.js');
    // A checkpoint of a few hundred KiB, rewritten as fast as possible: kills land mid-write.
    const code = `const m = await import(${JSON.stringify(mod)}); let s = m.freshState(); for (let i = 0; i < 3000; i++) s.applied['vm' + i] = { setShares: { vm: 'vm' + i, kind: 'setShares', shares: 1024 + i } }; console.log('go'); for (let n = 0; ; n++) { s.churn.heldCycles = n; m.saveState(${JSON.stringify(dir)}, s); }`;
    try {
      for (let k = 0; k < 5; k++) {
        const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((res) => child.stdout.once('data', () => res()));
        await sleep(30 + Math.floor(Math.random() * 200));
        counters.faultsInjected++;
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        const loaded = loadState(dir);
        expect(loaded.problem, 'checkpoint unreadable after a kill').to.equal(undefined);
        expect(Object.keys(loaded.state.applied).length).to.equal(3000);
        counters.faultsSurvived++;
      }
      counters.perFault['SIGKILL while writing the checkpoint (x5)'] = 'survived';
      // Temp files left by the killed writers are cleared when the checkpoint is next loaded.
      expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
