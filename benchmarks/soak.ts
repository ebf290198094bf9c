/**
 * Soak: the daemon (its real loop, solver, planner, executor, hot-plug, metrics) run for a long time,
 * reporting whether memory grows, whether anything fails, and whether cycles slow down.
 *
 * Memory is measured after a forced full GC (benchmarks/memory-probe.ts): the live heap, plus RSS;
 * the trend is the least-squares slope over the second half of the run.
 *
 *   npm run bench:soak                        # simulated host, 100,000 cycles -> benchmarks/results/soak.json
 *   npm run bench:soak -- --cycles 20000 --scenario gen-2x8-8
 *   npm run bench:soak -- --real --minutes 30 # real VMs on qemu:///system -> benchmarks/results/soak-real.json
 *   npm run bench:soak -- --help
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { Daemon } from '../src/daemon/loop.js';
import type { CycleReport } from '../src/daemon/cycle.js';
import type { SolveFn } from '../src/daemon/plan-cycle.js';
import { createLogger, type Level, type Logger } from '../src/daemon/log.js';
import { metricsObserver } from '../src/daemon/metrics-observer.js';
import { withSettings } from '../src/daemon/settings.js';
import type { HostBackend } from '../src/host/backend.js';
import { createSimulatedBackend } from '../src/sim/index.js';
import { createMetrics, type Metrics } from '../src/metrics/index.js';
import { solve, solveInProcess } from '../solver/solve.js';
import { gcFunction, memoryPoint, memoryTrend, percentiles, type MemoryPoint } from './memory-probe.js';

export { slope } from './memory-probe.js';

/** How much per-run state the daemon and its backend hold, sampled with the memory (what a leak would grow). */
export interface Retained {
  vms: number;
  applied: number;
  churnTargets: number;
  churnCooldown: number;
  refusedNodeset: number;
  hotplugVms: number;
  metricsVms: number;
  xmlCache?: number;
  /** Process-level things a leak of listeners or handles would grow. */
  exitListeners: number;
  activeResources: number;
}

export interface SoakMemory {
  /** Samples taken (each after a forced GC) and how many the trend was fitted on (the second half). */
  samples: number;
  fittedOn: number;
  start: { rssMiB: number; heapMiB: number };
  end: { rssMiB: number; heapMiB: number };
  maxRssMiB: number;
}

export interface SoakErrors {
  /** Cycles whose outcome was 'error' (the cycle threw) or 'host-error' (sampling failed), by message. */
  cycleErrors: Record<string, number>;
  hostErrors: Record<string, number>;
  /** VMs left out of a sample (e.g. undefined mid-cycle by someone else), by error class. */
  vmsSkipped: Record<string, number>;
  /** Steps that failed when applied, by step kind. */
  stepsFailed: Record<string, number>;
  /** Lines the daemon logged at level error, by message. */
  loggedErrors: Record<string, number>;
  unhandledRejections: number;
  uncaughtExceptions: number;
}

export interface SoakResult {
  scenario: string;
  mode: 'advisory' | 'apply';
  cycles: number;
  outcomes: Record<string, number>;
  errors: SoakErrors;
  stepsApplied: number;
  memory: SoakMemory & { rssMiBPer10kCycles: number; heapMiBPer10kCycles: number };
  /** Cycle wall time (ms): percentiles over the first and the last third of the cycles. */
  cycleMs: { firstThird: Record<string, number>; lastThird: Record<string, number> };
  /** Mean cycle wall time (ms) per tenth of the run. */
  cycleMsByTenth: number[];
  points: MemoryPoint[];
  wallSeconds: number;
}

export interface RealSoakResult extends Omit<SoakResult, 'memory' | 'cycleMsByTenth' | 'points'> {
  uri: string;
  intervalMs: number;
  solver: 'worker' | 'in-process';
  memory: SoakMemory & { rssMiBPerHour: number; heapMiBPerHour: number };
  vmsSeen: { count: number; names: string[] };
  /** Memory samples (x in hours) with what the daemon retained at that moment. */
  points: (MemoryPoint & { rssBeforeGcMiB: number; retained: Retained })[];
  startedAt: string;
}

const inc = (r: Record<string, number>, k: string) => void (r[k] = (r[k] ?? 0) + 1);

