/**
 * Issue 12 items 8 and 9: what the daemon says. Advisory mode logs a piece of advice when it appears
 * (and when it is withdrawn), not every cycle (was 468 lines in 36 cycles); the per-node metric is
 * named for what it measures (VM load over the node's CPUs, not the node's busy fraction).
 */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { metricsObserver } from '../../src/daemon/metrics-observer.js';
import { withSettings } from '../../src/daemon/settings.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import type { Problem } from '../../solver/types.js';
import { FakeBackend, placeAll, vmSample } from '../helpers/fake-host.js';
import { hardened, registerReport } from './counters.js';

registerReport();

function setup(mode: 'advisory' | 'apply') {
  const topo = syntheticTopology('2x8');
  // a and b pinned on node 0; the "solver" puts every VM on node `target`: a steady plan until it changes.
  const backend = new FakeBackend(topo, [vmSample({ name: 'a', vcpuPins: ['0-7', '0-7'] }), vmSample({ name: 'b', vcpuPins: ['0-7', '0-7'] })]);
  backend.loads = { a: 0.5, b: 0.25 };
  let target = 0;
  const logger = memoryLogger('info');
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const daemon = new Daemon({
    backend, settings: withSettings({ mode, churn: { holdCycles: 1, improvementMargin: 0 } }), logger, stateDir: null,
    solve: async (p: Problem) => placeAll(p, () => target), observer: metricsObserver(metrics),
  });
  return { daemon, logger, registry, setTarget: (n: number) => (target = n) };
}

describe('reliability: advisory output and node metric (issue 12 items 8, 9)', () => {
  it('36 advisory cycles with the same plan: each step advised once, not every cycle', async () => {
    const { daemon, logger, setTarget } = setup('advisory');
    for (let i = 0; i < 36; i++) await daemon.runCycle();
    const steps = daemon.last!.steps.length;
    expect(steps).to.be.greaterThan(0);
    const advice = () => logger.lines.filter((l) => /"msg":"advice: /.test(l));
    expect(advice()).to.have.length(steps);
    // The plan changes: the new steps are advised, the old ones withdrawn, once.
    setTarget(1);
    for (let i = 0; i < 5; i++) await daemon.runCycle();
    const withdrawn = logger.lines.filter((l) => /advice withdrawn/.test(l)).length;
    expect(withdrawn).to.be.greaterThan(0).and.at.most(steps);
    for (let i = 0; i < 5; i++) await daemon.runCycle();
    expect(logger.lines.filter((l) => /advice withdrawn/.test(l)).length).to.equal(withdrawn);
    hardened('advisory-log', 3);
  });

  it('the per-node metric is numaplace_node_vm_load_ratio: VM load over the node\'s CPUs, unclamped, and says so', async () => {
    const { daemon, registry } = setup('advisory');
    for (let i = 0; i < 3; i++) await daemon.runCycle();
    const text = await registry.metrics();
    expect(text).to.not.include('numaplace_node_cpu_usage_ratio');
    expect(text).to.match(/# HELP numaplace_node_vm_load_ratio .*VM load only, not the host's own processes/);
    // a (2 x 0.5) + b (2 x 0.25) = 1.5 on node 0's 8 CPUs.
    const v = Number(/^numaplace_node_vm_load_ratio\{node="0"\} (\S+)$/m.exec(text)![1]);
    expect(v).to.be.closeTo(1.5 / 8, 1e-6);
    hardened('node-metric', 2);
  });
});
