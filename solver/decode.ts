/**
 * Turn one chosen column per movable VM (plus the fixed VMs as they are) into the
 * placement JSON: per-vCPU cpusets, emulator cpuset, memory nodeset and MiB.
 *
 * CPU sets: a shared vCPU may run on every unreserved online CPU of its node that
 * no dedicated VM owns. A dedicated VM gets ceil(vcpus on node / threads per core)
 * whole cores there (all thread siblings), vCPU i pinned 1:1 to one thread, vCPUs
 * filling a core's siblings before the next core; threads of its last core left
 * over stay idle (still counted as its own, so no neighbour shares the core).
 * Emulator: options.housekeepingCpus when set, else the shared CPUs of the VM's
 * nodes (a dedicated VM's emulator must not steal its cores), else, when a node
 * has no shared CPU left, the VM's own CPUs.
 */
import { formatCpuSet, parseCpuSet } from '../src/core/cpuset.js';
import type { Column, Model } from './model.js';
import { currentOf } from './model.js';
import type { Placement, VmPlacement } from './types.js';

export function decode(m: Model, sel: Column[], meta: Omit<Placement, 'vms' | 'status'> & { status: Placement['status'] }): Placement {
  const { problem, N } = m;
  const vcpuNodeOf = new Map<number, number[]>();
  const memOf = new Map<number, Record<string, number>>();
  const cellsOf = new Map<number, number[] | undefined>();
  for (const v of m.fixed) {
    const vm = problem.vms[v];
    vcpuNodeOf.set(v, currentOf(m, vm)!.vcpuNode);
    const mem: Record<string, number> = {};
    for (const [k, mib] of Object.entries(vm.current!.memoryMiB)) if (mib > 0) mem[k] = mib;
    memOf.set(v, mem);
    cellsOf.set(v, vm.cells?.map((c) => currentOf(m, vm)!.vcpuNode[c.vcpus[0]]));
  }
  sel.forEach((col, i) => {
    const v = m.items[i].vm;
    vcpuNodeOf.set(v, col.vcpuNode);
    const mem: Record<string, number> = {};
    col.mem.forEach((mib, j) => {
      if (mib > 0) mem[String(m.ids[j])] = mib;
    });
    memOf.set(v, mem);
    cellsOf.set(v, col.cellNode);
  });

  // Dedicated cores: fixed VMs first (they hold theirs already), then the others in problem order.
  const pool = m.freeCores.map((cs) => cs.map((c) => [...c]));
  const dedicatedCpus: Set<number>[] = Array.from({ length: N }, () => new Set());
  const pinned = new Map<number, number[]>(); // vm -> cpu of each vCPU
  const order = [...m.fixed, ...m.items.map((it) => it.vm)].filter((v) => problem.vms[v].dedicated);
  for (const v of order) {
    const nodes = vcpuNodeOf.get(v)!;
    const cpuOf = new Array<number>(nodes.length);
    const byNode = new Map<number, number[]>();
    nodes.forEach((n, i) => byNode.set(n, [...(byNode.get(n) ?? []), i]));
    for (const [n, vcpus] of byNode) {
      let core: number[] = [];
      let t = 0;
      for (const i of vcpus) {
        if (t >= core.length) {
          const next = pool[n].shift();
          if (!next) throw new Error(`decode: node ${m.ids[n]} has no whole core left for dedicated VM ${problem.vms[v].name}`);
          core = next;
          t = 0;
          for (const c of core) dedicatedCpus[n].add(c);
        }
        cpuOf[i] = core[t++];
      }
    }
    pinned.set(v, cpuOf);
  }
  const shared = m.sharedCpus.map((cpus, n) => cpus.filter((c) => !dedicatedCpus[n].has(c)));
  const sharedText = shared.map((s) => formatCpuSet(s));
  const emuCache = new Map<string, string>();
  const housekeeping = problem.options?.housekeepingCpus ? formatCpuSet(parseCpuSet(problem.options.housekeepingCpus)) : undefined;

  const vms: VmPlacement[] = problem.vms.map((vm, v) => {
    const nodes = vcpuNodeOf.get(v)!;
    const cpuOf = pinned.get(v);
    const vcpus = nodes.map((n, i) => ({
      vcpu: i,
      node: m.ids[n],
      cpuset: cpuOf ? String(cpuOf[i]) : sharedText[n],
    }));
    let emu = housekeeping;
    if (!emu) {
      const nodeKey = [...new Set(nodes)].sort((a, b) => a - b);
      const key = nodeKey.join(',');
      emu = cpuOf ? undefined : emuCache.get(key);
      if (emu === undefined) {
        const set = new Set<number>();
        for (const n of nodeKey) for (const c of shared[n]) set.add(c);
        if (set.size === 0 && cpuOf) for (const c of cpuOf) set.add(c);
        emu = formatCpuSet(set);
        if (!cpuOf) emuCache.set(key, emu);
      }
    }
    const mem = memOf.get(v)!;
    const out: VmPlacement = {
      name: vm.name,
      vcpus,
      emulator: { cpuset: emu },
      memory: { nodeset: formatCpuSet(Object.keys(mem).map(Number)), MiB: mem },
    };
    const cells = cellsOf.get(v);
    if (vm.cells?.length && cells) out.cells = vm.cells.map((c, ci) => ({ id: c.id, node: m.ids[cells[ci]] }));
    return out;
  });
  return { ...meta, vms };
}