function newErrors(): SoakErrors {
  return { cycleErrors: {}, hostErrors: {}, vmsSkipped: {}, stepsFailed: {}, loggedErrors: {}, unhandledRejections: 0, uncaughtExceptions: 0 };
}

/** A logger like the daemon's (JSON lines) that keeps nothing: it counts error lines by message. */
function countingLogger(errors: SoakErrors, level: Level = 'info'): Logger {
  return createLogger({
    format: 'json',
    level,
    write: (line) => {
      const o = JSON.parse(line) as { level: string; msg: string };
      if (o.level === 'error') inc(errors.loggedErrors, o.msg);
    },
  });
}

/** Count a cycle's report into the error tallies. */
function tally(errors: SoakErrors, r: CycleReport): void {
  // A failed virsh batch names its whole script: keep its first command and the reason.
  const short = (s: string | undefined) =>
    (s ?? '?').split('\n')[0].replace(/^virsh echo @@numaplace-\w+:0@@; '([\w-]+)'.*? (failed \(exit \w+\)|timed out)/, 'virsh batch ($1 ...) $2').slice(0, 160);
  if (r.outcome === 'error') inc(errors.cycleErrors, short(r.error));
  if (r.outcome === 'host-error') inc(errors.hostErrors, short(r.error));
  for (const f of r.failed) inc(errors.stepsFailed, f.step.kind);
  for (const s of r.sample?.skipped ?? []) inc(errors.vmsSkipped, s.error.name || 'Error');
}

/** Catch what escapes the daemon while `body` runs. */
async function watchingUnhandled<T>(errors: SoakErrors, body: () => Promise<T>): Promise<T> {
  const onRejection = () => errors.unhandledRejections++;
  const onException = () => errors.uncaughtExceptions++;
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  try {
    return await body();
  } finally {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
}

export function retained(daemon: Daemon, metrics: Metrics, backend: HostBackend): Retained {
  const s = daemon.state;
  const xml = (backend as unknown as { xmlCache?: Map<string, unknown> }).xmlCache;
  return {
    vms: daemon.last?.sample?.vms.length ?? 0,
    applied: Object.keys(s.applied).length,
    churnTargets: Object.keys(s.churn.targets).length,
    churnCooldown: Object.keys(s.churn.cooldown).length,
    refusedNodeset: Object.keys(s.churn.refusedNodeset).length,
    hotplugVms: Object.keys(s.hotplug.vms).length,
    metricsVms: metrics.vms.size,
    ...(xml ? { xmlCache: xml.size } : {}),
    exitListeners: process.listenerCount('exit'),
    activeResources: process.getActiveResourcesInfo().length,
  };
}

function cycleThirds(times: readonly number[]): SoakResult['cycleMs'] {
  const third = Math.max(1, Math.floor(times.length / 3));
  const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
  return { firstThird: round(percentiles(times.slice(0, third))), lastThird: round(percentiles(times.slice(-third))) };
}

export interface SoakOptions {
  cycles: number;
  scenario?: string;
  /** Memory samples over the run (each forces a full GC). Default 200. */
  samples?: number;
  /** Called after every cycle (tests use it to check that the measure sees a leak). */
  onCycle?: (cycle: number) => void;
}

/**
 * The daemon against the simulated host, in apply mode, for `cycles` cycles of changing load in
 * simulated time. The solver runs in-process (the worker's hand-over costs more than a small solve).
 */
export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const scenario = opts.scenario ?? 'gen-2x8-8';
  const backend = createSimulatedBackend(scenario);
  const errors = newErrors();
  const metrics = createMetrics(new Registry());
  const settings = withSettings({ mode: 'apply', churn: { holdCycles: 2, cooldownCycles: 3 } });
  const daemon = new Daemon({
    backend, settings, logger: countingLogger(errors), stateDir: null, observer: metricsObserver(metrics),
    solve: async (p) => solveInProcess(p, { timeLimitMs: 200 }),
  });
  const gc = gcFunction();
  const outcomes: Record<string, number> = {};
  const every = Math.max(1, Math.floor(opts.cycles / (opts.samples ?? 200)));
  const points: MemoryPoint[] = [];
  // Allocated once: a growing array of 100,000 cycle times would itself show as heap growth.
  const times = new Float64Array(opts.cycles);
  const t0 = performance.now();
  await watchingUnhandled(errors, async () => {
    points.push(memoryPoint(0, gc));
    for (let c = 1; c <= opts.cycles; c++) {
      const s = performance.now();
      const r = await daemon.runCycle();
      times[c - 1] = performance.now() - s;
      inc(outcomes, r.outcome);
      tally(errors, r);
      opts.onCycle?.(c);
      if (c % every === 0) points.push(memoryPoint(c, gc));
    }
  });
  const trend = memoryTrend(points);
  const tenth = Math.max(1, Math.floor(times.length / 10));
  const cycleMsByTenth: number[] = [];
  for (let i = 0; i + tenth <= times.length; i += tenth) cycleMsByTenth.push(Math.round((times.subarray(i, i + tenth).reduce((a, b) => a + b, 0) / tenth) * 1000) / 1000);
  return {
    scenario,
    mode: 'apply',
    cycles: opts.cycles,
    outcomes,
    errors,
    stepsApplied: daemon.counters.stepsApplied,
    memory: {
      samples: points.length,
      fittedOn: trend.samples,
      start: trend.start,
      end: trend.end,
      maxRssMiB: Math.max(...points.map((p) => p.rssMiB)),
      rssMiBPer10kCycles: trend.rssSlope * 10_000,
      heapMiBPer10kCycles: trend.heapSlope * 10_000,
    },
    cycleMs: cycleThirds(Array.from(times)),
    cycleMsByTenth,
    points,
    wallSeconds: (performance.now() - t0) / 1000,
  };
}

