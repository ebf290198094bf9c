/**
 * `npm run bench:solver [-- --quick | --full]`: solver speed and quality on seeded
 * instances (benchmarks/instances.ts), against the exact optimum of the same model
 * from HiGHS and against the numad-style and no-pinning baselines.
 * Prints a table and writes benchmarks/results/solver.json.
 *
 * Per instance: solve() (worker, as the daemon calls it) several times: median and
 * max wall time; quality (the contract measure) and objective (+ move costs); our
 * proven gap (objective vs our own lower bound); the true gap to HiGHS's optimum
 * (when HiGHS proved it within its time limit); the baselines' excess over all-local.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeInstance, type InstanceSpec } from './instances.js';
import { hardTargets, runHardBench, timedSolves, type HardRow } from './hard-bench.js';
import { exactOptimum, type ExactResult } from './highs-exact.js';
import { numadBaseline, noPinningBaseline, type BaselineResult } from '../solver/baselines.js';
import { allLocalCost } from '../src/core/quality.js';
import { solve } from '../solver/solve.js';
import type { Placement, Problem } from '../solver/types.js';
import { evaluate, verify } from '../solver/verify.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Row {
  topology: string;
  vms: number;
  current: boolean;
  seed: number;
  loadFraction: number;
  runs: number;
  medianMs: number;
  maxMs: number;
  /** CPU time of the whole process (all threads) per solve, median: wall time minus waiting for the 2 shared cores. */
  medianCpuMs: number;
  status: string;
  method: string;
  quality: number;
  objective: number;
  allLocal: number;
  provenGap: number | null;
  highs: { objective: number | null; proven: boolean; status: string; ms: number } | null;
  /** (ours - optimum) / optimum, objective incl. move costs; null when HiGHS had no proven optimum. */
  trueGap: number | null;
  /** Same, on the excess over all-local (the part placement can change). */
  trueExcessGap: number | null;
  numadExcess: number;
  numadObjective: number;
  noPinningExcess: number;
  /** 1 - ours/numad on the objective's excess over all-local (move costs included for both). */
  vsNumad: number | null;
  moves: { vcpus: number; memoryMiB: number };
  violations: number;
}

