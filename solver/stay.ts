/**
 * The placement that moves nothing between nodes: every placed VM fixed where it is, with the
 * cpusets a placement on those nodes gets. The daemon falls back to it when the solver finds no
 * feasible placement, so pins on reserved or offline CPUs are still put right.
 */
import { decode } from './decode.js';
import { buildModel } from './model.js';
import type { Placement, Problem } from './types.js';

/**
 * The stay placement of the VMs that have a `current` place and are not fixed, or null when even
 * that cannot be built (e.g. dedicated cores short). VMs with no usable CPU on their nodes (all
 * reserved or offline) are left out: they get no steps.
 */
export function stayPlacement(problem: Problem, why: string): Placement | null {
  const placed = problem.vms.filter((v) => v.current !== undefined).map((v) => ({ ...v, fixed: true }));
  try {
    const out = decode(buildModel({ ...problem, vms: placed }), [], { status: 'infeasible', reason: why, method: 'stay' });
    const movable = new Set(problem.vms.filter((v) => !v.fixed).map((v) => v.name));
    const usable = (v: Placement['vms'][number]) => v.emulator.cpuset !== '' && v.vcpus.every((c) => c.cpuset !== '');
    return { ...out, vms: out.vms.filter((v) => movable.has(v.name) && usable(v)) };
  } catch {
    return null;
  }
}
