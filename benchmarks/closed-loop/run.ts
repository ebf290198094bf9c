/**
 * `npm run bench:loop [-- --quick] [--scenario NAME]... [--policy NAME]...`
 * The closed-loop suite: every scenario under every policy, side by side; prints the table and
 * the targets, writes benchmarks/results/closed-loop.json and one SVG chart per scenario.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { solve, solveInProcess } from '../../solver/solve.js';
import { loadScenario } from '../../src/sim/load.js';
import { renderScenarioChart } from './charts.js';
import { runScenario } from './harness.js';
import { SUITE } from './manifest.js';
import { checkTargets, formatTable, formatTargets, type ScenarioResult } from './report.js';
import { BASELINES } from '../policies/index.js';
import { numaplacePolicy } from '../policies/numaplace.js';

const POLICIES = [...BASELINES, numaplacePolicy(solve)];

/** The optimum gets twice the daemon's per-cycle budget, in-process (no worker start, no fallback). */
const OPTIMUM_TIME_LIMIT_MS = 2000;

const HELP = `usage: npm run bench:loop -- [--quick] [--scenario NAME]... [--policy NAME]... [--out DIR]
Runs the closed-loop scenarios (${SUITE.map((s) => s.name).join(', ')})
under the policies (${POLICIES.map((p) => p.name).join(', ')}).
  --quick       a few scenarios, shorter (${SUITE.filter((s) => s.quick).map((s) => s.name).join(', ')})
  --scenario    only these scenarios (repeatable)
  --policy      only these policies (repeatable)
  --out DIR     where results go (default benchmarks/results)
`;

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      policy: { type: 'string', multiple: true },
      out: { type: 'string', default: 'benchmarks/results' },
      help: { type: 'boolean', default: false },
    }, strict: true }).values;
  } catch (e) {
    process.stderr.write(`bench:loop: ${(e as Error).message}\n`);
    return 2;
  }
  if (args.help) { process.stdout.write(HELP); return 0; }
  const unknownS = (args.scenario ?? []).filter((n) => !SUITE.some((s) => s.name === n));
  const unknownP = (args.policy ?? []).filter((n) => !POLICIES.some((p) => p.name === n));
  if (unknownS.length || unknownP.length) {
    process.stderr.write(`bench:loop: unknown ${unknownS.length ? `scenario ${unknownS.join(', ')}` : `policy ${unknownP.join(', ')}`}; see --help\n`);
    return 2;
  }
  const entries = SUITE.filter((s) => (args.scenario ? args.scenario.includes(s.name) : !args.quick || s.quick));
  const policies = POLICIES.filter((p) => !args.policy || args.policy.includes(p.name));
  const out = args.out!;
  mkdirSync(out, { recursive: true });
  const results: ScenarioResult[] = [];
  const t0 = performance.now();
  for (const e of entries) {
    const scenario = loadScenario(join('benchmarks', 'scenarios', `${e.name}.json`));
    const durationS = args.quick ? e.quickDurationS : e.durationS;
    process.stdout.write(`${e.name}: ${scenario.vms.length} VMs on ${scenario.topology}, ${durationS / 60} simulated min, ${policies.length} policies\n`);
    const r = await runScenario(scenario, { ...e, file: e.name, durationS }, policies,
      (p) => solveInProcess(p, { timeLimitMs: OPTIMUM_TIME_LIMIT_MS }), undefined, (l) => process.stdout.write(`${l}\n`));
    results.push(r);
    process.stdout.write(`${formatTable([r]).split('\n').slice(2).join('\n')}\n  (${(r.wallMs / 1000).toFixed(0)} s; optimum: ${r.optimum.solves} solves, mean ${r.optimum.msMean.toFixed(0)} ms)\n`);
    const svg = renderScenarioChart(`${e.name}: quality and locality over time`,
      `${r.vms} VMs on ${r.topology}; optimum recomputed every ${e.measureEveryS} s`,
      r.policies.map((p) => ({ policy: p.policy, points: p.series })));
    // A quick run writes beside the full run's files, never over them.
    writeFileSync(join(out, `closed-loop-${e.name}${args.quick ? '-quick' : ''}.svg`), svg);
  }
  const table = formatTable(results);
  const targets = checkTargets(results, {
    steadyScenarios: SUITE.filter((s) => s.steady).map((s) => s.name),
    capacityAllows: (r) => SUITE.find((s) => s.name === r.scenario)?.capacityAllows ?? true,
  });
  process.stdout.write(`\n${table}\n\nTargets (numaplace):\n${formatTargets(targets)}\n`);
  const file = join(out, args.quick ? 'closed-loop-quick.json' : 'closed-loop.json');
  writeFileSync(file, `${JSON.stringify({
    generatedAt: new Date().toISOString(),
    quick: args.quick,
    node: process.version,
    wallSeconds: (performance.now() - t0) / 1000,
    policies: policies.map((p) => ({ name: p.name, description: p.description, host: p.host })),
    targets,
    scenarios: results.map((r) => ({ ...r, spec: SUITE.find((s) => s.name === r.scenario) })),
  }, null, 1)}\n`);
  process.stdout.write(`\nwrote ${file} and ${entries.length} charts (${join(out, `closed-loop-*${args.quick ? '-quick' : ''}.svg`)}) in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