export interface RealSoakOptions {
  minutes: number;
  /** Time from one cycle's start to the next (the daemon's default schedule is every 10 s). Default 2000. */
  intervalMs?: number;
  uri?: string;
  mode?: 'advisory' | 'apply';
  /** Seconds between memory samples (each forces a full GC). Default 30. */
  sampleSeconds?: number;
  /** 'worker' (default): the solver in its worker thread, as the daemon runs it; 'in-process': on this thread. */
  solver?: 'worker' | 'in-process';
  /** Called after each memory sample (progress). */
  onSample?: (p: RealSoakResult['points'][number], cycles: number, outcomes: Record<string, number>) => void;
}

/**
 * The daemon as `numaplace run` builds it (virsh backend, solver in its worker thread, Prometheus
 * metrics scraped every cycle) against a real libvirt, one cycle every `intervalMs` of wall time.
 * Advisory by default: the test VMs are shared with other tests.
 */
export async function runRealSoak(opts: RealSoakOptions): Promise<RealSoakResult> {
  const { VirshBackend } = await import('../src/host/virsh-backend.js');
  const uri = opts.uri ?? 'qemu:///system';
  const mode = opts.mode ?? 'advisory';
  const intervalMs = opts.intervalMs ?? 2000;
  const backend = new VirshBackend({ uri, timeoutMs: 30_000 });
  const errors = newErrors();
  const registry = new Registry();
  const metrics = createMetrics(registry, { processMetrics: true });
  const daemon = new Daemon({
    backend, settings: withSettings({ mode }), logger: countingLogger(errors), stateDir: null, observer: metricsObserver(metrics),
    solve: opts.solver === 'in-process' ? async (p) => solveInProcess(p) : (solve as SolveFn),
  });
  const gc = gcFunction();
  const outcomes: Record<string, number> = {};
  const points: RealSoakResult['points'] = [];
  const times: number[] = [];
  const seen = new Set<string>();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const end = t0 + opts.minutes * 60_000;
  const sampleMs = (opts.sampleSeconds ?? 30) * 1000;
  let nextSample = t0;
  let c = 0;
  const sampleNow = () => {
    const before = process.memoryUsage().rss / 2 ** 20;
    const p = { ...memoryPoint((performance.now() - t0) / 3_600_000, gc), rssBeforeGcMiB: before, retained: retained(daemon, metrics, backend) };
    points.push(p);
    opts.onSample?.(p, c, outcomes);
  };
  try {
    await watchingUnhandled(errors, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        const r = await daemon.runCycle();
        times.push(performance.now() - s);
        c++;
        inc(outcomes, r.outcome);
        tally(errors, r);
        for (const v of r.sample?.vms ?? []) seen.add(v.name);
        for (const v of r.sample?.skipped ?? []) seen.add(v.vm);
        await registry.metrics(); // what a Prometheus scrape does
        if (performance.now() >= nextSample) {
          sampleNow();
          nextSample = performance.now() + sampleMs;
        }
        await new Promise((res) => setTimeout(res, Math.max(0, s + intervalMs - performance.now())));
      }
      sampleNow();
    });
  } finally {
    await backend.close();
  }
  const trend = memoryTrend(points);
  return {
    scenario: `real ${uri} (${mode})`,
    uri,
    mode,
    intervalMs,
    solver: opts.solver ?? 'worker',
    startedAt,
    cycles: c,
    outcomes,
    errors,
    stepsApplied: daemon.counters.stepsApplied,
    memory: {
      samples: points.length,
      fittedOn: trend.samples,
      start: trend.start,
      end: trend.end,
      maxRssMiB: Math.max(...points.map((p) => p.rssBeforeGcMiB)),
      rssMiBPerHour: trend.rssSlope,
      heapMiBPerHour: trend.heapSlope,
    },
    cycleMs: cycleThirds(times),
    vmsSeen: { count: seen.size, names: [...seen].sort() },
    points,
    wallSeconds: (performance.now() - t0) / 1000,
  };
}

