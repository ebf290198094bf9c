/**
 * The placement used when the solver finds none (an overloaded host, or excluded VMs that alone
 * overfill a node): every VM stays on the nodes it runs on and keeps its memory where it is, but
 * its cpusets are those a placement on those nodes would give (solver's stayPlacement). So nothing
 * moves between nodes, yet a vCPU or emulator on a reserved or offline CPU is still put right at
 * once. Its numatune nodeset stays as the sample shows it.
 */
import type { HostSample } from '../core/sample.js';
import { stayPlacement as solverStay, type Placement, type Problem } from '../../solver/index.js';

/** The stay placement, or null when even that cannot be built; VMs with no usable CPU on their nodes are left out (no steps). */
export function stayPlacement(problem: Problem, sample: HostSample, why: string): Placement | null {
  const out = solverStay(problem, why);
  if (!out) return null;
  const nodeset = new Map(sample.vms.map((v) => [v.name, v.numatune?.nodeset ?? null]));
  return { ...out, vms: out.vms.map((v) => ({ ...v, memory: { ...v.memory, nodeset: nodeset.get(v.name) ?? v.memory.nodeset } })) };
}
