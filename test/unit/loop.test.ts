import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Daemon } from '../../src/daemon/loop.js';
import { metricsObserver } from '../../src/daemon/metrics-observer.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { withSettings, type Settings } from '../../src/daemon/settings.js';
import { LOCK_FILE } from '../../src/daemon/lock.js';
import type { Problem } from '../../solver/types.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { FakeBackend, placeAll, vmSample } from '../helpers/fake-host.js';

const topo = syntheticTopology('2x8');

function setup(settings: Settings, stateDir: string | null = null) {
  const backend = new FakeBackend(topo, [
    vmSample({ name: 'a', vcpuPins: ['8-15', '8-15'], emulatorPin: '8-15', numatune: { mode: 'restrictive', nodeset: '0' }, memoryByNode: { '0': 1024 }, cpuShares: 2048 }),
    vmSample({ name: 'b', vcpuPins: [null, null], numatune: { mode: 'restrictive', nodeset: '1' }, memoryByNode: { '1': 1024 }, cpuShares: 2048 }),
  ]);
  backend.loads = { a: 0.5, b: 0.5 };
  const logger = memoryLogger();
  let clock = 0;
  const solve = async (p: Problem) => placeAll(p, (n) => (n === 'a' ? 0 : 1));
  const daemon = new Daemon({ backend, settings, solve, logger, stateDir, now: () => clock });
  return { backend, logger, daemon, advance: (ms: number) => (clock += ms) };
}