/** Unhandled errors or failed cycles make a soak fail; so does a live heap that keeps growing. */
export const LIMITS = { heapMiBPer10kCycles: 1, heapMiBPerHour: 2 } as const;

function failures(r: SoakResult | RealSoakResult): string[] {
  const out: string[] = [];
  const e = r.errors;
  if (e.unhandledRejections + e.uncaughtExceptions > 0) out.push(`${e.unhandledRejections} unhandled rejections, ${e.uncaughtExceptions} uncaught exceptions`);
  const cycleErrors = Object.values(e.cycleErrors).reduce((a, b) => a + b, 0);
  if (cycleErrors > 0) out.push(`${cycleErrors} cycles failed`);
  if ('heapMiBPer10kCycles' in r.memory && r.memory.heapMiBPer10kCycles > LIMITS.heapMiBPer10kCycles) out.push(`live heap grows ${r.memory.heapMiBPer10kCycles.toFixed(3)} MiB/10k cycles (limit ${LIMITS.heapMiBPer10kCycles})`);
  if ('heapMiBPerHour' in r.memory && r.memory.heapMiBPerHour > LIMITS.heapMiBPerHour) out.push(`live heap grows ${r.memory.heapMiBPerHour.toFixed(3)} MiB/hour (limit ${LIMITS.heapMiBPerHour})`);
  return out;
}

