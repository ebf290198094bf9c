import { expect } from 'chai';
import { Registry } from 'prom-client';
import { freshCycleState, runCycle, type CycleDeps, type CycleReport, type Health } from '../../src/daemon/cycle.js';
import { hardeningObserver } from '../../src/daemon/hardening-observer.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { Daemon } from '../../src/daemon/loop.js';
import { metricsObserver } from '../../src/daemon/metrics-observer.js';
import { withSettings } from '../../src/daemon/settings.js';
import { createHardeningMetrics } from '../../src/metrics/hardening.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { FakeBackend, placeAll, vmSample } from '../helpers/fake-host.js';

const topo = syntheticTopology('2x8');

function backend(): FakeBackend {
  const b = new FakeBackend(topo, [
    vmSample({ name: 'a', vcpuPins: ['4-7', '4-7'], emulatorPin: '4-7', numatune: { mode: 'restrictive', nodeset: '0' }, memoryByNode: { '0': 1024 }, cpuShares: 2048 }),
    vmSample({ name: 'b', vcpuPins: [null, null], numatune: { mode: 'restrictive', nodeset: '1' }, memoryByNode: { '1': 1024 }, cpuShares: 2048 }),
  ]);
  b.loads = { a: 1, b: 0.5 };
  return b;
}

describe('runCycle (src/daemon/cycle.ts): one cycle as a function', () => {
  it('state in, state out: warm-up, then a decided and applied cycle; the input state is left as it was', async () => {
    const b = backend();
    const deps: CycleDeps = { backend: b, solve: async (p) => placeAll(p, (n) => (n === 'a' ? 0 : 1)), logger: memoryLogger(), now: () => b.atMs, holdRule: true };
    const settings = withSettings({ mode: 'apply' });
    const start = freshCycleState();
    const first = await runCycle(deps, start, settings);
    expect(first.report.outcome).to.equal('warming-up');
    expect(start.loads.prevAtMs, 'the given state is not changed').to.equal(null);
    const second = await runCycle(deps, first.state, settings);
    expect(second.report.outcome).to.equal('ok');
    expect(second.report.applied.map((s) => s.vm)).to.include('b');
    expect(Object.keys(second.state.daemon.applied)).to.include('b');
    expect(first.state.daemon.applied, 'the earlier state is not changed').to.deep.equal({});
    expect(second.report.view!.topology).to.equal(second.report.sample!.topology);
  });

  it('settings are read once per cycle: a reload (SIGHUP) while a cycle runs changes the next cycle, not the label or metrics of this one', async () => {
    const b = backend();
    let release!: () => void;
    let gate: Promise<void> = Promise.resolve();
    const registry = new Registry();
    const running = withSettings({ mode: 'apply', reservedCpus: '0-3' });
    const daemon = new Daemon({
      backend: b,
      settings: running,
      solve: async (p) => {
        await gate;
        return placeAll(p, (n) => (n === 'a' ? 0 : 1));
      },
      logger: memoryLogger(),
      stateDir: null,
      observer: metricsObserver(createMetrics(registry)),
      reloadSettings: () => withSettings({ mode: 'advisory' }),
    });
    await daemon.runCycle();
    gate = new Promise<void>((r) => (release = r));
    const cycle = daemon.runCycle();
    await new Promise((r) => setImmediate(r));
    expect(daemon.busy()).to.equal(true);
    expect(await daemon.reload()).to.equal(true);
    release();
    const r = await cycle;
    expect(r.mode).to.equal('apply');
    expect(r.settings).to.equal(running);
    expect(r.applied.length, 'applied as the cycle\'s own settings said').to.be.greaterThan(0);
    const text = await registry.metrics();
    expect(text).to.match(/^numaplace_mode\{mode="apply"\} 1$/m);
    // a's 2 busy vCPUs on node 0, whose usable CPUs are 4-7 under the cycle's reservation: 0.5.
    expect(text).to.match(/^numaplace_node_vm_load_ratio\{node="0"\} 0\.5$/m);
    const next = await daemon.runCycle();
    expect(next.mode).to.equal('advisory');
    expect(next.applied).to.deep.equal([]);
  });

  it('observers get the report and the health: journal and numa_maps counters without reaching into the daemon', async () => {
    const b = backend();
    b.stats = () => ({ calls: 7, errors: 1, numaMapsErrors: 3 });
    const registry = new Registry();
    const seen: [CycleReport, Health][] = [];
    const deps: CycleDeps = {
      backend: b,
      solve: async (p) => placeAll(p, () => 0),
      logger: memoryLogger(),
      now: () => b.atMs,
      holdRule: true,
      observer: { cycle: (r, h) => { seen.push([r, h]); hardeningObserver(createHardeningMetrics(registry)).cycle(r, h); } },
    };
    await runCycle(deps, freshCycleState(), withSettings({}));
    expect(seen).to.have.length(1);
    expect(seen[0][1]).to.deep.equal({ problem: null, journalProblem: null, journalFailures: 0, checkpointProblem: null, host: { calls: 7, errors: 1, numaMapsErrors: 3 } });
    expect(await registry.metrics()).to.match(/^numaplace_numa_maps_read_errors_total 3$/m);
  });

  it('the warm-up cycle already builds the view: node metrics are there from the first sample', async () => {
    const b = backend();
    const registry = new Registry();
    const deps: CycleDeps = { backend: b, solve: async (p) => placeAll(p, () => 0), logger: memoryLogger(), now: () => b.atMs, holdRule: true, observer: metricsObserver(createMetrics(registry)) };
    const { report } = await runCycle(deps, freshCycleState(), withSettings({}));
    expect(report.outcome).to.equal('warming-up');
    expect(report.view!.topology).to.equal(report.sample!.topology);
    expect(await registry.metrics()).to.match(/^numaplace_node_memory_free_bytes\{node="1"\} \d+/m);
  });

  it('an observer that throws is logged and the cycle still reports', async () => {
    const b = backend();
    const logger = memoryLogger();
    const deps: CycleDeps = { backend: b, solve: async (p) => placeAll(p, () => 0), logger, now: () => b.atMs, holdRule: true, observer: { cycle: () => { throw new Error('boom'); } } };
    const { report } = await runCycle(deps, freshCycleState(), withSettings({}));
    expect(report.outcome).to.equal('warming-up');
    expect(logger.lines.some((l) => /cycle observer failed.*boom/.test(l))).to.equal(true);
  });
});