describe('daemon loop (runCycle)', () => {
  it('warms up on the first sample, corrects violations at once, then moves after the hold', async () => {
    const { daemon, backend } = setup(withSettings({ mode: 'apply', churn: { holdCycles: 2 } }));
    expect((await daemon.runCycle()).outcome).to.equal('warming-up');
    const c2 = await daemon.runCycle();
    expect(c2.outcome).to.equal('ok');
    // b was unpinned: a violation, pinned now; a (remote from its memory) waits for the hold
    expect(new Set(c2.applied.map((s) => s.vm))).to.deep.equal(new Set(['b']));
    expect(c2.deferred.map((d) => d.vm)).to.deep.equal(['a']);
    const c3 = await daemon.runCycle();
    expect(c3.applied.map((s) => s.vm)).to.include('a');
    expect(backend.vms[0].vcpuPins).to.deep.equal(['0-7', '0-7']);
    const c4 = await daemon.runCycle();
    expect(c4.steps).to.deep.equal([]);
    expect(c4.quality!.now).to.be.closeTo(c4.quality!.allLocal, 1e-9);
  });

  it('leaves a VM with a running libvirt job alone: no steps, a refusal naming the job, a log line; others placed', async () => {
    const { daemon, backend, logger } = setup(withSettings({ mode: 'apply', churn: { holdCycles: 1 } }));
    backend.vms[1].job = 'Unbounded';
    await daemon.runCycle();
    const r = await daemon.runCycle();
    expect(r.outcome).to.equal('ok');
    expect(r.steps.filter((s) => s.vm === 'b')).to.deep.equal([]);
    expect(r.refused.some((x) => x.vm === 'b' && /job \(Unbounded\)/.test(x.reason))).to.equal(true);
    expect(logger.lines.some((l) => /left alone this cycle/.test(l) && /"vm":"b"/.test(l))).to.equal(true);
    expect(r.applied.some((s) => s.vm === 'a')).to.equal(true);
    delete backend.vms[1].job;
    const r2 = await daemon.runCycle();
    expect(r2.applied.some((s) => s.vm === 'b'), 'placed once the job ended').to.equal(true);
  });

  it('advisory mode changes nothing and logs the advice', async () => {
    const { daemon, backend, logger } = setup(withSettings({ mode: 'advisory', churn: { holdCycles: 1 } }));
    const before = structuredClone(backend.vms);
    await daemon.runCycle();
    const r = await daemon.runCycle();
    expect(r.steps.length).to.be.greaterThan(0);
    expect(r.applied).to.deep.equal([]);
    expect(backend.calls).to.deep.equal([]);
    expect(backend.vms.map((v) => v.vcpuPins)).to.deep.equal(before.map((v) => v.vcpuPins));
    expect(logger.lines.some((l) => /advice: pin vCPU/.test(l))).to.equal(true);
  });

  it('backs off while the host cannot be sampled, doubling up to the maximum, and resumes', async () => {
    const { daemon, backend, logger, advance } = setup(withSettings({ mode: 'apply', backoff: { initialMs: 1000, maxMs: 3000 } }));
    backend.down = new Error('failed to connect to the hypervisor');
    expect((await daemon.runCycle()).outcome).to.equal('host-error');
    expect(daemon.backoffRemainingMs()).to.equal(1000);
    expect((await daemon.runCycle()).outcome).to.equal('backoff');
    expect(backend.samples).to.equal(1);
    advance(1000);
    expect((await daemon.runCycle()).outcome).to.equal('host-error');
    expect(daemon.backoffRemainingMs()).to.equal(2000);
    advance(2000);
    await daemon.runCycle();
    expect(daemon.backoffRemainingMs()).to.equal(3000);
    expect(daemon.counters.hostErrors).to.equal(3);
    backend.down = null;
    advance(3000);
    expect((await daemon.runCycle()).outcome).to.equal('warming-up');
    expect((await daemon.runCycle()).outcome).to.equal('ok');
    expect(logger.lines.some((l) => /host reachable again/.test(l))).to.equal(true);
    expect(logger.lines.some((l) => /cannot sample the host.*failed to connect/.test(l))).to.equal(true);
  });

  it('a cycle finishes when the solver throws', async () => {
    const { backend } = setup(withSettings({}));
    const daemon = new Daemon({ backend, settings: withSettings({}), solve: async () => { throw new Error('worker died'); }, logger: memoryLogger(), stateDir: null });
    await daemon.runCycle();
    const r = await daemon.runCycle();
    expect(r.outcome).to.equal('error');
    expect(r.error).to.equal('worker died');
    expect(daemon.counters.cycleErrors).to.equal(1);
  });

  it('skips and counts a tick that arrives while a cycle runs', async () => {
    const { backend } = setup(withSettings({}));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const registry = new Registry();
    const observer = metricsObserver(createMetrics(registry));
    const daemon = new Daemon({ backend, settings: withSettings({}), solve: async (p) => { await gate; return placeAll(p, () => 0); }, logger: memoryLogger(), stateDir: null, observer });
    await daemon.runCycle();
    daemon.tick(); // starts a cycle that waits in the solver
    await new Promise((r) => setImmediate(r));
    expect(daemon.busy()).to.equal(true);
    daemon.tick();
    daemon.tick();
    expect(daemon.counters.overlapsSkipped).to.equal(2);
    expect(await registry.metrics()).to.match(/^numaplace_cycles_total\{outcome="skipped"\} 3$/m); // + the warm-up cycle
    release();
    await daemon.runCycle();
    expect(daemon.counters.cycles).to.equal(3);
  });

  it('forgets a VM once it is gone from the host (state does not grow as VMs come and go)', async () => {
    const { daemon, backend } = setup(withSettings({ mode: 'apply', churn: { holdCycles: 2, cooldownCycles: 5 } }));
    await daemon.runCycle();
    const c2 = await daemon.runCycle();
    expect(c2.applied.map((s) => s.vm)).to.include('b');
    expect(Object.keys(daemon.state.applied)).to.include('b');
    expect(Object.keys(daemon.state.hotplug.vms)).to.include('b');
    // Listed but unreadable this cycle (virsh backend's `skipped`): not gone, kept.
    const sample = backend.sample.bind(backend);
    backend.sample = async () => {
      const s = await sample();
      return { ...s, vms: s.vms.filter((v) => v.name !== 'b'), skipped: [{ vm: 'b', error: new Error('unreadable this cycle') }] };
    };
    expect((await daemon.runCycle()).outcome).to.equal('ok');
    expect(Object.keys(daemon.state.applied)).to.include('b');
    // Undefined: everything kept per VM about it goes.
    backend.sample = sample;
    backend.vms = backend.vms.filter((v) => v.name !== 'b');
    expect((await daemon.runCycle()).outcome).to.equal('ok');
    const s = daemon.state;
    for (const [what, names] of Object.entries({
      applied: s.applied, targets: s.churn.targets, cooldown: s.churn.cooldown, refusedNodeset: s.churn.refusedNodeset, hotplug: s.hotplug.vms,
    })) expect(Object.keys(names), what).to.not.include('b');
    expect(Object.keys(s.applied)).to.include('a');
  });

  it('reload keeps the running settings when the new ones are invalid', async () => {
    const { backend } = setup(withSettings({}));
    const logger = memoryLogger();
    let next: () => Settings = () => { throw new Error('churn.maxVmsPerCyle: unknown key'); };
    const daemon = new Daemon({ backend, settings: withSettings({ mode: 'advisory' }), solve: async (p) => placeAll(p, () => 0), logger, stateDir: null, reloadSettings: () => next() });
    expect(await daemon.reload()).to.equal(false);
    expect(daemon.settings.mode).to.equal('advisory');
    expect(logger.lines.some((l) => /reload failed.*keeping.*maxVmsPerCyle/.test(l))).to.equal(true);
    next = () => withSettings({ mode: 'apply' });
    expect(await daemon.reload()).to.equal(true);
    expect(daemon.settings.mode).to.equal('apply');
  });

  it('reload: keys SIGHUP cannot change keep their running value and the log names them; the others change', async () => {
    const { backend } = setup(withSettings({}));
    const logger = memoryLogger();
    const running = withSettings({ mode: 'advisory' });
    const next = withSettings({ mode: 'apply', connect: 'qemu+ssh://elsewhere/system', log: { level: 'debug' }, stateDir: '/srv/np' });
    const daemon = new Daemon({ backend, settings: running, solve: async (p) => placeAll(p, () => 0), logger, stateDir: null, reloadSettings: () => next });
    expect(await daemon.reload()).to.equal(true);
    expect(daemon.settings.mode).to.equal('apply');
    expect(daemon.settings.connect).to.equal(running.connect);
    expect(daemon.settings.log.level).to.equal(running.log.level);
    expect(daemon.settings.stateDir).to.equal(running.stateDir);
    const line = logger.lines.find((l) => /need a restart/.test(l));
    expect(line, logger.lines.join('\n')).to.be.a('string');
    for (const k of ['connect', 'stateDir', 'log.level']) expect(line).to.include(k);
    expect(line).not.to.include('mode');
  });

  it('start/stop: takes the lock, checkpoints, journals, and a restart keeps the cooldowns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-loop-'));
    try {
      const s = withSettings({ mode: 'apply', schedule: '0 0 1 1 *', churn: { holdCycles: 1, cooldownCycles: 5 } });
      const { daemon } = setup(s, dir);
      await daemon.start({ signals: false });
      expect(existsSync(join(dir, LOCK_FILE))).to.equal(true);
      await daemon.runCycle();
      await daemon.runCycle();
      await daemon.stop();
      expect(existsSync(join(dir, LOCK_FILE))).to.equal(false);
      const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n');
      expect(journal.length).to.be.greaterThan(0);
      const again = setup(s, dir).daemon;
      await again.start({ signals: false });
      expect(again.state.churn.cooldown).to.have.property('a');
      await again.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
