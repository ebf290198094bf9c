/**
 * Independent check of a placement against its problem: everything the solver
 * promises, recomputed from the placement JSON alone (not from solver internals).
 * Returns human-readable violations; [] means the placement is valid.
 */
import { parseCpuSet } from '../src/core/cpuset.js';
import { onlineCpuNodes, reservedCpuSet, usableCpusOf } from '../src/core/nodes.js';
import { distanceMatrix, vmCost } from '../src/core/quality.js';
import { DEFAULTS, moveCosts } from './model.js';
import type { Placement, Problem } from './types.js';

const EPS = 1e-6;

function cpuParser(): (text: string) => number[] | string {
  const cache = new Map<string, number[] | string>();
  return (text: string) => {
    let r = cache.get(text);
    if (r === undefined) {
      try {
        r = parseCpuSet(text);
      } catch (e) {
        r = (e as Error).message;
      }
      cache.set(text, r);
    }
    return r;
  };
}

export function verify(problem: Problem, placement: Placement): string[] {
  const out: string[] = [];
  const cpus = cpuParser();
  const topo = problem.topology;
  if (placement.status === 'infeasible') {
    if (placement.vms.length > 0) out.push('an infeasible placement must not list VMs');
    return out;
  }
  const nodeById = new Map(topo.nodes.map((n) => [n.id, n]));
  const cpuNode = onlineCpuNodes(topo);
  const reserved = reservedCpuSet(problem.reservedCpus);
  const housekeeping = new Set(problem.options?.housekeepingCpus ? parseCpuSet(problem.options.housekeepingCpus) : []);
  const oc = problem.options?.cpuOvercommit ?? DEFAULTS.cpuOvercommit;
  const siblingsOf = new Map(topo.cpus.map((c) => [c.id, c.siblings]));

  const byName = new Map<string, Placement['vms'][number]>();
  for (const p of placement.vms) {
    if (byName.has(p.name)) out.push(`VM ${p.name} is placed twice`);
    byName.set(p.name, p);
  }
  const known = new Set(problem.vms.map((v) => v.name));
  for (const p of placement.vms) if (!known.has(p.name)) out.push(`VM ${p.name} is not in the problem`);

  const sharedLoad = new Map<number, number>();
  const vcpuCpuUsers = new Map<number, Set<string>>(); // host CPU -> VMs whose vCPU cpusets include it
  const dedicatedOwned = new Map<number, string>(); // host CPU -> dedicated VM owning its core
  const growth = new Map<number, number>();

  for (const vm of problem.vms) {
    const p = byName.get(vm.name);
    if (!p) {
      out.push(`VM ${vm.name} is not placed`);
      continue;
    }
    const where = `VM ${vm.name}`;
    const seen = new Array<number>(vm.vcpus).fill(0);
    const nodeOfVcpu = new Array<number>(vm.vcpus).fill(-1);
    for (const vp of p.vcpus) {
      if (!Number.isInteger(vp.vcpu) || vp.vcpu < 0 || vp.vcpu >= vm.vcpus) {
        out.push(`${where}: vCPU ${vp.vcpu} does not exist (it has ${vm.vcpus})`);
        continue;
      }
      seen[vp.vcpu]++;
      nodeOfVcpu[vp.vcpu] = vp.node;
      const node = nodeById.get(vp.node);
      if (!node) {
        out.push(`${where}: vCPU ${vp.vcpu} is on node ${vp.node}, which does not exist`);
        continue;
      }
      const set = cpus(vp.cpuset);
      if (typeof set === 'string') {
        out.push(`${where}: vCPU ${vp.vcpu}: ${set}`);
        continue;
      }
      for (const c of set) {
        if (!cpuNode.has(c)) out.push(`${where}: vCPU ${vp.vcpu} cpuset has CPU ${c}, which is offline or does not exist`);
        else if (cpuNode.get(c) !== vp.node) out.push(`${where}: vCPU ${vp.vcpu} is on node ${vp.node} but its cpuset has CPU ${c} of node ${cpuNode.get(c)}`);
        if (reserved.has(c)) out.push(`${where}: vCPU ${vp.vcpu} cpuset has reserved CPU ${c}`);
        const users = vcpuCpuUsers.get(c) ?? new Set();
        users.add(vm.name);
        vcpuCpuUsers.set(c, users);
        if (vm.dedicated) for (const s of siblingsOf.get(c) ?? [c]) dedicatedOwned.set(s, vm.name);
      }
      if (!vm.dedicated) sharedLoad.set(vp.node, (sharedLoad.get(vp.node) ?? 0) + (vm.load[vp.vcpu] ?? 0));
    }
    seen.forEach((k, i) => {
      if (k !== 1) out.push(`${where}: vCPU ${i} is placed ${k} times`);
    });
    const emu = cpus(p.emulator.cpuset);
    if (typeof emu === 'string') out.push(`${where}: emulator: ${emu}`);
    else
      for (const c of emu) {
        if (!cpuNode.has(c)) out.push(`${where}: emulator cpuset has CPU ${c}, which is offline or does not exist`);
        if (reserved.has(c) && !housekeeping.has(c)) out.push(`${where}: emulator cpuset has reserved CPU ${c} (not a housekeeping CPU)`);
      }

    // memory
    let total = 0;
    const memNodes: number[] = [];
    for (const [k, mib] of Object.entries(p.memory.MiB)) {
      const id = Number(k);
      if (!nodeById.has(id)) out.push(`${where}: memory on node ${k}, which does not exist`);
      if (!Number.isFinite(mib) || mib < 0) out.push(`${where}: memory on node ${k} is ${mib} MiB`);
      total += mib;
      if (mib > 0) memNodes.push(id);
      const had = vm.current?.memoryMiB[k] ?? 0;
      if (mib > had) growth.set(id, (growth.get(id) ?? 0) + (mib - had));
    }
    // A fixed VM keeps the memory it holds where it holds it (`current`, from numa_maps on a real
    // host): that is usually less than its configured size (untouched guest pages are not resident),
    // so its total is what it holds. Asking for the configured size rejected every answer of a host
    // with one excluded VM (issue 12, item 1).
    const expected = vm.fixed && vm.current ? Object.values(vm.current.memoryMiB).reduce((a, b) => a + Math.max(0, b), 0) : vm.memoryMiB;
    if (Math.abs(total - expected) > 1) out.push(`${where}: places ${total} MiB of memory but ${vm.fixed ? 'holds' : 'has'} ${expected} MiB`);
    const nodeset = cpus(p.memory.nodeset || '');
    const wantSet = [...memNodes].sort((a, b) => a - b).join(',');
    if (memNodes.length > 0 && (typeof nodeset === 'string' || nodeset.join(',') !== wantSet)) {
      out.push(`${where}: memory nodeset ${JSON.stringify(p.memory.nodeset)} is not the nodes holding its memory (${wantSet})`);
    }

    if (vm.fixed) {
      const cur = vm.current!;
      if (cur.vcpuNodes.some((n, i) => nodeOfVcpu[i] !== n)) out.push(`${where} is fixed but its vCPUs moved`);
      const curMem = Object.entries(cur.memoryMiB).filter(([, x]) => x > 0).sort().map(([k, x]) => `${k}:${x}`).join(',');
      const newMem = Object.entries(p.memory.MiB).filter(([, x]) => x > 0).sort().map(([k, x]) => `${k}:${x}`).join(',');
      if (curMem !== newMem) out.push(`${where} is fixed but its memory changed (${curMem} -> ${newMem})`);
    }
    if (vm.cells?.length) {
      const memByNode = new Map<number, number>();
      for (const cell of vm.cells) {
        const n = nodeOfVcpu[cell.vcpus[0]];
        if (cell.vcpus.some((i) => nodeOfVcpu[i] !== n)) out.push(`${where}: guest cell ${cell.id} is split across nodes`);
        const listed = p.cells?.find((c) => c.id === cell.id);
        if (!listed) out.push(`${where}: guest cell ${cell.id} has no node in the placement`);
        else if (listed.node !== n) out.push(`${where}: guest cell ${cell.id} is said to be on node ${listed.node} but its vCPUs are on ${n}`);
        memByNode.set(n, (memByNode.get(n) ?? 0) + cell.memoryMiB);
      }
      for (const [n, mib] of memByNode) {
        if (Math.abs((p.memory.MiB[String(n)] ?? 0) - mib) > 1) out.push(`${where}: node ${n} should hold its cells' ${mib} MiB but holds ${p.memory.MiB[String(n)] ?? 0} MiB`);
      }
    }
  }

  // dedicated cores are nobody else's
  for (const [c, users] of vcpuCpuUsers) {
    const owner = dedicatedOwned.get(c);
    if (owner && [...users].some((u) => u !== owner)) out.push(`CPU ${c} belongs to dedicated VM ${owner} but is also in the cpuset of ${[...users].filter((u) => u !== owner).join(', ')}`);
  }
  // capacities
  for (const n of topo.nodes) {
    const unreserved = usableCpusOf(n, reserved).filter((c) => !dedicatedOwned.has(c)).length;
    const load = sharedLoad.get(n.id) ?? 0;
    if (load > unreserved * oc + EPS) out.push(`node ${n.id}: vCPU load ${load.toFixed(3)} exceeds its capacity ${(unreserved * oc).toFixed(3)} (${unreserved} shared CPUs x overcommit ${oc})`);
    const g = growth.get(n.id) ?? 0;
    if (g > n.freeMemoryMiB + 1) out.push(`node ${n.id}: ${g} MiB of memory placed beyond what VMs hold there, but only ${n.freeMemoryMiB} MiB free`);
  }
  return out;
}

