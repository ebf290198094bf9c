/**
 * The only place javascript-lp-solver is called. Every answer is checked here
 * against the defects measured in shared/notes/javascript-lp-solver.md:
 * - presolve gives wrong objectives (and is slow): always `presolve: false`;
 * - `result` cannot be trusted: the objective is recomputed from the variables;
 * - non-integral answers marked feasible: integrality checked per variable;
 * - time-outs that return quietly: a solve that used up its time-out is not "clean";
 * - `binaries` is slow: `ints` (the assignment row already bounds each variable by 1);
 * - endless loops: callers run this in a worker they can kill (solver/solve.ts).
 * Problem shape: choose columns, one per item (assignment rows), within capacity rows.
 */
import * as lpModule from 'javascript-lp-solver';
import { charge } from './effort.js';

/** The package's types describe its CommonJS shape; under ESM the solver is the default export. */
const lpSolver = ((lpModule as unknown as { default?: unknown }).default ?? lpModule) as { Solve(model: unknown, precision?: number, full?: boolean): unknown };

export interface LpColumn {
  item: number;
  cost: number;
  use: [number, number][];
}

export interface LpResult {
  /** True when the library's answer passed every check (values, rows, integrality, objective, no time-out). */
  clean: boolean;
  /** The values form a feasible assignment (integral for a MILP), whatever else went wrong. */
  valid: boolean;
  /** What was wrong with the library's answer, if anything. */
  issues: string[];
  /** Library said infeasible (only meaningful when it also finished cleanly). */
  infeasible: boolean;
  /** Value of each column. */
  x: number[];
  /** Value of the artificial "unplaced" column of each item (LP only). */
  unplaced: number[];
  /** Objective recomputed from x (artificials included). */
  objective: number;
  /** What the library reported as its objective. */
  libraryResult: number;
  /** Penalty (>= 0) per capacity row, read from the final tableau (LP only). */
  duals: number[];
  ms: number;
}

export interface LpHooks {
  /** Called before each library call (tests use it to inject a solve that never returns). */
  beforeSolve?: (kind: 'lp' | 'milp', model: LibraryModel) => void;
  /** Called with the library's raw variable values before they are checked (tests inject defects). */
  tamper?: (kind: 'lp' | 'milp', values: Record<string, number | undefined>) => void;
}

/** The JSON model handed to javascript-lp-solver. */
export interface LibraryModel {
  optimize: string;
  opType: 'min' | 'max';
  constraints: Record<string, { min?: number; max?: number; equal?: number }>;
  variables: Record<string, Record<string, number>>;
  ints?: Record<string, 1>;
  binaries?: Record<string, 1>;
  options?: { presolve?: boolean; timeout?: number };
}

/** Objective of a library model at the given values, computed here (the library's `result` is not trusted). */
export function recomputeObjective(model: LibraryModel, values: Record<string, unknown>): number {
  let obj = 0;
  for (const [name, coefs] of Object.entries(model.variables)) {
    const v = values[name];
    if (typeof v === 'number') obj += (coefs[model.optimize] ?? 0) * v;
  }
  return obj;
}

export interface LpInput {
  nItems: number;
  cap: number[];
  columns: LpColumn[];
  integer: boolean;
  /** Library time-out (ms); it is only checked between branch-and-bound nodes. */
  timeoutMs?: number;
  /**
   * Branch-and-bound node limit (MILP): deterministic, unlike the time-out. The library
   * reads the clock (Date.now) only to stop branch and bound, so during the call the clock
   * it sees counts nodes; it jumps past the limit once `timeoutMs` of real time is spent.
   */
  nodeLimit?: number;
  /** Cost of leaving an item unplaced (LP only; keeps a restricted master feasible). */
  unplacedCost?: number;
  now: () => number;
  hooks?: LpHooks;
}

const TOL = 1e-6;

interface LibSolution {
  feasible: boolean;
  evaluation: number;
  solutionSet: Record<string, number | undefined>;
  _tableau: { matrix: Float64Array; colByVarIndex: number[]; model: { constraints: { index: number; isUpperBound: boolean; rhs: number }[] } };
}

