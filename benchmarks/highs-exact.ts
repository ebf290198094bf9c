/**
 * The reference optimum: the same column model as the solver (every pair column
 * plus the explicit ones: stay put, splits, cells), as one binary MILP for HiGHS
 * (npm `highs`, WASM), with a time limit. Reports whether optimality was proven.
 * Benchmarks and tests only.
 */
import * as highsModule from 'highs';
import { buildModel, pairColumn, type Column, type Model } from '../solver/model.js';
import type { Problem } from '../solver/types.js';

export interface ExactResult {
  /** Objective (quality + move costs) of HiGHS's best answer, if any. */
  objective?: number;
  proven: boolean;
  status: string;
  ms: number;
  columns: number;
}

/** The package's types describe its CommonJS shape; under ESM the loader is the default export. */
type LegacyHighs = { solve(problem: string, options?: Record<string, unknown>): { Status: string; Columns: Record<string, unknown> } };
const highsLoader = ((highsModule as unknown as { default?: unknown }).default ?? highsModule) as () => Promise<LegacyHighs>;
let highs: LegacyHighs | undefined;

export async function exactOptimum(problem: Problem, timeLimitS = 10): Promise<ExactResult> {
  highs ??= await highsLoader();
  // Same model the solver starts from; a split column set too when whole VMs cannot fit.
  const t0 = performance.now();
  let best: ExactResult | undefined;
  for (const splitAll of [false, true]) {
    const m = buildModel(problem, { splitAll });
    const cols = referenceColumns(m);
    const left = Math.max(0.5, timeLimitS - (performance.now() - t0) / 1000);
    const sol = highs.solve(lpText(cols, m.items.length, m.cap), { time_limit: left, mip_rel_gap: 1e-6, output_flag: false });
    const ok = sol.Status === 'Optimal' || sol.Status === 'Time limit reached';
    let objective: number | undefined;
    if (ok && sol.Columns) {
      objective = 0;
      cols.forEach((c, k) => {
        const v = (sol.Columns[`x${k}`] as { Primal?: number } | undefined)?.Primal ?? 0;
        if (v > 0.5) objective! += c.cost;
      });
      if (!cols.some((_, k) => ((sol.Columns[`x${k}`] as { Primal?: number } | undefined)?.Primal ?? 0) > 0.5)) objective = undefined;
    }
    const res: ExactResult = { objective, proven: sol.Status === 'Optimal', status: sol.Status, ms: performance.now() - t0, columns: cols.length };
    if (res.objective !== undefined || splitAll) {
      if (!best || (res.objective !== undefined && (best.objective === undefined || res.objective < best.objective))) best = res;
    }
    // A whole-VM optimum may still be beaten by splits; the solver only splits when nothing else fits,
    // so it is compared with the same model: stop at the first model with an answer.
    if (res.objective !== undefined) break;
  }
  return best!;
}

/** Every column of the model: the explicit ones (stay put, splits, cells) and every allowed pair. */
export function referenceColumns(m: Model): Column[] {
  const cols: Column[] = [];
  m.items.forEach((it, i) => {
    cols.push(...it.explicit);
    if (it.pairs) for (let a = 0; a < m.N; a++) for (let b = 0; b < m.N; b++) if (it.pairCpuOk[a] && it.pairMemOk[b]) cols.push(pairColumn(m, it, i, a, b));
  });
  return cols;
}

/** The binary MILP over `cols` in CPLEX LP format: one column per item, rows within capacity. */
export function lpText(cols: Column[], nItems: number, cap: number[]): string {
  const lines: string[] = ['Minimize', ' obj:'];
  const wrap = (terms: string[]) => {
    for (let k = 0; k < terms.length; k += 8) lines.push('  ' + terms.slice(k, k + 8).join(' '));
  };
  wrap(cols.map((c, k) => `${k === 0 ? '' : '+ '}${c.cost.toFixed(9)} x${k}`));
  lines.push('Subject To');
  const byItem: string[][] = Array.from({ length: nItems }, () => []);
  const byRow = new Map<number, string[]>();
  cols.forEach((c, k) => {
    byItem[c.item].push(`x${k}`);
    for (const [r, a] of c.use) {
      const t = byRow.get(r);
      if (t) t.push(`${a.toFixed(9)} x${k}`);
      else byRow.set(r, [`${a.toFixed(9)} x${k}`]);
    }
  });
  byItem.forEach((xs, i) => {
    lines.push(` a${i}:`);
    wrap(xs.map((x, k) => (k === 0 ? x : `+ ${x}`)));
    lines.push('  = 1');
  });
  for (const [r, terms] of [...byRow].sort((a, b) => a[0] - b[0])) {
    lines.push(` r${r}:`);
    wrap(terms.map((t, k) => (k === 0 ? t : `+ ${t}`)));
    lines.push(`  <= ${Math.max(0, cap[r]).toFixed(9)}`);
  }
  lines.push('Binary');
  wrap(cols.map((_, k) => `x${k}`));
  lines.push('End');
  return lines.join('\n');
}
