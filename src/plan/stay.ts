/**
 * The placement used when the solver finds none (an overloaded host, or excluded VMs that alone
 * overfill a node): every VM stays on the nodes it runs on and keeps its memory where it is, but
 * its cpusets are those a placement on those nodes would give. So nothing moves between nodes,
 * yet a vCPU or emulator on a reserved or offline CPU is still put right at once. Its numatune
 * nodeset stays as it is too.
 */
import type { HostSample } from '../host/backend.js';
import { decode } from '../../solver/decode.js';
import { buildModel } from '../../solver/model.js';
import type { Placement, Problem } from '../../solver/types.js';

/** The stay placement, or null when even that cannot be built (e.g. dedicated cores short); VMs with no usable CPU on their nodes are left out (no steps). */
export function stayPlacement(problem: Problem, sample: HostSample, why: string): Placement | null {
  const placed = problem.vms.filter((v) => v.current !== undefined).map((v) => ({ ...v, fixed: true }));
  try {
    const m = buildModel({ ...problem, vms: placed });
    const out = decode(m, [], { status: 'infeasible', reason: why, method: 'stay' });
    const movable = new Set(problem.vms.filter((v) => !v.fixed).map((v) => v.name));
    const nodeset = new Map(sample.vms.map((v) => [v.name, v.numatune?.nodeset ?? null]));
    // A VM whose nodes have no usable CPU left (all reserved or offline) gets empty cpusets: it stays as it is.
    const usable = (v: Placement['vms'][number]) => v.emulator.cpuset !== '' && v.vcpus.every((c) => c.cpuset !== '');
    const vms = out.vms.filter((v) => movable.has(v.name) && usable(v)).map((v) => ({ ...v, memory: { ...v.memory, nodeset: nodeset.get(v.name) ?? v.memory.nodeset } }));
    return { ...out, vms };
  } catch {
    return null;
  }
}
