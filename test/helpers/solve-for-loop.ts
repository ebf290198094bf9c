/** The placement function the closed-loop tests use. */
import type { Placement, Problem } from '../../solver/types.js';
import { greedyPlacement } from './fake-host.js';

export async function solveForLoop(problem: Problem): Promise<Placement> {
  return greedyPlacement(problem);
}
