/**
 * What numaplace exports to Prometheus. The caller creates the prom-client Registry and
 * passes it in (no global default registry: tests and several daemons in one process
 * stay apart). `createMetrics` defines every metric; the update helpers below take
 * plain data, so the loop does not handle prom-client objects.
 *
 * Conventions: `numaplace_` prefix, base units in names (_seconds, _bytes, _ratio),
 * counters end in _total, every label has a bounded set of values except `vm` and
 * `node`; per-VM series are removed when the VM disappears (syncVms / forgetVm).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { HotplugKind, RefusalCode } from '../core/refusal-codes.js';
import { STEP_KINDS, type StepKind } from '../core/steps.js';
import { numaplaceVersion } from '../core/version.js';

export const STEP_RESULTS = ['applied', 'failed', 'skipped', 'refused'] as const;
export const RECOVERY_RESULTS = ['rolled-back', 'partial', 'left'] as const;
export type StepResult = (typeof STEP_RESULTS)[number];

/** success: the cycle ran and every step it tried was applied (or there were none); partial: some steps failed;
 * failure: the cycle stopped early (libvirt unreachable, sampling or solving failed); skipped: a tick came while
 * a cycle was still running, or during backoff. */
export const CYCLE_OUTCOMES = ['success', 'partial', 'failure', 'skipped'] as const;
export type CycleOutcome = (typeof CYCLE_OUTCOMES)[number];

/** The placement contract's statuses, plus `error` when the solver threw. */
export const SOLVER_STATUSES = ['optimal', 'feasible', 'infeasible', 'error'] as const;
export type SolverStatus = (typeof SOLVER_STATUSES)[number];

export const MODES = ['advisory', 'apply'] as const;
export type ModeLabel = (typeof MODES)[number];

export const HOTPLUG_KINDS = ['vcpu', 'memory'] as const satisfies readonly HotplugKind[];
export type HotplugKindLabel = (typeof HOTPLUG_KINDS)[number];
export const HOTPLUG_RESULTS = ['done', 'refused'] as const;
export type HotplugResult = (typeof HOTPLUG_RESULTS)[number];

/**
 * Reason codes of refused hot-plugs (every RefusalCode of src/hotplug/refusal.ts). The
 * label takes only these, `none` for done, and `other` for a code not in this list,
 * so a new or misspelt code cannot grow the label set without bound.
 */
export const HOTPLUG_REFUSAL_REASONS = [
  'machine-too-old',
  'machine-unsupported',
  'job-running',
  'at-maximum',
  'partial-socket',
  'numa-socket-split',
  'numa-vcpu-unassigned',
  'host-full',
  'no-guest-numa',
  'no-memory-hotplug',
  'no-free-slots',
  'max-memory',
  'block-size',
  'hugepage-size',
  'no-such-guest-node',
  'ratio-1-32',
  'windows-first-dimm-node0',
  'vhost-user',
  'host-memory',
] as const satisfies readonly RefusalCode[];

/** Compile-time check that the list above names every RefusalCode (a new code must be added there). */
const everyReasonListed: Exclude<RefusalCode, (typeof HOTPLUG_REFUSAL_REASONS)[number]> extends never ? true : never = true;
void everyReasonListed;

