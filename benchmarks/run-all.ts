/**
 * `npm run bench`: every benchmark suite in sequence, each in its own Node process (so one
 * suite's heap and JIT state do not colour the next one's timings), then where the results are.
 * `--quick` is passed on to every suite.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

const SUITES: { name: string; script: string; results: string }[] = [
  { name: 'solver', script: 'solver-bench.js', results: 'benchmarks/results/solver.json' },
  { name: 'sim', script: 'sim-bench.js', results: 'benchmarks/results/sim.json' },
  // Real libvirt (root, scripts/hypervisor-up.sh), only with --libvirt: it starts VMs of its own there.
  { name: 'sampling', script: 'sampling-bench.js', results: 'benchmarks/results/sampling.json' },
  { name: 'closed-loop', script: 'closed-loop/run.js', results: 'benchmarks/results/closed-loop.json, benchmarks/results/closed-loop-*.svg' },
];

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write('usage: npm run bench [-- --quick] [-- --libvirt]\nRuns the solver, simulated-host, sampling and closed-loop suites in sequence; --quick runs a short version of each.\nThe sampling suite defines and starts VMs of its own on the live libvirt (qemu:///system): only with --libvirt.\n');
    return 0;
  }
  const started = Date.now();
  const done: string[] = [];
  let failed = 0;
  for (const suite of SUITES) {
    const script = join(here, suite.script);
    if (!existsSync(script)) {
      process.stderr.write(`bench: suite ${suite.name} is missing (${script}); run "npm run build" first\n`);
      failed++;
      continue;
    }
    process.stdout.write(`\n=== ${suite.name} ===\n`);
    const t0 = Date.now();
    const r = await execa(process.execPath, [script, ...argv], { stdio: 'inherit', reject: false });
    const s = ((Date.now() - t0) / 1000).toFixed(0);
    if (r.exitCode !== 0) {
      failed++;
      process.stderr.write(`bench: suite ${suite.name} failed (exit ${r.exitCode}) after ${s} s\n`);
    } else {
      done.push(`  ${suite.name.padEnd(12)} ${s.padStart(4)} s  -> ${suite.results}`);
    }
  }
  process.stdout.write(`\n=== results (${((Date.now() - started) / 1000).toFixed(0)} s in all) ===\n${done.join('\n')}\n`);
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