export function solveColumns(input: LpInput): LpResult {
  const { nItems, cap, columns, integer } = input;
  const constraints: Record<string, { min?: number; max?: number; equal?: number }> = {};
  // Assignment rows first: in the library's constraint array they come before the capacity rows,
  // which is how the capacity duals are found again below (each `equal` makes 2 rows, `min` 1).
  for (let i = 0; i < nItems; i++) constraints[`a${i}`] = integer ? { equal: 1 } : { min: 1 };
  const rowsUsed = new Set<number>();
  for (const c of columns) for (const [r] of c.use) rowsUsed.add(r);
  const capRows = [...rowsUsed].sort((a, b) => a - b);
  for (const r of capRows) constraints[`r${r}`] = { max: Math.max(0, cap[r]) };
  const variables: Record<string, Record<string, number>> = {};
  const ints: Record<string, 1> = {};
  columns.forEach((c, k) => {
    const v: Record<string, number> = { cost: c.cost, [`a${c.item}`]: 1 };
    for (const [r, a] of c.use) v[`r${r}`] = (v[`r${r}`] ?? 0) + a;
    variables[`x${k}`] = v;
    if (integer) ints[`x${k}`] = 1;
  });
  if (!integer && input.unplacedCost !== undefined) {
    for (let i = 0; i < nItems; i++) variables[`u${i}`] = { cost: input.unplacedCost, [`a${i}`]: 1 };
  }
  const nodeLimit = integer && input.nodeLimit ? Math.max(1, Math.floor(input.nodeLimit)) : undefined;
  const model: LibraryModel = {
    optimize: 'cost',
    opType: 'min',
    constraints,
    variables,
    ...(integer ? { ints } : {}),
    options: { presolve: false, ...(nodeLimit ? { timeout: nodeLimit } : input.timeoutMs ? { timeout: Math.max(1, Math.floor(input.timeoutMs)) } : {}) },
  };
  const rows = nItems + capRows.length + 1;
  const cols = columns.length + (integer ? 0 : nItems) + capRows.length + 1;
  const t0 = input.now();
  input.hooks?.beforeSolve?.(integer ? 'milp' : 'lp', model);
  const realNow = Date.now;
  let nodes = 0;
  if (nodeLimit) {
    const wallEnd = realNow() + (input.timeoutMs ?? 1e9);
    Date.now = () => {
      if (realNow() > wallEnd) {
        nodes = nodeLimit + 1;
        return Number.MAX_SAFE_INTEGER / 2;
      }
      return nodes++;
    };
  }
  let sol: LibSolution;
  try {
    sol = lpSolver.Solve(model as never, undefined, true) as unknown as LibSolution;
  } finally {
    Date.now = realNow;
  }
  // Effort: simplex pivots on the dense tableau (about rows of them, each rows x cols), for every
  // branch-and-bound node of a MILP (each re-solves with its cuts).
  charge(integer ? 2 * rows * cols * Math.max(1, nodes) : 2 * rows * cols);
  const ms = input.now() - t0;
  if (nodeLimit && nodes > nodeLimit) (sol as { nodeLimitHit?: boolean }).nodeLimitHit = true;
  input.hooks?.tamper?.(integer ? 'milp' : 'lp', sol.solutionSet);
  return check(input, model, sol, capRows, ms);
}

function check(input: LpInput, model: LibraryModel, sol: LibSolution, capRows: number[], ms: number): LpResult {
  const { nItems, cap, columns, integer } = input;
  const issues: string[] = [];
  if ((sol as { nodeLimitHit?: boolean }).nodeLimitHit) issues.push(`hit its time-out (node limit ${input.nodeLimit}): the answer may not be optimal`);
  else if (input.timeoutMs && ms >= input.timeoutMs * 0.98) issues.push(`hit its time-out (${Math.round(ms)} ms): the answer may not be optimal`);
  const x = columns.map((_, k) => sol.solutionSet[`x${k}`] ?? 0);
  const unplaced = Array.from({ length: nItems }, (_, i) => sol.solutionSet[`u${i}`] ?? 0);
  const res: LpResult = { clean: false, valid: false, issues, infeasible: !sol.feasible, x, unplaced, objective: NaN, libraryResult: sol.evaluation, duals: new Array(cap.length).fill(0), ms };
  if (!sol.feasible) {
    issues.push('library reported infeasible');
    res.clean = issues.length === 1;
    return res;
  }
  let obj = 0;
  const sums = new Array<number>(nItems).fill(0);
  const used = new Array<number>(cap.length).fill(0);
  columns.forEach((c, k) => {
    const v = x[k];
    if (!(v >= -TOL)) issues.push(`column ${k} has value ${v}`);
    if (integer && Math.abs(v - Math.round(v)) > TOL) issues.push(`column ${k} is not integral (${v}) although the answer is marked feasible`);
    obj += c.cost * v;
    sums[c.item] += v;
    for (const [r, a] of c.use) used[r] += a * v;
  });
  unplaced.forEach((u, i) => {
    obj += (input.unplacedCost ?? 0) * u;
    sums[i] += u;
  });
  sums.forEach((s, i) => {
    if (integer ? Math.abs(s - 1) > TOL : s < 1 - TOL) issues.push(`item ${i} is assigned ${s} times`);
  });
  used.forEach((u, r) => {
    if (u > Math.max(0, cap[r]) + TOL * Math.max(1, Math.abs(cap[r]))) issues.push(`row ${r} used ${u} > ${cap[r]}`);
  });
  res.valid = issues.filter((s) => !s.startsWith('hit its time-out')).length === 0;
  res.objective = obj;
  const fromValues = recomputeObjective(model, sol.solutionSet);
  if (Math.abs(fromValues - obj) > 1e-6 * Math.max(1, Math.abs(obj))) issues.push(`objective from the library's values (${fromValues}) differs from the columns' (${obj})`);
  if (Math.abs(obj - sol.evaluation) > 1e-6 * Math.max(1, Math.abs(obj))) {
    issues.push(`library objective ${sol.evaluation} does not match the variables (${obj})`);
  }
  if (!integer) {
    // Capacity duals: a non-basic slack's entry in the cost row. Any values >= 0 give a valid
    // Lagrangian bound (computed by the caller), so a misread here weakens the bound, never breaks it.
    const t = sol._tableau;
    const rowsBefore = nItems; // one `min` row per item
    capRows.forEach((r, k) => {
      const cons = t.model.constraints[rowsBefore + k];
      if (!cons || !cons.isUpperBound) return;
      const col = t.colByVarIndex[cons.index];
      if (col > 0) res.duals[r] = Math.max(0, -t.matrix[col]);
    });
  }
  res.clean = issues.length === 0;
  return res;
}
