/**
 * The hard families of `npm run bench:solver` (issue 14): each instance of
 * benchmarks/hard-instances.ts solved by solve() (worker, default deadline) several
 * times; compared with its stored HiGHS reference (benchmarks/hard-references.json,
 * computed once by dist/benchmarks/hard-references.js); the gap in total cost and in
 * excess over all-local; whether every run gave the identical placement.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { allLocalCost } from '../src/core/quality.js';
import { solve } from '../solver/solve.js';
import type { Placement, Problem } from '../solver/types.js';
import { verify } from '../solver/verify.js';
import { HARD_FAMILIES, hardName, hardSpecs, makeHardInstance } from './hard-instances.js';
import { bestKnown, loadReferences } from './hard-references.js';

/** `runs` solves of one problem, each timed in wall and CPU milliseconds (shared with solver-bench). */
export async function timedSolves(problem: Problem, runs: number): Promise<{ times: number[]; cpu: number[]; placements: Placement[] }> {
  const times: number[] = [];
  const cpu: number[] = [];
  const placements: Placement[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    placements.push(await solve(problem));
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { times, cpu, placements };
}

export interface HardRow {
  name: string;
  family: string;
  seed: number;
  vms: number;
  nodes: number;
  runs: number;
  medianMs: number;
  maxMs: number;
  medianCpuMs: number;
  status: string;
  method: string;
  objective: number;
  allLocal: number;
  /** Best known: HiGHS's answer (or ours, when better), its bound, and whether HiGHS proved it. */
  best: number | null;
  bestSource: string;
  referenceStatus: string;
  referenceBound: number | null;
  /** (ours - best) / best. */
  gap: number | null;
  /** (ours - best) / (best - all-local). */
  excessGap: number | null;
  /** Every run returned the same placement (vCPU nodes and memory, byte for byte). */
  deterministic: boolean;
  distinctAnswers: number;
  /** Some run was stopped by the time guard rather than its effort budget. */
  guardHit: boolean;
  violations: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** What identifies an answer: status, vCPU nodes, memory and cells of every VM (hashed). */
export function fingerprint(p: Placement): string {
  return createHash('sha256').update(JSON.stringify({ s: p.status, v: p.vms.map((v) => [v.name, v.vcpus.map((c) => c.node), v.memory.MiB, v.cells]) })).digest('hex').slice(0, 12);
}

export async function runHardBench(runs: number, log: (s: string) => void, only?: string[], timeLimitMs?: number): Promise<HardRow[]> {
  const refs = loadReferences();
  const rows: HardRow[] = [];
  log(hardHeader());
  for (const spec of hardSpecs()) {
    const name = hardName(spec);
    if (only && !only.includes(spec.family) && !only.includes(name)) continue;
    const problem = makeHardInstance(spec);
    if (timeLimitMs) problem.options = { ...problem.options, timeLimitMs };
    const { times, cpu, placements } = await timedSolves(problem, runs);
    const prints = new Set(placements.map(fingerprint));
    const guardHit = placements.some((x) => /time guard|deadline/.test(x.reason ?? ''));
    const p = placements[placements.length - 1];
    const ref = refs[name];
    const allLocal = allLocalCost(problem.vms);
    const objective = p.objective ?? NaN;
    let { best, source: bestSource } = bestKnown(ref);
    if (best !== null && objective < best - 1e-6) {
      best = objective;
      bestSource = 'this run (better than the stored reference)';
    }
    const gap = best !== null ? (objective - best) / best : null;
    const excessGap = best !== null ? (best - allLocal > 1e-9 ? (objective - best) / (best - allLocal) : objective - best > 1e-6 ? Infinity : 0) : null;
    const row: HardRow = {
      name, family: spec.family, seed: spec.seed, vms: problem.vms.length, nodes: problem.topology.nodes.length, runs,
      medianMs: median(times), maxMs: Math.max(...times), medianCpuMs: median(cpu),
      status: p.status, method: p.method ?? '', objective, allLocal, best, bestSource,
      referenceStatus: ref?.status ?? 'none', referenceBound: ref?.bound ?? null,
      gap, excessGap, deterministic: prints.size === 1, distinctAnswers: prints.size, guardHit,
      violations: p.status === 'infeasible' ? 0 : verify(problem, p).length,
    };
    rows.push(row);
    log(hardLine(row));
  }
  return rows;
}

const pct = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '-' : !Number.isFinite(x) ? 'inf' : `${(x * 100).toFixed(d)}%`);

function hardHeader(): string {
  return ['instance', 'VMs', 'nodes', 'med ms', 'max ms', 'cpu ms', 'status', 'objective', 'all-local', 'best known', 'source', 'gap', 'gap/excess', 'determ.', 'viol']
    .map((h, i) => (i === 0 || i === 10 ? h.padEnd(i === 0 ? 14 : 16) : h.padStart(10))).join(' ') + '\n';
}

function hardLine(r: HardRow): string {
  const src = r.bestSource.startsWith('HiGHS optimum') ? 'HiGHS opt' : r.bestSource.startsWith('HiGHS best') ? 'HiGHS best' : r.bestSource.startsWith('numaplace') ? 'ours (long)' : r.bestSource.startsWith('this run') ? 'this run' : 'none';
  return [r.name.padEnd(14), String(r.vms), String(r.nodes), r.medianMs.toFixed(0), r.maxMs.toFixed(0), r.medianCpuMs.toFixed(0), r.status, r.objective.toFixed(2), r.allLocal.toFixed(2),
    r.best?.toFixed(2) ?? '-', src.padEnd(16), pct(r.gap, 3), pct(r.excessGap, 1), r.deterministic ? 'yes' : `NO (${r.distinctAnswers})`, String(r.violations)]
    .map((c, i) => (i === 0 || i === 10 ? c : c.padStart(10))).join(' ') + '\n';
}

export function hardTargets(rows: HardRow[]): Record<string, unknown> {
  const gaps = rows.map((r) => r.gap ?? Infinity);
  const starved = rows.filter((r) => r.family === 'starved');
  const perFamily = Object.fromEntries(HARD_FAMILIES.map((f) => {
    const rs = rows.filter((r) => r.family === f);
    return [f, { medianMs: rs.length ? median(rs.map((r) => r.medianMs)) : null, maxMs: rs.length ? Math.max(...rs.map((r) => r.maxMs)) : null, medianCpuMs: rs.length ? median(rs.map((r) => r.medianCpuMs)) : null, worstGap: rs.length ? Math.max(...rs.map((r) => r.gap ?? Infinity)) : null, worstExcessGap: rs.length ? Math.max(...rs.map((r) => r.excessGap ?? Infinity)) : null, deterministic: rs.every((r) => r.deterministic) }];
  }));
  return {
    'hard: every instance within 1% of the best known total': { worst: Math.max(...gaps), over: rows.filter((r) => (r.gap ?? Infinity) > 0.01).map((r) => `${r.name} ${pct(r.gap, 2)}`), met: gaps.every((g) => g <= 0.01) },
    'hard: median gap within 0.3%': { median: median(gaps), met: median(gaps) <= 0.003 },
    'hard: 256-VM starved case finished (not deadline-bound) in < 500 ms median': { medianMs: starved.length ? median(starved.map((r) => r.medianMs)) : null, medianCpuMs: starved.length ? median(starved.map((r) => r.medianCpuMs)) : null, guardHit: starved.some((r) => r.guardHit), met: starved.length > 0 && !starved.some((r) => r.guardHit) && median(starved.map((r) => r.medianMs)) < 500 },
    'hard: same answer run after run': { nondeterministic: rows.filter((r) => !r.deterministic).map((r) => r.name), met: rows.every((r) => r.deterministic) },
    'hard: every answer verified': { violations: rows.reduce((s, r) => s + r.violations, 0), met: rows.every((r) => r.violations === 0) },
    perFamily,
  };
}