export interface Metrics {
  readonly registry: Registry;
  readonly nodeCpuUsage: Gauge<'node'>;
  readonly nodeMemoryFree: Gauge<'node'>;
  readonly vmLoad: Gauge<'vm'>;
  readonly vmVcpus: Gauge<'vm'>;
  readonly vmHomeNode: Gauge<'vm'>;
  readonly vmLocality: Gauge<'vm'>;
  readonly vmDistanceCost: Gauge<'vm'>;
  readonly vmGuestVcpusOnline: Gauge<'vm'>;
  readonly vmGuestVcpusKnown: Gauge<'vm'>;
  readonly qualityNow: Gauge;
  readonly qualityPlanned: Gauge;
  readonly qualityAllLocal: Gauge;
  readonly solverDuration: Histogram;
  readonly solverStatus: Gauge<'status'>;
  readonly solverGap: Gauge;
  readonly steps: Counter<'kind' | 'result'>;
  readonly cycleDuration: Histogram;
  readonly cycles: Counter<'outcome'>;
  readonly lastSuccessfulCycle: Gauge;
  readonly virshCalls: Counter;
  readonly virshErrors: Counter;
  readonly libvirtUp: Gauge;
  readonly hotplugs: Counter<'kind' | 'result' | 'reason'>;
  readonly interruptedApplies: Counter<'result'>;
  readonly buildInfo: Gauge<'version' | 'node_version'>;
  readonly mode: Gauge<'mode'>;
  /** VM names that currently have series (what syncVms compares against). */
  readonly vms: Set<string>;
  /** Node ids that currently have series. */
  readonly nodes: Set<string>;
  /** Last cumulative virsh figures seen by recordVirshStats. */
  readonly virshSeen: { calls: number; errors: number };
  /** When the last successful cycle finished (ms since the epoch), or null: what /healthz reads. */
  lastSuccessAtMs: number | null;
}

export interface CreateMetricsOptions {
  /** Also export prom-client's process and Node.js runtime metrics (process_*, nodejs_*). Default false. */
  processMetrics?: boolean;
}

