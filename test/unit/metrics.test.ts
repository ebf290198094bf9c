import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { STEP_KINDS } from '../../src/core/steps.js';
import { Registry } from 'prom-client';
import {
  countSteps,
  createMetrics,
  CYCLE_OUTCOMES,
  forgetVm,
  HOTPLUG_REFUSAL_REASONS,
  hotplugReasonLabel,
  type Metrics,
  recordCycle,
  recordHotplug,
  recordQuality,
  recordSolve,
  recordStepResults,
  recordVirshStats,
  setLibvirtUp,
  setMode,
  syncVms,
  updateNodes,
  updateVms,
  type VmFigures,
} from '../../src/metrics/metrics.js';
import { needPromtool, promtool } from '../helpers/promtool.js';

/** Sample lines (name{labels} value) of the exposition, by metric family prefix. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

const vm = (name: string, over: Partial<VmFigures> = {}): VmFigures => ({
  name,
  load: 1.5,
  vcpus: 4,
  homeNode: 0,
  localityRatio: 0.75,
  distanceCost: 17.5,
  guestVcpusOnline: 4,
  ...over,
});

/** Every metric given a value (the way one daemon cycle would). */
function populate(m: Metrics): void {
  updateNodes(m, [
    { node: 0, cpuUsageRatio: 0.5, freeMemoryBytes: 8 * 2 ** 30 },
    { node: 1, cpuUsageRatio: 0.25, freeMemoryBytes: 2 ** 30 },
  ]);
  // A name with a quote, a backslash and a newline: the exposition must escape it.
  updateVms(m, [vm('web1'), vm('db"\\\n2', { guestVcpusOnline: null })]);
  recordQuality(m, { now: 120, planned: 105, allLocal: 100 });
  recordSolve(m, { status: 'optimal', durationSeconds: 0.042, gapRatio: 0.01 });
  recordStepResults(m, {
    applied: [{ kind: 'pinVcpu' }],
    failed: [{ step: { kind: 'setNodeset' } }],
    skipped: [{ kind: 'setShares' }],
    refused: [{ kind: 'attachMemory' }],
  });
  recordCycle(m, { outcome: 'success', durationSeconds: 0.3, endedAtMs: 1_700_000_000_000 });
  recordVirshStats(m, { calls: 12, errors: 1 });
  setLibvirtUp(m, true);
  recordHotplug(m, { kind: 'vcpu', result: 'done' });
  recordHotplug(m, { kind: 'memory', result: 'refused', reason: 'no-free-slots' });
  setMode(m, 'advisory');
}

