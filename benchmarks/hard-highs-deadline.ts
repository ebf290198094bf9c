/**
 * npm run bench:solver:highs — would HiGHS (npm `highs`, WASM, the references' solver) serve the hard
 * families better than javascript-lp-solver at numaplace's default 1 s deadline? The same column
 * model (benchmarks/highs-exact.ts) with HiGHS's own time limit, gap against the stored best known
 * (benchmarks/hard-references.json). Writes benchmarks/results/hard-highs-deadline.json.
 *   node dist/benchmarks/hard-highs-deadline.js [LIMIT_S=1]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hardName, hardSpecs, makeHardInstance } from './hard-instances.js';
import { exactOptimum } from './highs-exact.js';
import { bestKnown, loadReferences } from './hard-references.js';

const limitS = Number(process.argv[2] ?? 1);
const refs = loadReferences();
const rows = [];
process.stdout.write(`| instance | HiGHS status at ${limitS} s | wall ms | gap to best known |\n|---|---|---|---|\n`);
for (const spec of hardSpecs()) {
  const name = hardName(spec);
  const { best } = bestKnown(refs[name]);
  const r = await exactOptimum(makeHardInstance(spec), limitS);
  const gap = r.objective !== undefined && best ? (r.objective - best) / best : null;
  rows.push({ name, status: r.status, ms: Math.round(r.ms), objective: r.objective ?? null, best, gap });
  process.stdout.write(`| ${name} | ${r.status} | ${r.ms.toFixed(0)} | ${gap === null ? 'no answer' : `${(gap * 100).toFixed(2)}%`} |\n`);
}
mkdirSync('benchmarks/results', { recursive: true });
writeFileSync('benchmarks/results/hard-highs-deadline.json', `${JSON.stringify({ limitS, rows }, null, 1)}\n`);
