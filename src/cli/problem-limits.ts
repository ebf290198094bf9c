/**
 * Size bounds of a problem given to `numaplace solve`, checked before it is validated or solved:
 * a problem far beyond any host (50,000 nodes, a million VMs) would take minutes and gigabytes
 * before failing. Generous: Linux has at most 1024 NUMA nodes; libvirt at most 16384 vCPUs per VM.
 */
export const PROBLEM_LIMITS = { nodes: 1024, vms: 100_000, vcpusPerVm: 16384, cpusPerNode: 65536 } as const;

const arr = (x: unknown): unknown[] | null => (Array.isArray(x) ? x : null);
const obj = (x: unknown): Record<string, unknown> | null => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : null);

/** Why the problem is too big to take, or null. Shapes are left to the validator. */
export function problemSizeProblem(raw: unknown): string | null {
  const p = obj(raw);
  if (!p) return null;
  const nodes = arr(obj(p.topology)?.nodes);
  if (nodes && nodes.length > PROBLEM_LIMITS.nodes) return `topology.nodes has ${nodes.length} nodes, more than ${PROBLEM_LIMITS.nodes} (Linux's maximum); refused`;
  for (const [i, n] of (nodes ?? []).entries()) {
    const cpus = arr(obj(n)?.cpus);
    if (cpus && cpus.length > PROBLEM_LIMITS.cpusPerNode) return `topology.nodes[${i}].cpus has ${cpus.length} CPUs, more than ${PROBLEM_LIMITS.cpusPerNode}; refused`;
    const d = obj(obj(n)?.distances);
    if (d && Object.keys(d).length > PROBLEM_LIMITS.nodes) return `topology.nodes[${i}].distances has more than ${PROBLEM_LIMITS.nodes} entries; refused`;
  }
  const vms = arr(p.vms);
  if (vms && vms.length > PROBLEM_LIMITS.vms) return `vms has ${vms.length} VMs, more than ${PROBLEM_LIMITS.vms}; refused`;
  for (const [i, v] of (vms ?? []).entries()) {
    const load = arr(obj(v)?.load);
    if (load && load.length > PROBLEM_LIMITS.vcpusPerVm) return `vms[${i}].load has ${load.length} vCPUs, more than ${PROBLEM_LIMITS.vcpusPerVm}; refused`;
  }
  return null;
}
