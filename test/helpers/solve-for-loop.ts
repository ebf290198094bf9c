/** The placement function the closed-loop tests use: the real solver (worker thread, hard deadline). */
import { solve } from '../../solver/solve.js';
import type { Placement, Problem } from '../../solver/types.js';

export async function solveForLoop(problem: Problem): Promise<Placement> {
  return solve(problem);
}