function table(r: SoakResult | RealSoakResult): string {
  const m = r.memory;
  const perHour = 'rssMiBPerHour' in m;
  const unit = perHour ? 'MiB/hour' : 'MiB/10k cycles';
  const rows: [string, string][] = [
    ['run', `${r.scenario}, ${r.cycles} cycles in ${(r.wallSeconds / 60).toFixed(1)} min`],
    ['outcomes', JSON.stringify(r.outcomes)],
    ['unhandled', `${r.errors.unhandledRejections} rejections, ${r.errors.uncaughtExceptions} exceptions`],
    ['cycle/host errors', `${JSON.stringify(r.errors.cycleErrors)} / ${JSON.stringify(r.errors.hostErrors)}`],
    ['VMs skipped (by error)', JSON.stringify(r.errors.vmsSkipped)],
    ['logged errors', JSON.stringify(r.errors.loggedErrors)],
    ['steps applied / failed', `${r.stepsApplied} / ${JSON.stringify(r.errors.stepsFailed)}`],
    ['RSS start -> end (max)', `${m.start.rssMiB.toFixed(1)} -> ${m.end.rssMiB.toFixed(1)} MiB (${m.maxRssMiB.toFixed(1)})`],
    ['post-GC heap start -> end', `${m.start.heapMiB.toFixed(2)} -> ${m.end.heapMiB.toFixed(2)} MiB`],
    [`RSS slope (2nd half)`, `${(perHour ? m.rssMiBPerHour : (m as SoakResult['memory']).rssMiBPer10kCycles).toFixed(3)} ${unit}`],
    [`post-GC heap slope (2nd half)`, `${(perHour ? m.heapMiBPerHour : (m as SoakResult['memory']).heapMiBPer10kCycles).toFixed(3)} ${unit}`],
    ['cycle ms, first third', JSON.stringify(r.cycleMs.firstThird)],
    ['cycle ms, last third', JSON.stringify(r.cycleMs.lastThird)],
  ];
  if ('vmsSeen' in r) rows.push(['VMs seen', `${r.vmsSeen.count}`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

const HELP = `usage: node --expose-gc dist/benchmarks/soak.js [options]   (npm run bench:soak -- [options])

Simulated host (default): the daemon in apply mode for --cycles cycles of changing load.
  --cycles N           cycles (default 100000)
  --scenario NAME      simulated scenario (default gen-2x8-8)
  --samples N          memory samples over the run, each after a forced GC (default 200)
  --out FILE           default benchmarks/results/soak.json
Real host (--real): the daemon as \`numaplace run\` builds it against libvirt, for --minutes of wall time.
  --minutes M          default 30
  --interval-ms MS     cycle start to cycle start (default 2000; the daemon's own schedule is 10 s)
  --uri URI            default qemu:///system
  --mode MODE          advisory (default: the test VMs are shared) or apply
  --sample-seconds S   seconds between memory samples (default 30)
  --solver WHERE       worker (default: as the daemon runs it, in a worker thread) or in-process
  --out FILE           default benchmarks/results/soak-real.json
Exit 1 on unhandled errors, failed cycles, or a post-GC heap slope over ${LIMITS.heapMiBPer10kCycles} MiB/10k cycles
(simulated) or ${LIMITS.heapMiBPerHour} MiB/hour (real).
`;

async function cli(): Promise<number> {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean', default: false },
      cycles: { type: 'string', default: '100000' },
      scenario: { type: 'string', default: 'gen-2x8-8' },
      samples: { type: 'string', default: '200' },
      real: { type: 'boolean', default: false },
      minutes: { type: 'string', default: '30' },
      'interval-ms': { type: 'string', default: '2000' },
      uri: { type: 'string', default: 'qemu:///system' },
      mode: { type: 'string', default: 'advisory' },
      'sample-seconds': { type: 'string', default: '30' },
      solver: { type: 'string', default: 'worker' },
      out: { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const num = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} ${JSON.stringify(v)} must be a positive number`);
    return n;
  };
  let r: SoakResult | RealSoakResult;
  let out: string;
  if (values.real) {
    if (values.mode !== 'advisory' && values.mode !== 'apply') throw new Error(`--mode ${JSON.stringify(values.mode)} must be advisory or apply`);
    if (values.solver !== 'worker' && values.solver !== 'in-process') throw new Error(`--solver ${JSON.stringify(values.solver)} must be worker or in-process`);
    out = values.out ?? 'benchmarks/results/soak-real.json';
    r = await runRealSoak({
      minutes: num('minutes', values.minutes), intervalMs: num('interval-ms', values['interval-ms']), uri: values.uri, mode: values.mode,
      sampleSeconds: num('sample-seconds', values['sample-seconds']), solver: values.solver,
      onSample: (p, cycles, outcomes) => console.error(`${new Date().toISOString()} cycle ${cycles} ${JSON.stringify(outcomes)}: rss ${p.rssBeforeGcMiB.toFixed(1)} MiB (after GC ${p.rssMiB.toFixed(1)}), anon ${p.rssAnonMiB?.toFixed(1)} file ${p.rssFileMiB?.toFixed(1)}, live heap ${p.heapMiB.toFixed(2)} MiB (heapTotal ${p.heapTotalMiB.toFixed(1)}), ${JSON.stringify(p.retained)}`),
    });
  } else {
    out = values.out ?? 'benchmarks/results/soak.json';
    r = await runSoak({ cycles: num('cycles', values.cycles), scenario: values.scenario, samples: num('samples', values.samples) });
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(r, null, 2) + '\n');
  console.log(table(r));
  const bad = failures(r);
  for (const b of bad) console.log(`FAIL: ${b}`);
  console.log(`(written to ${out})`);
  return bad.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli().then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(`soak: ${e.message}`);
      process.exit(2);
    },
  );
}
