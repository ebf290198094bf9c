/**
 * `node dist/benchmarks/hard-references.js [--time-limit S] [--only NAME,...] [--force]`:
 * computes the HiGHS reference of each hard instance (benchmarks/hard-instances.ts)
 * once and stores it in benchmarks/hard-references.json (seed, objective, status,
 * HiGHS's dual bound and gap, time). Long runs (minutes): not part of the bench,
 * which reads the stored file. The model is the solver's own column model (every
 * pair column plus stay-put, split and cell columns), as one binary MILP; when no
 * whole-VM placement exists, the model where every VM may split.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as highsModule from 'highs';
import { buildModel } from '../solver/model.js';
import { lpText, referenceColumns } from './highs-exact.js';
import { allLocalCost } from '../src/core/quality.js';
import { solveInProcess } from '../solver/solve.js';
import { hardName, hardSpecs, makeHardInstance, type HardSpec } from './hard-instances.js';

export const REFERENCES_FILE = 'benchmarks/hard-references.json';

export interface HardReference {
  name: string;
  family: string;
  seed: number;
  vms: number;
  nodes: number;
  allLocal: number;
  /** Objective (quality + move costs) of HiGHS's best answer; null when it found none. */
  objective: number | null;
  /** HiGHS's proven lower bound on the objective. */
  bound: number | null;
  /** (objective - bound) / objective as HiGHS reports it. */
  gap: number | null;
  status: string;
  proven: boolean;
  splitAll: boolean;
  columns: number;
  timeLimitS: number;
  seconds: number;
  highsVersion: string;
  when: string;
  /** Our own best from a long run (large effort budget), for instances where HiGHS found no answer. */
  ours?: number | null;
  oursBound?: number | null;
}

type Highs = { createModel(data: { format: 'lp'; data: string }): HighsModel };
interface HighsModel {
  options: { set(o: Record<string, unknown>): void };
  info: { get(name: string): number | bigint };
  run(): unknown;
  getModelStatus(): number;
  getSolution(): { colValue: Float64Array };
  dispose(): void;
}
const loader = ((highsModule as unknown as { default?: unknown }).default ?? highsModule) as unknown as () => Promise<Highs>;


const STATUS: Record<number, string> = { 7: 'Optimal', 8: 'Infeasible', 13: 'Time limit reached', 14: 'Iteration limit reached' };

export async function reference(spec: HardSpec, timeLimitS: number): Promise<HardReference> {
  const highs = await loader();
  const problem = makeHardInstance(spec);
  const t0 = performance.now();
  let out: HardReference | undefined;
  for (const splitAll of [false, true]) {
    const m = buildModel(problem, { splitAll });
    const cols = referenceColumns(m);
    const model = highs.createModel({ format: 'lp', data: lpText(cols, m.items.length, m.cap) });
    try {
      const left = Math.max(5, timeLimitS - (performance.now() - t0) / 1000);
      model.options.set({ time_limit: left, mip_rel_gap: 1e-6, output_flag: false });
      model.run();
      const code = model.getModelStatus();
      const status = STATUS[code] ?? `status ${code}`;
      let objective: number | null = null;
      if (code === 7 || code === 13 || code === 14) {
        const x = model.getSolution().colValue;
        let z = 0, any = false;
        cols.forEach((c, k) => {
          if (x[k] > 0.5) {
            z += c.cost;
            any = true;
          }
        });
        if (any) objective = z;
      }
      const num = (n: string) => {
        try {
          const v = Number(model.info.get(n));
          return Number.isFinite(v) ? v : null;
        } catch {
          return null;
        }
      };
      const bound = objective === null ? null : num('mip_dual_bound');
      out = {
        name: hardName(spec), family: spec.family, seed: spec.seed, vms: problem.vms.length, nodes: m.N,
        allLocal: allLocalCost(problem.vms), objective, bound, gap: objective === null ? null : num('mip_gap'),
        status, proven: code === 7, splitAll, columns: cols.length, timeLimitS, seconds: Math.round((performance.now() - t0) / 100) / 10,
        highsVersion: JSON.parse(readFileSync('node_modules/highs/package.json', 'utf8')).version, when: new Date().toISOString(),
      };
    } finally {
      model.dispose();
    }
    if (out.objective !== null) break;
  }
  return out!;
}

/** The best known objective of an instance (HiGHS's answer or our long run, whichever is lower) and where it comes from. */
export function bestKnown(ref: HardReference | undefined): { best: number | null; source: string } {
  if (!ref) return { best: null, source: 'no reference' };
  if (ref.ours !== undefined && ref.ours !== null && (ref.objective === null || ref.ours < ref.objective - 1e-9)) {
    return { best: ref.ours, source: `numaplace long run${ref.objective === null ? ` (HiGHS: no answer in ${ref.timeLimitS} s)` : ''}` };
  }
  return { best: ref.objective, source: ref.proven ? 'HiGHS optimum' : ref.objective !== null ? `HiGHS best (${ref.status})` : `HiGHS none (${ref.status})` };
}

export function loadReferences(file = REFERENCES_FILE): Record<string, HardReference> {
  if (!existsSync(file)) return {};
  return JSON.parse(readFileSync(file, 'utf8')).references as Record<string, HardReference>;
}

async function main() {
  const argv = process.argv.slice(2);
  const arg = (k: string) => {
    const i = argv.indexOf(k);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const limit = Number(arg('--time-limit') ?? 180);
  const only = arg('--only')?.split(',');
  const refs = loadReferences();
  const save = () => {
    const sorted = Object.fromEntries(Object.entries(refs).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(REFERENCES_FILE, JSON.stringify({ note: 'HiGHS references of benchmarks/hard-instances.ts, computed once by dist/benchmarks/hard-references.js; where HiGHS found no answer, `ours` is numaplace run with a large effort budget (--ours)', references: sorted }, null, 2) + '\n');
  };
  if (argv.includes('--ours')) {
    // Instances where HiGHS found no answer: our own solver with 100x its default effort.
    for (const [name, r] of Object.entries(refs)) {
      if (r.objective !== null || (only && !only.includes(name) && !only.includes(r.family))) continue;
      const problem = makeHardInstance({ family: r.family as HardSpec['family'], seed: r.seed });
      const p = solveInProcess(problem, { effort: Number(arg('--effort') ?? 3e8), timeLimitMs: limit * 1000 });
      r.ours = p.objective ?? null;
      r.oursBound = p.bound ?? null;
      process.stdout.write(`${name}: ours ${r.ours} bound ${r.oursBound} (${p.method}, ${Math.round(p.solveMs ?? 0)} ms)\n`);
      save();
    }
    return;
  }
  for (const spec of hardSpecs()) {
    const name = hardName(spec);
    if (only && !only.includes(name) && !only.includes(spec.family)) continue;
    if (refs[name] && !argv.includes('--force')) continue;
    const r = await reference(spec, limit);
    refs[name] = r;
    process.stdout.write(`${name}: ${r.status} objective ${r.objective?.toFixed(3)} bound ${r.bound?.toFixed(3)} gap ${r.gap} allLocal ${r.allLocal.toFixed(3)} ${r.seconds}s (${r.columns} columns${r.splitAll ? ', split model' : ''})\n`);
    save();
  }
}

if (process.argv[1]?.endsWith('hard-references.js')) await main();
