/**
 * Soak: the daemon (real loop, solver, planner, executor, hot-plug) against the simulated host for
 * many cycles of changing load in simulated time. Reports resident memory trend (least-squares
 * slope, MiB per 10k cycles, over samples after a warm-up), cycle time per block, and errors.
 *
 *   npm run bench:soak                      # 100,000 cycles, writes benchmarks/results/soak.json
 *   npm run bench:soak -- --cycles 20000 --scenario gen-2x8-8
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Daemon } from '../src/daemon/loop.js';
import { memoryLogger } from '../src/daemon/log.js';
import { withSettings } from '../src/daemon/settings.js';
import { createSimulatedBackend } from '../src/host/simulated/index.js';
import { solveInProcess } from '../solver/solve.js';

export interface SoakResult {
  scenario: string;
  cycles: number;
  outcomes: Record<string, number>;
  errors: string[];
  unhandled: number;
  stepsApplied: number;
  rssMiB: { first: number; last: number; max: number };
  memoryTrendMiBPer10kCycles: number;
  heapTrendMiBPer10kCycles: number;
  /** Mean cycle wall time (ms) per tenth of the run. */
  cycleMsByTenth: number[];
  wallSeconds: number;
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export async function runSoak(opts: { cycles: number; scenario?: string; sampleEvery?: number }): Promise<SoakResult> {
  const scenario = opts.scenario ?? 'gen-2x8-8';
  const backend = createSimulatedBackend(scenario);
  const logger = memoryLogger();
  const settings = withSettings({ mode: 'apply', churn: { holdCycles: 2, cooldownCycles: 3 } });
  const daemon = new Daemon({ backend, settings, logger, stateDir: null, solve: async (p) => solveInProcess(p, { timeLimitMs: 200 }) });
  let unhandled = 0;
  const onUnhandled = () => unhandled++;
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  const outcomes: Record<string, number> = {};
  const errors: string[] = [];
  const every = opts.sampleEvery ?? Math.max(1, Math.floor(opts.cycles / 200));
  const xs: number[] = [];
  const rss: number[] = [];
  const heap: number[] = [];
  const tenth = Math.max(1, Math.floor(opts.cycles / 10));
  const blockMs: number[] = [];
  let blockStart = performance.now();
  const t0 = performance.now();
  try {
    for (let c = 1; c <= opts.cycles; c++) {
      const r = await daemon.runCycle();
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      if ((r.outcome === 'error' || r.outcome === 'host-error') && errors.length < 20) errors.push(r.error ?? '?');
      // The memory logger keeps every line: a test double, not the daemon; keep it from growing.
      (logger as unknown as { lines: string[] }).lines.length = 0;
      if (c % every === 0) {
        const m = process.memoryUsage();
        xs.push(c);
        rss.push(m.rss / 2 ** 20);
        heap.push(m.heapUsed / 2 ** 20);
      }
      if (c % tenth === 0) {
        const now = performance.now();
        blockMs.push((now - blockStart) / tenth);
        blockStart = now;
      }
    }
  } finally {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
  }
  // Trend after the first fifth (JIT, caches and the solver's pools settle).
  const from = Math.floor(xs.length / 5);
  return {
    scenario,
    cycles: opts.cycles,
    outcomes,
    errors,
    unhandled,
    stepsApplied: daemon.counters.stepsApplied,
    rssMiB: { first: rss[0] ?? 0, last: rss[rss.length - 1] ?? 0, max: Math.max(0, ...rss) },
    memoryTrendMiBPer10kCycles: slope(xs.slice(from), rss.slice(from)) * 10_000,
    heapTrendMiBPer10kCycles: slope(xs.slice(from), heap.slice(from)) * 10_000,
    cycleMsByTenth: blockMs.map((x) => Math.round(x * 1000) / 1000),
    wallSeconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Real-VM soak: the daemon against qemu:///system (the numaplace-test-* VMs and whatever else runs)
 * in advisory mode (other tests share these VMs), one cycle every `intervalMs` of wall time.
 */
export async function runRealSoak(opts: { minutes: number; intervalMs?: number; uri?: string }): Promise<Omit<SoakResult, 'cycleMsByTenth' | 'heapTrendMiBPer10kCycles'> & { cycleMs: { mean: number; p95: number; max: number }; memoryTrendMiBPerHour: number }> {
  const { VirshBackend } = await import('../src/host/virsh-backend.js');
  const backend = new VirshBackend({ uri: opts.uri ?? 'qemu:///system', timeoutMs: 30_000 });
  const logger = memoryLogger();
  const daemon = new Daemon({ backend, settings: withSettings({ mode: 'advisory' }), logger, stateDir: null, solve: async (p) => solveInProcess(p, { timeLimitMs: 500 }) });
  let unhandled = 0;
  const onUnhandled = () => unhandled++;
  process.on('unhandledRejection', onUnhandled);
  const outcomes: Record<string, number> = {};
  const errors: string[] = [];
  const xs: number[] = [];
  const rss: number[] = [];
  const times: number[] = [];
  const t0 = performance.now();
  const end = t0 + opts.minutes * 60_000;
  let c = 0;
  try {
    while (performance.now() < end) {
      const s = performance.now();
      const r = await daemon.runCycle();
      times.push(performance.now() - s);
      c++;
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      if ((r.outcome === 'error' || r.outcome === 'host-error') && errors.length < 20) errors.push(r.error ?? '?');
      (logger as unknown as { lines: string[] }).lines.length = 0;
      xs.push((performance.now() - t0) / 3_600_000);
      rss.push(process.memoryUsage().rss / 2 ** 20);
      await new Promise((res) => setTimeout(res, opts.intervalMs ?? 2000));
    }
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await backend.close();
  }
  const from = Math.floor(xs.length / 5);
  const sorted = [...times].sort((a, b) => a - b);
  const hourSlope = slope(xs.slice(from), rss.slice(from));
  return {
    scenario: 'real qemu:///system (advisory)',
    cycles: c,
    outcomes,
    errors,
    unhandled,
    stepsApplied: daemon.counters.stepsApplied,
    rssMiB: { first: rss[0] ?? 0, last: rss[rss.length - 1] ?? 0, max: Math.max(0, ...rss) },
    memoryTrendMiBPer10kCycles: c > 0 ? (hourSlope * (xs[xs.length - 1] ?? 0) / c) * 10_000 : 0,
    memoryTrendMiBPerHour: hourSlope,
    cycleMs: { mean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length), p95: sorted[Math.floor(sorted.length * 0.95)] ?? 0, max: sorted[sorted.length - 1] ?? 0 },
    wallSeconds: (performance.now() - t0) / 1000,
  };
}

async function cli(): Promise<void> {
  const { values } = parseArgs({ options: { cycles: { type: 'string', default: '100000' }, scenario: { type: 'string', default: 'gen-2x8-8' }, real: { type: 'boolean', default: false }, minutes: { type: 'string', default: '30' } } });
  if (values.real) {
    const r = await runRealSoak({ minutes: Number(values.minutes) });
    mkdirSync('benchmarks/results', { recursive: true });
    writeFileSync('benchmarks/results/soak-real.json', JSON.stringify(r, null, 2) + '\n');
    console.log(JSON.stringify(r, null, 2));
    process.exit(r.unhandled === 0 && (r.outcomes.error ?? 0) === 0 ? 0 : 1);
  }
  const r = await runSoak({ cycles: Number(values.cycles), scenario: values.scenario });
  mkdirSync('benchmarks/results', { recursive: true });
  writeFileSync('benchmarks/results/soak.json', JSON.stringify(r, null, 2) + '\n');
  console.log(JSON.stringify(r, null, 2));
  const ok = r.unhandled === 0 && (r.outcomes.error ?? 0) === 0 && r.memoryTrendMiBPer10kCycles < 1;
  process.exit(ok ? 0 : 1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void cli();