const NONCONFORMING_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const SOLVER_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const CYCLE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Define every numaplace metric in `registry`. Call once per registry (names must be unique in it). */
export function createMetrics(registry: Registry, opts: CreateMetricsOptions = {}): Metrics {
  const registers = [registry];
  const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers });

  const m: Metrics = {
    registry,
    nodeCpuUsage: gauge('numaplace_node_vm_load_ratio', 'Summed vCPU load of the VMs numaplace sees on the node over its CPUs: VM load only, not the host\'s own processes (> 1 = asked for more than it has).', ['node']),
    nodeMemoryFree: gauge('numaplace_node_memory_free_bytes', 'Free memory of the host NUMA node.', ['node']),
    vmLoad: gauge('numaplace_vm_load', 'Sum of the VM\'s vCPU busy fractions (CPUs worth of busy time), as placed.', ['vm']),
    vmVcpus: gauge('numaplace_vm_vcpus', 'Online vCPUs of the VM (as libvirt sees them).', ['vm']),
    vmHomeNode: gauge('numaplace_vm_home_node', 'Host NUMA node holding most of the VM\'s memory.', ['vm']),
    vmLocality: gauge('numaplace_vm_locality_ratio', 'Share of the VM\'s vCPU load running on the node(s) of its memory, weighted by memory share (0..1).', ['vm']),
    vmDistanceCost: gauge('numaplace_vm_distance_cost', 'The VM\'s term of the quality measure: load-weighted NUMA distance (10 per unit of load when all local).', ['vm']),
    vmGuestVcpusOnline: gauge('numaplace_vm_guest_vcpus_online', 'vCPUs online inside the guest (guest agent); absent when the guest agent cannot tell (see numaplace_vm_guest_vcpus_known).', ['vm']),
    vmGuestVcpusKnown: gauge('numaplace_vm_guest_vcpus_known', '1 when the guest agent reported the guest\'s online vCPUs, 0 when unknown.', ['vm']),
    qualityNow: gauge('numaplace_quality_cost', 'Quality measure of the current placement (load-weighted NUMA distance, lower is better).'),
    qualityPlanned: gauge('numaplace_quality_planned_cost', 'Quality measure of the placement the solver proposes.'),
    qualityAllLocal: gauge('numaplace_quality_all_local_cost', 'Lowest possible quality measure: every VM\'s load local to its memory (10 per unit of load).'),
    solverDuration: new Histogram({ name: 'numaplace_solver_duration_seconds', help: 'Time the placement solver took per cycle.', buckets: SOLVER_BUCKETS, registers }),
    solverStatus: gauge('numaplace_solver_status', 'Status of the last solve: 1 for the status it ended with, 0 for the others.', ['status']),
    solverGap: gauge('numaplace_solver_gap_ratio', 'Relative gap between the last solution and the solver\'s bound (0 = proven optimal); absent when the solver did not report one.'),
    steps: new Counter({ name: 'numaplace_steps_total', help: 'Plan steps by kind and result (applied, failed, skipped as already in place or in advisory mode, refused).', labelNames: ['kind', 'result'], registers }),
    cycleDuration: new Histogram({ name: 'numaplace_cycle_duration_seconds', help: 'Wall time of one daemon cycle (sample, solve, plan, apply).', buckets: CYCLE_BUCKETS, registers }),
    cycles: new Counter({ name: 'numaplace_cycles_total', help: 'Daemon cycles by outcome (success, partial, failure; skipped: warming up, backing off, or a tick while a cycle still ran).', labelNames: ['outcome'], registers }),
    lastSuccessfulCycle: gauge('numaplace_last_successful_cycle_timestamp_seconds', 'Unix time at which the last successful cycle finished.'),
    virshCalls: new Counter({ name: 'numaplace_virsh_calls_total', help: 'virsh commands run.', registers }),
    virshErrors: new Counter({ name: 'numaplace_virsh_errors_total', help: 'virsh commands that failed or timed out.', registers }),
    libvirtUp: gauge('numaplace_libvirt_up', '1 when the last cycle reached libvirt, 0 when it could not.'),
    hotplugs: new Counter({ name: 'numaplace_hotplug_total', help: 'Hot-plug decisions by kind (vcpu, memory), result (done, refused) and reason code (none when done).', labelNames: ['kind', 'result', 'reason'], registers }),
    interruptedApplies: new Counter({ name: 'numaplace_interrupted_applies_total', help: 'VMs found half-applied at start (the daemon died mid-apply), by what recovery did: rolled-back, partial (some steps could not be undone), left (VM gone or replaced).', labelNames: ['result'], registers }),
    buildInfo: gauge('numaplace_build_info', 'Always 1; its labels say which numaplace and Node.js runtime this daemon runs.', ['version', 'node_version']),
    mode: gauge('numaplace_mode', 'Operating mode: 1 for the current mode (advisory or apply), 0 for the other.', ['mode']),
    vms: new Set(),
    nodes: new Set(),
    virshSeen: { calls: 0, errors: 0 },
    lastSuccessAtMs: null,
  };

  // Bounded label sets start at 0 so rate() and absent-series alerts work from the first scrape.
  for (const kind of STEP_KINDS) for (const result of STEP_RESULTS) m.steps.inc({ kind, result }, 0);
  for (const outcome of CYCLE_OUTCOMES) m.cycles.inc({ outcome }, 0);
  for (const kind of HOTPLUG_KINDS) m.hotplugs.inc({ kind, result: 'done', reason: 'none' }, 0);
  for (const status of SOLVER_STATUSES) m.solverStatus.set({ status }, 0);
  for (const result of RECOVERY_RESULTS) m.interruptedApplies.inc({ result }, 0);
  m.solverGap.remove({});
  m.libvirtUp.set(0);
  m.buildInfo.set({ version: numaplaceVersion(), node_version: process.version }, 1);
  if (opts.processMetrics) {
    collectDefaultMetrics({ register: registry });
    // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool rejects them).
    for (const name of NONCONFORMING_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  return m;
}

// ---------------------------------------------------------------------------
// Update helpers: plain data in.

export interface NodeFigures {
  node: number;
  /** Busy fraction of the node's CPUs, 0..1. */
  cpuUsageRatio: number;
  freeMemoryBytes: number;
}

/** Set the per-node gauges; nodes not listed (e.g. gone after a topology change) lose their series. */
export function updateNodes(m: Metrics, nodes: readonly NodeFigures[]): void {
  const seen = new Set<string>();
  for (const n of nodes) {
    const node = String(n.node);
    seen.add(node);
    m.nodeCpuUsage.set({ node }, n.cpuUsageRatio);
    m.nodeMemoryFree.set({ node }, n.freeMemoryBytes);
  }
  for (const node of m.nodes) {
    if (seen.has(node)) continue;
    m.nodeCpuUsage.remove({ node });
    m.nodeMemoryFree.remove({ node });
  }
  m.nodes.clear();
  for (const node of seen) m.nodes.add(node);
}

export interface VmFigures {
  name: string;
  /** Sum of the vCPU busy fractions. */
  load: number;
  vcpus: number;
  /** Node holding most of the VM's memory; null when unknown (the series is removed). */
  homeNode: number | null;
  /** 0..1; null when unknown (e.g. no load yet). */
  localityRatio: number | null;
  /** The VM's quality measure term; null when unknown. */
  distanceCost: number | null;
  /** vCPUs online in the guest (guest agent); null when the agent cannot tell. */
  guestVcpusOnline: number | null;
}

function setOrRemove(g: Gauge<'vm'>, vm: string, value: number | null): void {
  if (value === null) g.remove({ vm });
  else g.set({ vm }, value);
}

/** Set one VM's gauges (it is then tracked for syncVms/forgetVm). */
export function updateVm(m: Metrics, vm: VmFigures): void {
  const labels = { vm: vm.name };
  m.vms.add(vm.name);
  m.vmLoad.set(labels, vm.load);
  m.vmVcpus.set(labels, vm.vcpus);
  setOrRemove(m.vmHomeNode, vm.name, vm.homeNode);
  setOrRemove(m.vmLocality, vm.name, vm.localityRatio);
  setOrRemove(m.vmDistanceCost, vm.name, vm.distanceCost);
  // Unknown is no series rather than NaN: comparisons in alert rules then simply do not match.
  setOrRemove(m.vmGuestVcpusOnline, vm.name, vm.guestVcpusOnline);
  m.vmGuestVcpusKnown.set(labels, vm.guestVcpusOnline === null ? 0 : 1);
}

/** Set every VM's gauges and drop the series of VMs not in the list. */
export function updateVms(m: Metrics, vms: readonly VmFigures[]): void {
  for (const vm of vms) updateVm(m, vm);
  syncVms(
    m,
    vms.map((v) => v.name),
  );
}

const VM_GAUGES = (m: Metrics): Gauge<'vm'>[] => [
  m.vmLoad,
  m.vmVcpus,
  m.vmHomeNode,
  m.vmLocality,
  m.vmDistanceCost,
  m.vmGuestVcpusOnline,
  m.vmGuestVcpusKnown,
];

/** Remove every series of one VM (it was undefined, or is now excluded). */
export function forgetVm(m: Metrics, name: string): void {
  for (const g of VM_GAUGES(m)) g.remove({ vm: name });
  m.vms.delete(name);
}

/** Keep only the series of the VMs named (those present this cycle). */
export function syncVms(m: Metrics, names: Iterable<string>): void {
  const keep = new Set(names);
  for (const name of [...m.vms]) if (!keep.has(name)) forgetVm(m, name);
}

export interface QualityFigures {
  now: number;
  planned: number;
  allLocal: number;
}

export function recordQuality(m: Metrics, q: QualityFigures): void {
  m.qualityNow.set(q.now);
  m.qualityPlanned.set(q.planned);
  m.qualityAllLocal.set(q.allLocal);
}

export interface SolveFigures {
  status: SolverStatus;
  durationSeconds: number;
  /** Relative gap to the bound; undefined/null when the solver does not report it. */
  gapRatio?: number | null;
}

export function recordSolve(m: Metrics, s: SolveFigures): void {
  m.solverDuration.observe(s.durationSeconds);
  for (const status of SOLVER_STATUSES) m.solverStatus.set({ status }, status === s.status ? 1 : 0);
  // An unlabelled gauge's series can be removed like a labelled one: unknown = absent, not a stale figure.
  if (s.gapRatio === undefined || s.gapRatio === null) m.solverGap.remove({});
  else m.solverGap.set(s.gapRatio);
}

/** Count `n` steps of one kind with one result. */
export function countSteps(m: Metrics, kind: StepKind, result: StepResult, n = 1): void {
  if (n > 0) m.steps.inc({ kind, result }, n);
}

/** Count the steps of a plan/apply result; `skipped` and `refused` are steps not tried (advisory mode, churn limits...). */
export function recordStepResults(
  m: Metrics,
  r: {
    applied?: readonly { kind: StepKind }[];
    failed?: readonly { step: { kind: StepKind } }[];
    skipped?: readonly { kind: StepKind }[];
    refused?: readonly { kind: StepKind }[];
  },
): void {
  for (const s of r.applied ?? []) countSteps(m, s.kind, 'applied');
  for (const f of r.failed ?? []) countSteps(m, f.step.kind, 'failed');
  for (const s of r.skipped ?? []) countSteps(m, s.kind, 'skipped');
  for (const s of r.refused ?? []) countSteps(m, s.kind, 'refused');
}

export interface CycleFigures {
  outcome: CycleOutcome;
  durationSeconds: number;
  /** When the cycle finished (ms since the epoch); default now. */
  endedAtMs?: number;
}

/** Count a cycle; a success or partial cycle (it reached libvirt and planned) moves the last-success timestamp. */
export function recordCycle(m: Metrics, c: CycleFigures): void {
  m.cycles.inc({ outcome: c.outcome });
  if (c.outcome === 'skipped') return;
  m.cycleDuration.observe(c.durationSeconds);
  if (c.outcome === 'success' || c.outcome === 'partial') {
    const at = c.endedAtMs ?? Date.now();
    m.lastSuccessAtMs = at;
    m.lastSuccessfulCycle.set(at / 1000);
  }
}

/**
 * Bring the virsh counters up to the backend's cumulative figures (HostBackend.stats()).
 * A figure lower than the last one seen means a new backend (reconnect): both count from zero.
 */
export function recordVirshStats(m: Metrics, stats: { calls: number; errors: number }): void {
  const fresh = stats.calls < m.virshSeen.calls || stats.errors < m.virshSeen.errors;
  m.virshCalls.inc(fresh ? stats.calls : stats.calls - m.virshSeen.calls);
  m.virshErrors.inc(fresh ? stats.errors : stats.errors - m.virshSeen.errors);
  m.virshSeen.calls = stats.calls;
  m.virshSeen.errors = stats.errors;
}

export function setLibvirtUp(m: Metrics, up: boolean): void {
  m.libvirtUp.set(up ? 1 : 0);
}

export function setMode(m: Metrics, mode: ModeLabel): void {
  for (const each of MODES) m.mode.set({ mode: each }, each === mode ? 1 : 0);
}

/** The reason label for a refusal code: the code when known, else `other`. */
export function hotplugReasonLabel(code: string): string {
  return (HOTPLUG_REFUSAL_REASONS as readonly string[]).includes(code) ? code : 'other';
}

export function recordHotplug(m: Metrics, h: { kind: HotplugKindLabel; result: 'done' } | { kind: HotplugKindLabel; result: 'refused'; reason: string }): void {
  const reason = h.result === 'done' ? 'none' : hotplugReasonLabel(h.reason);
  m.hotplugs.inc({ kind: h.kind, result: h.result, reason });
}

export function recordInterruptedApply(m: Metrics, result: (typeof RECOVERY_RESULTS)[number]): void {
  m.interruptedApplies.inc({ result });
}