function baselineObjective(problem: Problem, b: BaselineResult): number {
  const placement: Placement = {
    status: 'feasible',
    vms: problem.vms.map((vm, v) => ({
      name: vm.name,
      vcpus: b.placed[v].vcpuNodes.slice(0, vm.vcpus).map((node, i) => ({ vcpu: i, node, cpuset: '' })),
      emulator: { cpuset: '' },
      memory: { nodeset: '', MiB: b.placed[v].memoryMiB },
    })),
  };
  // quality from the baseline itself (no-pinning splits vCPUs), move costs from evaluate()
  const ev = evaluate(problem, placement);
  return b.quality + (ev.objective - ev.quality);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function benchOne(spec: InstanceSpec, runs: number, highsLimitS: number, maxHighsColumns: number): Promise<Row> {
  const problem = makeInstance(spec);
  const { times, cpu, placements } = await timedSolves(problem, runs);
  const p = placements[placements.length - 1];
  const allLocal = allLocalCost(problem.vms);
  const violations = p.status === 'infeasible' ? 0 : verify(problem, p).length;
  const nodes = problem.topology.nodes.length;
  let highs: ExactResult | undefined;
  if (problem.vms.length * nodes * nodes <= maxHighsColumns) highs = await exactOptimum(problem, highsLimitS);
  const numad = numadBaseline(problem);
  const none = noPinningBaseline(problem);
  const numadObjective = baselineObjective(problem, numad);
  const objective = p.objective ?? NaN;
  const opt = highs?.proven && highs.objective !== undefined ? highs.objective : undefined;
  const ourExcess = objective - allLocal;
  const numadExcess = numadObjective - allLocal;
  return {
    topology: spec.topology, vms: spec.vms, current: spec.withCurrent, seed: spec.seed, loadFraction: spec.loadFraction,
    runs, medianMs: median(times), maxMs: Math.max(...times), medianCpuMs: median(cpu),
    status: p.status, method: p.method ?? '', quality: p.cost ?? NaN, objective, allLocal,
    provenGap: p.gap ?? null,
    highs: highs ? { objective: highs.objective ?? null, proven: highs.proven, status: highs.status, ms: Math.round(highs.ms) } : null,
    trueGap: opt !== undefined ? (objective - opt) / opt : null,
    trueExcessGap: opt !== undefined ? (opt - allLocal > 1e-9 ? (objective - opt) / (opt - allLocal) : objective - opt > 1e-9 ? Infinity : 0) : null,
    numadExcess: numad.excess, numadObjective, noPinningExcess: none.excess,
    vsNumad: p.status !== 'infeasible' && numadExcess > 1e-9 ? 1 - ourExcess / numadExcess : null,
    moves: p.moves ?? { vcpus: 0, memoryMiB: 0 },
    violations,
  };
}

/** Solver memory at 1024 VMs on 16 nodes: peak RSS of a separate process that does only that solve. */
function memoryProbe(): number | null {
  try {
    const out = execFileSync(process.execPath, [join(here, 'solver-bench.js'), '--memory-probe'], { encoding: 'utf8', timeout: 60000 });
    return Number(out.trim().split('\n').pop());
  } catch {
    return null;
  }
}

export interface SolverBenchOptions {
  quick?: boolean;
  full?: boolean;
  out?: string;
  /** Only the hard families (issue 14), or none of them. */
  hardOnly?: boolean;
  noHard?: boolean;
  /** Families or instance names to run (hard families only). */
  only?: string[];
  /** Deadline of the hard instances' solves (default: solve()'s default, 1000 ms). */
  hardTimeLimitMs?: number;
}

export async function runSolverBench(opts: SolverBenchOptions = {}): Promise<{ rows: Row[]; targets: Record<string, unknown> }> {
  const seeds = opts.full ? [1, 2, 3, 4, 5] : opts.quick ? [1] : [1, 2];
  const runs = opts.quick ? 2 : 3;
  const sizes: [string, number][] = opts.quick
    ? [['2x8', 16], ['4x16', 64], ['8x16', 256], ['16x16', 1024]]
    : [['2x8', 8], ['2x8', 32], ['4x16', 16], ['4x16', 64], ['8x16', 32], ['8x16', 128], ['8x16', 256], ['16x16', 256], ['16x16', 1024]];
  const rows: Row[] = [];
  const log = (s: string) => process.stdout.write(s);
  if (opts.hardOnly) {
    log(`solver bench, hard families: ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
    const hard = await runHardBench(opts.quick ? 2 : 3, log, opts.only, opts.hardTimeLimitMs);
    const targets = hardTargets(hard);
    log('\n' + Object.entries(targets).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n');
    const out = opts.out ?? `benchmarks/results/solver-hard${opts.hardTimeLimitMs ? `-${opts.hardTimeLimitMs}ms` : ''}.json`;
    writeFileSync(out, JSON.stringify({ when: new Date().toISOString(), node: process.version, loadAverage: loadavg(), cpus: cpus().length, mode: 'hard', timeLimitMs: opts.hardTimeLimitMs ?? 1000, hard, targets }, null, 2) + '\n');
    log(`wrote ${out}\n`);
    return { rows: [], targets };
  }
  process.stdout.write(`solver bench (${opts.full ? 'full' : opts.quick ? 'quick' : 'default'}): ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
  process.stdout.write(header());
  for (const [topology, vms] of sizes) {
    for (const withCurrent of [false, true]) {
      for (const seed of seeds) {
        // 60-95% of capacity, spread over the seeds (golden-ratio steps), the same for both current variants
        const loadFraction = Math.round((0.6 + 0.35 * ((seed * 0.618034 + vms * 0.137) % 1)) * 100) / 100;
        const spec: InstanceSpec = { topology, vms, loadFraction, memoryFraction: 0.9, withCurrent, seed, timeLimitMs: vms >= 1024 ? 2000 : 1000 };
        const row = await benchOne(spec, runs, opts.full ? 30 : 6, opts.full ? 70_000 : 40_000);
        rows.push(row);
        process.stdout.write(line(row));
      }
    }
  }
  let hard: HardRow[] = [];
  if (!opts.noHard) {
    log(`\nhard families (issue 14; references in benchmarks/hard-references.json), load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}:\n`);
    hard = await runHardBench(opts.quick ? 2 : 3, log, opts.only);
  }
  const mem = memoryProbe();
  const targets = { ...evaluateTargets(rows, mem), ...(hard.length ? hardTargets(hard) : {}) };
  process.stdout.write('\n' + Object.entries(targets).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n');
  const out = opts.out ?? (opts.quick ? 'benchmarks/results/solver-quick.json' : 'benchmarks/results/solver.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ when: new Date().toISOString(), node: process.version, loadAverage: loadavg(), cpus: cpus().length, mode: opts.full ? 'full' : opts.quick ? 'quick' : 'default', rows, hard, targets }, null, 2) + '\n');
  process.stdout.write(`wrote ${out}\n`);
  return { rows, targets };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : !Number.isFinite(x) ? 'inf' : `${(x * 100).toFixed(2)}%`);

function header(): string {
  return ['topo', 'VMs', 'cur', 'load', 'med ms', 'max ms', 'cpu ms', 'status', 'objective', 'all-local', 'proven gap', 'HiGHS', 'true gap', 'gap/excess', 'vs numad', 'numad exc', 'nopin exc', 'moves', 'viol']
    .map((h, i) => h.padStart(i < 3 ? 5 : 10)).join(' ') + '\n';
}

function line(r: Row): string {
  const highs = r.highs ? (r.highs.proven ? `opt ${(r.highs.ms / 1000).toFixed(1)}s` : r.highs.status === 'Infeasible' ? 'infeasible' : 'unproven') : 'not run';
  return [r.topology, String(r.vms), r.current ? 'yes' : 'no', r.loadFraction.toFixed(2), r.medianMs.toFixed(0), r.maxMs.toFixed(0), r.medianCpuMs.toFixed(0), r.status,
    r.objective.toFixed(1), r.allLocal.toFixed(1), pct(r.provenGap), highs, pct(r.trueGap), pct(r.trueExcessGap), pct(r.vsNumad),
    r.numadExcess.toFixed(1), r.noPinningExcess.toFixed(1), `${r.moves.vcpus}/${r.moves.memoryMiB}`, String(r.violations)]
    .map((c, i) => c.padStart(i < 3 ? 5 : 10)).join(' ') + '\n';
}

function evaluateTargets(rows: Row[], memMiB: number | null): Record<string, unknown> {
  const pick = (t: string, n: number) => rows.filter((r) => r.topology === t && r.vms === n);
  const r256 = pick('8x16', 256);
  const r1024 = pick('16x16', 1024);
  const worstGap = (rs: Row[]) => Math.max(...rs.map((r) => r.trueGap ?? r.provenGap ?? Infinity));
  const loaded = rows.filter((r) => r.loadFraction >= 0.8 && r.vsNumad !== null);
  return {
    '256 VMs on 8 nodes: median < 200 ms': { median: Math.max(...r256.map((r) => r.medianMs)), met: r256.every((r) => r.medianMs < 200) },
    '256 VMs on 8 nodes: worst < 1 s': { worst: Math.max(...r256.map((r) => r.maxMs)), met: r256.every((r) => r.maxMs < 1000) },
    '256 VMs on 8 nodes: within 1% with a proven gap': { worstProvenGap: Math.max(...r256.map((r) => r.provenGap ?? Infinity)), worstTrueGap: worstGap(r256), met: r256.every((r) => (r.provenGap ?? Infinity) <= 0.01) },
    '1024 VMs on 16 nodes: < 2 s within 2%': { worstMs: Math.max(...r1024.map((r) => r.maxMs)), worstProvenGap: Math.max(...r1024.map((r) => r.provenGap ?? Infinity)), met: r1024.every((r) => r.maxMs < 2000 && (r.provenGap ?? Infinity) <= 0.02) },
    '>= 30% better than numad in excess on loaded instances (load >= 0.8)': { worst: Math.min(...loaded.map((r) => r.vsNumad!)), median: loaded.length ? median(loaded.map((r) => r.vsNumad!)) : null, met: loaded.every((r) => r.vsNumad! >= 0.3) },
    'never worse than numad': { worst: Math.min(...rows.filter((r) => r.vsNumad !== null).map((r) => r.vsNumad!)), met: rows.every((r) => r.vsNumad === null || r.vsNumad >= 0) },
    'every answer verified': { violations: rows.reduce((s, r) => s + r.violations, 0), met: rows.every((r) => r.violations === 0) },
    'solver memory < 200 MB at 1024 VMs (peak RSS of the whole process, worker included)': { peakRssMiB: memMiB, met: memMiB !== null && memMiB < 200 },
  };
}

async function probe() {
  const problem = makeInstance({ topology: '16x16', vms: 1024, loadFraction: 0.85, memoryFraction: 0.8, withCurrent: true, seed: 1, timeLimitMs: 2000 });
  await solve(problem);
  process.stdout.write(`${Math.round(process.resourceUsage().maxRSS / 1024)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    process.stdout.write('usage: npm run bench:solver [-- --quick | --full] [--hard | --no-hard] [--only FAMILY,...]\n'
      + '  --hard     only the hard families (benchmarks/hard-instances.ts) against benchmarks/hard-references.json; writes benchmarks/results/solver-hard.json\n'
      + '  --no-hard  skip them\n'
      + '  --time-limit MS  deadline of the hard solves (default 1000): a longer one shows the effort-bound answer on a loaded machine\n');
  } else if (argv.includes('--memory-probe')) {
    await probe();
  } else {
    const oi = argv.indexOf('--only');
    const ti = argv.indexOf('--time-limit');
    await runSolverBench({ quick: argv.includes('--quick'), full: argv.includes('--full'), hardOnly: argv.includes('--hard'), noHard: argv.includes('--no-hard'), only: oi >= 0 ? argv[oi + 1].split(',') : undefined, hardTimeLimitMs: ti >= 0 ? Number(argv[ti + 1]) : undefined });
  }
}
