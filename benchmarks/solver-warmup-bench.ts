/**
 * npm run bench:solver:warmup — the first solve of a fresh process, with and without warmUp()
 * (what the daemon calls at start), side by side. Each run is a new node process (a cold worker
 * and a cold main thread, as at daemon start): `cold` solves the instance at once, `warm` calls
 * warmUp() first. Runs alternate cold / warm so both see the same machine load. Per instance and
 * mode: first-solve wall ms (median, max), runs stopped by the time guard, distinct answers.
 * Prints a table and writes benchmarks/results/solver-warmup.json (-MSms.json with --time-limit).
 * With --time-limit long enough that every solve ends on its effort budget, CPU ms compare the
 * optimised code with the cold one whatever the machine load (the answers are then identical).
 *   node dist/benchmarks/solver-warmup-bench.js [--runs N] [--only NAME,...] [--time-limit MS]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { solve, warmUp } from '../solver/index.js';
import { fingerprint } from './hard-bench.js';
import { HARD_FAMILIES, makeHardInstance, type HardFamily } from './hard-instances.js';

type Mode = 'cold' | 'warm';
interface Run { mode: Mode; warmUpMs: number; ms: number; cpuMs: number; objective: number | null; answer: string; guardHit: boolean }

/** One first solve in this (fresh) process: the child side. */
async function child(name: string, mode: Mode, timeLimitMs: number | undefined): Promise<Run> {
  const [family, seed] = name.split('-');
  const problem = makeHardInstance({ family: family as HardFamily, seed: Number(seed) });
  if (timeLimitMs) problem.options = { ...problem.options, timeLimitMs };
  const warmUpMs = mode === 'warm' ? await warmUp() : 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const p = await solve(problem);
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { mode, warmUpMs, ms, cpuMs: (c.user + c.system) / 1000, objective: p.objective ?? null, answer: fingerprint(p), guardHit: /time guard|deadline/.test(p.reason ?? '') };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(argv: string[]) {
  const ci = argv.indexOf('--child');
  if (ci >= 0) {
    process.stdout.write(JSON.stringify(await child(argv[ci + 1], argv[ci + 2] as Mode, Number(argv[ci + 3]) || undefined)) + '\n');
    return;
  }
  const ri = argv.indexOf('--runs');
  const oi = argv.indexOf('--only');
  const ti = argv.indexOf('--time-limit');
  const timeLimitMs = ti >= 0 ? Number(argv[ti + 1]) : 0;
  const runs = ri >= 0 ? Number(argv[ri + 1]) : 3;
  const names = oi >= 0 ? argv[oi + 1].split(',') : ['cxl-1', 'cxl-2', 'starved-1', 'big-1'];
  for (const n of names) if (!HARD_FAMILIES.includes(n.split('-')[0] as HardFamily)) throw new Error(`--only: ${n} is not a hard instance (family-seed, e.g. cxl-1)`);
  const load0 = loadavg();
  const rows = [];
  process.stdout.write(`first solve of a fresh process, deadline ${timeLimitMs || 'default (1000)'} ms, ${runs} runs per mode, ${cpus().length} CPUs, load average ${load0.map((x) => x.toFixed(1)).join(' ')}\n`);
  process.stdout.write('| instance | mode | first solve ms: median / max | CPU ms (median) | warm-up ms (median) | time guard hit | distinct answers | objectives |\n|---|---|---|---|---|---|---|---|\n');
  for (const name of names) {
    const byMode: Record<Mode, Run[]> = { cold: [], warm: [] };
    for (let r = 0; r < runs; r++) {
      for (const mode of ['cold', 'warm'] as const) {
        const stdout = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', name, mode, String(timeLimitMs)], { encoding: 'utf8', timeout: 120_000 });
        byMode[mode].push(JSON.parse(stdout.trim().split('\n').pop()!) as Run);
      }
    }
    for (const mode of ['cold', 'warm'] as const) {
      const rs = byMode[mode];
      const row = {
        name, mode, runs: rs.length, medianMs: median(rs.map((r) => r.ms)), maxMs: Math.max(...rs.map((r) => r.ms)), medianCpuMs: median(rs.map((r) => r.cpuMs)),
        warmUpMs: median(rs.map((r) => r.warmUpMs)), guardHits: rs.filter((r) => r.guardHit).length,
        distinctAnswers: new Set(rs.map((r) => r.answer)).size, objectives: [...new Set(rs.map((r) => r.objective?.toFixed(2) ?? 'none'))], all: rs,
      };
      rows.push(row);
      process.stdout.write(`| ${name} | ${mode} | ${row.medianMs.toFixed(0)} / ${row.maxMs.toFixed(0)} | ${row.medianCpuMs.toFixed(0)} | ${mode === 'warm' ? row.warmUpMs.toFixed(0) : '-'} | ${row.guardHits}/${row.runs} | ${row.distinctAnswers} | ${row.objectives.join(', ')} |\n`);
    }
  }
  const out = `benchmarks/results/solver-warmup${timeLimitMs ? `-${timeLimitMs}ms` : ''}.json`;
  mkdirSync('benchmarks/results', { recursive: true });
  writeFileSync(out, JSON.stringify({ when: new Date().toISOString(), node: process.version, cpus: cpus().length, loadAverage: { start: load0, end: loadavg() }, timeLimitMs: timeLimitMs || 1000, runs, rows }, null, 2) + '\n');
  process.stdout.write(`wrote ${out}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main(process.argv.slice(2));
