/**
 * The solver's public entry: what the rest of numaplace may import from solver/ (the
 * dependency check enforces it). Model building, the LP and decoding stay internal.
 */
export { solve, solveInProcess, warmUp, type SolveHooks } from './solve.js';
export { stayPlacement } from './stay.js';
export { ProblemError, validateProblem } from './validate-problem.js';
export type * from './types.js';
