/**
 * Cost of the simulated host itself: how long one sample() takes (one tick: load traces, CPU
 * contention, memory migration, and the sample the daemon reads) for 1, 10, 50 and 200 VMs on the
 * 16-node, 256-CPU synthetic host (`gen-16x16-N` scenarios), and what hostMetrics() costs on top.
 * Closed-loop benchmarks step thousands of ticks per run, so this bounds how fast they can go.
 * Prints a table; writes benchmarks/results/sim.json. `--quick` measures for less time.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSimulatedBackend } from '../src/sim/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SIZES = [1, 10, 50, 200];
const TOPOLOGY = '16x16';

interface Row {
  vms: number;
  vcpus: number;
  samples: number;
  meanUs: number;
  p50Us: number;
  p95Us: number;
  samplesPerSecond: number;
  hostMetricsUs: number;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function measure(vms: number, budgetMs: number): Promise<Row> {
  const b = createSimulatedBackend(`gen-${TOPOLOGY}-${vms}`);
  for (let i = 0; i < 30; i++) await b.sample(); // warm-up: JIT, caches
  const times: number[] = [];
  let vcpus = 0;
  const end = performance.now() + budgetMs;
  while (times.length < 20 || performance.now() < end) {
    const t0 = performance.now();
    const s = await b.sample();
    times.push(performance.now() - t0);
    vcpus = s.vms.reduce((n, v) => n + v.vcpusCurrent, 0);
  }
  const metricTimes: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    b.hostMetrics();
    metricTimes.push(performance.now() - t0);
  }
  const sorted = [...times].sort((a, b2) => a - b2);
  const mean = times.reduce((a, b2) => a + b2, 0) / times.length;
  const us = (ms: number) => Math.round(ms * 1000 * 10) / 10;
  return {
    vms,
    vcpus,
    samples: times.length,
    meanUs: us(mean),
    p50Us: us(quantile(sorted, 0.5)),
    p95Us: us(quantile(sorted, 0.95)),
    samplesPerSecond: Math.round(1000 / mean),
    hostMetricsUs: us(metricTimes.sort((a, b2) => a - b2)[10]),
  };
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write('usage: node dist/benchmarks/sim-bench.js [--quick]\nTimes sample() of the simulated host for 1/10/50/200 VMs; writes benchmarks/results/sim.json.\n');
    return 0;
  }
  const budgetMs = argv.includes('--quick') ? 100 : 600;
  const rows: Row[] = [];
  for (const n of SIZES) rows.push(await measure(n, budgetMs));
  const head = ['VMs', 'vCPUs', 'samples', 'mean µs', 'p50 µs', 'p95 µs', 'samples/s', 'hostMetrics µs'];
  const lines = rows.map((r) => [r.vms, r.vcpus, r.samples, r.meanUs, r.p50Us, r.p95Us, r.samplesPerSecond, r.hostMetricsUs].map(String));
  const width = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(width[i])).join('  ');
  process.stdout.write(`simulated host, ${TOPOLOGY} (256 CPUs), gen-${TOPOLOGY}-N scenarios: cost of one sample() (one tick)\n`);
  process.stdout.write(`${fmt(head)}\n${lines.map(fmt).join('\n')}\n`);
  const out = join(ROOT, 'benchmarks', 'results', 'sim.json');
  mkdirSync(dirname(out), { recursive: true });
  const result = {
    suite: 'sim',
    what: 'wall time of SimulatedBackend.sample() (advance one tick + build the sample) and of hostMetrics()',
    topology: TOPOLOGY,
    scenarios: SIZES.map((n) => `gen-${TOPOLOGY}-${n}`),
    quick: argv.includes('--quick'),
    node: process.version,
    cpus: cpus().length,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    at: new Date().toISOString(),
    rows,
  };
  writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${out}.tmp`, out);
  process.stdout.write(`-> benchmarks/results/sim.json\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