/** Quality, move costs and the objective of a placement, from the placement JSON. */
export function evaluate(problem: Problem, placement: Placement): { quality: number; objective: number; moves: { vcpus: number; memoryMiB: number } } {
  const D = distanceMatrix(problem.topology);
  const { perMiB: w, perVcpu: vcpuCost } = moveCosts(problem.options);
  const byName = new Map(placement.vms.map((p) => [p.name, p]));
  let quality = 0, moveCost = 0, vcpuMoves = 0, memMoved = 0;
  for (const vm of problem.vms) {
    const p = byName.get(vm.name);
    if (!p) continue;
    const vcpuNodes = new Array<number>(vm.vcpus);
    for (const vp of p.vcpus) vcpuNodes[vp.vcpu] = vp.node;
    quality += vmCost(D, { load: vm.load, vcpuNodes, memoryMiB: p.memory.MiB });
    if (!vm.current) continue;
    vm.current.vcpuNodes.forEach((n, i) => {
      if (vcpuNodes[i] !== n) vcpuMoves++;
    });
    const mv = transport(D, vm.current.memoryMiB, p.memory.MiB);
    memMoved += mv.mib;
    moveCost += mv.cost * w;
  }
  return { quality, objective: quality + moveCost + vcpuCost * vcpuMoves, moves: { vcpus: vcpuMoves, memoryMiB: memMoved } };
}

/** Same rule as the model: surplus feeds deficit nearest first; untouched memory is not moved. */
function transport(D: Map<number, Map<number, number>>, cur: Record<string, number>, target: Record<string, number>): { mib: number; cost: number } {
  const keys = new Set([...Object.keys(cur), ...Object.keys(target)]);
  const s = new Map<number, number>(), d = new Map<number, number>();
  for (const k of keys) {
    const diff = (target[k] ?? 0) - (cur[k] ?? 0);
    if (diff < 0) s.set(Number(k), -diff);
    else if (diff > 0) d.set(Number(k), diff);
  }
  const routes: [number, number, number][] = [];
  for (const i of s.keys()) for (const j of d.keys()) routes.push([D.get(i)!.get(j)!, i, j]);
  routes.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  let mib = 0, cost = 0;
  for (const [dist, i, j] of routes) {
    const amt = Math.min(s.get(i)!, d.get(j)!);
    if (amt <= 0) continue;
    s.set(i, s.get(i)! - amt);
    d.set(j, d.get(j)! - amt);
    mib += amt;
    cost += amt * dist;
  }
  return { mib, cost };
}