describe('metrics', () => {
  let registry: Registry;
  let m: Metrics;
  beforeEach(() => {
    registry = new Registry();
    m = createMetrics(registry);
  });

  it('uses only the registry it is given', async () => {
    const { register } = await import('prom-client');
    expect(register.getSingleMetric('numaplace_cycles_total')).to.equal(undefined);
    expect(registry.getSingleMetric('numaplace_cycles_total')).not.to.equal(undefined);
    // A second registry gets its own set (no duplicate-name clash).
    expect(() => createMetrics(new Registry())).not.to.throw();
  });

  it('follows the naming conventions', () => {
    for (const metric of registry.getMetricsAsArray()) {
      const { name, type } = metric as unknown as { name: string; type: string };
      expect(name).to.match(/^numaplace_[a-z0-9_]+$/);
      if (type === 'counter') expect(name, name).to.match(/_total$/);
      else expect(name, name).not.to.match(/_total$/);
      if (type === 'histogram') expect(name, name).to.match(/_seconds$/);
      expect(name, 'no non-base units').not.to.match(/_(milliseconds|ms|mib|kib|gib|megabytes|percent)(_|$)/);
    }
  });

  it('every metric has a sample once a cycle populated them', async () => {
    populate(m);
    const text = await registry.metrics();
    for (const metric of registry.getMetricsAsArray()) {
      const name = (metric as unknown as { name: string }).name;
      const probe = (metric as unknown as { type: string }).type === 'histogram' ? `${name}_count` : name;
      expect(samples(text, probe), name).not.to.have.length(0);
    }
  });

  it('passes `promtool check metrics` on the real exposition, process metrics included', async function () {
    await needPromtool(this);
    const reg = new Registry();
    const full = createMetrics(reg, { processMetrics: true });
    populate(full);
    const text = await reg.metrics();
    const r = await promtool(['check', 'metrics'], text);
    expect(r.output, 'promtool findings').to.equal('');
    expect(r.exitCode).to.equal(0);
    expect(text).to.include('process_resident_memory_bytes');
    expect(text).to.include('numaplace_vm_load{vm="db\\"\\\\\\n2"} 1.5');
  });

  it('starts bounded label sets at zero', async () => {
    const text = await registry.metrics();
    expect(samples(text, 'numaplace_steps_total')).to.have.length(STEP_KINDS.length * 4);
    expect(text).to.include('numaplace_steps_total{kind="setMemnode",result="applied"} 0');
    expect(samples(text, 'numaplace_cycles_total')).to.have.length(CYCLE_OUTCOMES.length);
    expect(text).to.include('numaplace_steps_total{kind="attachMemory",result="refused"} 0');
    expect(text).to.include('numaplace_libvirt_up 0');
    expect(samples(text, 'numaplace_solver_gap_ratio')).to.deep.equal([]);
  });

  it('forgetVm removes every series of that VM', async () => {
    populate(m);
    forgetVm(m, 'web1');
    const text = await registry.metrics();
    expect(text).not.to.include('vm="web1"');
    expect(text).to.include('numaplace_vm_vcpus{vm="db\\"\\\\\\n2"} 4');
  });

  it('syncVms and updateVms drop VMs that disappeared', async () => {
    updateVms(m, [vm('a'), vm('b'), vm('c')]);
    syncVms(m, ['b']);
    let text = await registry.metrics();
    expect(text).not.to.match(/vm="(a|c)"/);
    expect(samples(text, 'numaplace_vm_load')).to.deep.equal(['numaplace_vm_load{vm="b"} 1.5']);
    updateVms(m, [vm('d', { load: 0.5 })]);
    text = await registry.metrics();
    expect(samples(text, 'numaplace_vm_load')).to.deep.equal(['numaplace_vm_load{vm="d"} 0.5']);
    expect([...m.vms]).to.deep.equal(['d']);
  });

  it('series stay bounded over many cycles of VMs coming and going', async () => {
    for (let cycle = 0; cycle < 50; cycle++) updateVms(m, [vm(`vm-${cycle}`), vm(`vm-${cycle + 1}`)]);
    const text = await registry.metrics();
    expect(samples(text, 'numaplace_vm_distance_cost')).to.have.length(2);
  });

  it('unknown per-VM figures are absent, not stale', async () => {
    updateVms(m, [vm('a')]);
    updateVms(m, [vm('a', { homeNode: null, localityRatio: null, distanceCost: null, guestVcpusOnline: null })]);
    const text = await registry.metrics();
    expect(samples(text, 'numaplace_vm_home_node')).to.deep.equal([]);
    expect(samples(text, 'numaplace_vm_locality_ratio')).to.deep.equal([]);
    expect(samples(text, 'numaplace_vm_guest_vcpus_online')).to.deep.equal([]);
    expect(samples(text, 'numaplace_vm_guest_vcpus_known')).to.deep.equal(['numaplace_vm_guest_vcpus_known{vm="a"} 0']);
    expect(samples(text, 'numaplace_vm_vcpus')).to.deep.equal(['numaplace_vm_vcpus{vm="a"} 4']);
  });

  it('nodes that vanish lose their series', async () => {
    updateNodes(m, [
      { node: 0, cpuUsageRatio: 0.1, freeMemoryBytes: 1 },
      { node: 1, cpuUsageRatio: 0.2, freeMemoryBytes: 2 },
    ]);
    updateNodes(m, [{ node: 1, cpuUsageRatio: 0.3, freeMemoryBytes: 3 }]);
    const text = await registry.metrics();
    expect(samples(text, 'numaplace_node_vm_load_ratio')).to.deep.equal(['numaplace_node_vm_load_ratio{node="1"} 0.3']);
    expect(samples(text, 'numaplace_node_memory_free_bytes')).to.deep.equal(['numaplace_node_memory_free_bytes{node="1"} 3']);
  });

  it('solver status is one-hot and the gap disappears when unknown', async () => {
    recordSolve(m, { status: 'feasible', durationSeconds: 1, gapRatio: 0.05 });
    recordSolve(m, { status: 'infeasible', durationSeconds: 2 });
    const text = await registry.metrics();
    expect(samples(text, 'numaplace_solver_status')).to.deep.equal([
      'numaplace_solver_status{status="optimal"} 0',
      'numaplace_solver_status{status="feasible"} 0',
      'numaplace_solver_status{status="infeasible"} 1',
      'numaplace_solver_status{status="error"} 0',
    ]);
    expect(samples(text, 'numaplace_solver_gap_ratio')).to.deep.equal([]);
    expect(text).to.include('numaplace_solver_duration_seconds_count 2');
    expect(text).to.include('numaplace_solver_duration_seconds_sum 3');
  });

  it('cycles: only success and partial move the last-success timestamp; skipped ones are not timed', async () => {
    recordCycle(m, { outcome: 'success', durationSeconds: 1, endedAtMs: 1000_000 });
    recordCycle(m, { outcome: 'failure', durationSeconds: 2, endedAtMs: 2000_000 });
    recordCycle(m, { outcome: 'skipped', durationSeconds: 0 });
    expect(m.lastSuccessAtMs).to.equal(1000_000);
    recordCycle(m, { outcome: 'partial', durationSeconds: 1, endedAtMs: 3000_000 });
    expect(m.lastSuccessAtMs).to.equal(3000_000);
    const text = await registry.metrics();
    expect(text).to.include('numaplace_last_successful_cycle_timestamp_seconds 3000');
    expect(text).to.include('numaplace_cycle_duration_seconds_count 3');
    expect(text).to.include('numaplace_cycles_total{outcome="skipped"} 1');
    expect(text).to.include('numaplace_cycles_total{outcome="failure"} 1');
  });

  it('virsh counters follow the backend\'s cumulative figures, and survive a new backend', async () => {
    recordVirshStats(m, { calls: 10, errors: 1 });
    recordVirshStats(m, { calls: 15, errors: 1 });
    recordVirshStats(m, { calls: 3, errors: 2 }); // reconnected: a fresh backend counts from 0
    const text = await registry.metrics();
    expect(text).to.include('numaplace_virsh_calls_total 18');
    expect(text).to.include('numaplace_virsh_errors_total 3');
  });

  it('steps count by kind and result', async () => {
    countSteps(m, 'pinVcpu', 'applied', 3);
    recordStepResults(m, { applied: [{ kind: 'pinVcpu' }], failed: [{ step: { kind: 'setVcpus' } }] });
    const text = await registry.metrics();
    expect(text).to.include('numaplace_steps_total{kind="pinVcpu",result="applied"} 4');
    expect(text).to.include('numaplace_steps_total{kind="setVcpus",result="failed"} 1');
  });

  it('hot-plug reasons are a bounded set', async () => {
    recordHotplug(m, { kind: 'vcpu', result: 'refused', reason: 'at-maximum' });
    recordHotplug(m, { kind: 'vcpu', result: 'refused', reason: `made-up-${Math.random()}` });
    recordHotplug(m, { kind: 'memory', result: 'done' });
    const text = await registry.metrics();
    expect(text).to.include('numaplace_hotplug_total{kind="vcpu",result="refused",reason="at-maximum"} 1');
    expect(text).to.include('numaplace_hotplug_total{kind="vcpu",result="refused",reason="other"} 1');
    expect(text).to.include('numaplace_hotplug_total{kind="memory",result="done",reason="none"} 1');
    expect(hotplugReasonLabel('ratio-1-32')).to.equal('ratio-1-32');
    expect(new Set(HOTPLUG_REFUSAL_REASONS).size).to.equal(HOTPLUG_REFUSAL_REASONS.length);
  });

  it('build_info names the package version and the Node.js runtime', async () => {
    const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(samples(await registry.metrics(), 'numaplace_build_info')).to.deep.equal([
      `numaplace_build_info{version="${version}",node_version="${process.version}"} 1`,
    ]);
  });

  it('mode and libvirt_up', async () => {
    setMode(m, 'apply');
    setLibvirtUp(m, true);
    let text = await registry.metrics();
    expect(samples(text, 'numaplace_mode')).to.deep.equal(['numaplace_mode{mode="advisory"} 0', 'numaplace_mode{mode="apply"} 1']);
    expect(text).to.include('numaplace_libvirt_up 1');
    setLibvirtUp(m, false);
    text = await registry.metrics();
    expect(text).to.include('numaplace_libvirt_up 0');
  });
});
