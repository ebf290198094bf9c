/**
 * The placement model: capacities per node and, per movable VM, its candidate
 * placements ("columns"). Every solver stage (greedy, LP, MILP) chooses one
 * column per VM; the objective of a column is precomputed, so choosing is a
 * generalised assignment problem with 3 resource rows per node:
 *   cpu[n]   shared vCPU load + cpuOvercommit x CPUs of dedicated cores  <= cpuOvercommit x unreserved CPUs - fixed VMs
 *   cores[n] whole cores handed to dedicated VMs                         <= whole free cores - fixed dedicated VMs
 *   mem[n]   memory a VM gains on n (MiB placed there minus MiB it has)  <= free memory
 * The memory row counts growth only: memory a moving VM leaves behind is not
 * credited to others, so the plan is feasible whatever order the moves run in.
 *
 * Column kinds: "pair" (all vCPUs on node a, all memory on node b; generated
 * implicitly, N^2 per VM, priced in plain code), plus explicit ones: the VM's
 * current placement (stay put), splits over the nearest nodes (VMs too large
 * for one node), and cell-by-cell placements (guest NUMA VMs).
 * Pure; node ids are mapped to dense indexes 0..N-1.
 */
import { CONFIG_TABLE } from '../src/core/config-table.js';
import { mostCommonNode, reservedCpuSet, usableCpusOf } from '../src/core/nodes.js';
import type { Problem, ProblemOptions, ProblemVm } from './types.js';

/**
 * Option defaults: the config table's, so `numaplace solve` on a problem without options and the
 * daemon with its default configuration solve the same model. The gap tolerance is the solver's own.
 */
export const DEFAULTS = {
  cpuOvercommit: CONFIG_TABLE.cpuOvercommit.default,
  memoryMoveCostPerGiB: CONFIG_TABLE['solver.memoryMoveCostPerGiB'].default,
  memoryMovePaybackCycles: Math.max(1, CONFIG_TABLE['churn.cooldownCycles'].default),
  vcpuMoveCost: CONFIG_TABLE['solver.vcpuMoveCost'].default,
  timeLimitMs: CONFIG_TABLE['solver.timeLimitMs'].default,
  gapTolerance: 0.005,
} as const;

/**
 * What one cycle's objective charges for a move. The quality measure is a rate (per cycle); a
 * memory move is paid once and its gain earned every cycle the VM then stays (at least the
 * cooldown), so its cost is spread over memoryMovePaybackCycles. Unspread, a light VM with a lot of
 * memory never paid back in one cycle and stayed split across nodes for good (memtight-2x8 in the
 * closed-loop benchmark: 1.17x the optimum, 1.015x spread). The model and evaluate() use this.
 */
export function moveCosts(o: ProblemOptions = {}): { perMiB: number; perVcpu: number } {
  const perGiB = (o.memoryMoveCostPerGiB ?? DEFAULTS.memoryMoveCostPerGiB) / (o.memoryMovePaybackCycles ?? DEFAULTS.memoryMovePaybackCycles);
  return { perMiB: perGiB / 1024, perVcpu: o.vcpuMoveCost ?? DEFAULTS.vcpuMoveCost };
}

/** Capacity each placed vCPU takes at least, so an idle vCPU never lands on a node with no shared CPU left. */
export const MIN_VCPU_LOAD = 1e-3;

export interface Column {
  item: number;
  /** Node index of each vCPU. */
  vcpuNode: number[];
  /** MiB per node index (integers, summing to the VM's memory). */
  mem: number[];
  /** Guest cell -> node index (cell VMs only). */
  cellNode?: number[];
  quality: number;
  /** quality + memory and vCPU move costs: what the solver minimises. */
  cost: number;
  /** Sparse resource use: [row, amount]; rows 0..N-1 cpu, N..2N-1 cores, 2N..3N-1 memory growth. */
  use: [number, number][];
  key: string;
}

export interface Item {
  /** Index in problem.vms. */
  vm: number;
  name: string;
  loads: number[];
  load: number;
  memoryMiB: number;
  dedicated: boolean;
  /** Current placement, by node index (absent for a VM never placed). */
  cur?: { vcpuNode: number[]; mem: number[] };
  /** Pair columns (a, b) are candidates. False for cell VMs. */
  pairs: boolean;
  /** Per node a: can all vCPUs go to a? cpu and core use there. */
  pairCpuOk: boolean[];
  pairCpuUse: number[];
  pairCoreUse: number[];
  /** Per node a: cost of moving the vCPUs to a. Per node b: memory move cost and growth. */
  vcpuMoveTo: number[];
  memMoveTo: number[];
  memGrowTo: number[];
  pairMemOk: boolean[];
  explicit: Column[];
}

export interface Model {
  problem: Problem;
  N: number;
  ids: number[];
  index: Map<number, number>;
  D: number[][];
  oc: number;
  memWeight: number;
  vcpuMoveCost: number;
  reserved: Set<number>;
  /** Unreserved online CPUs per node. */
  sharedCpus: number[][];
  /** Whole cores (all siblings online, unreserved, in the node), per node. */
  freeCores: number[][][];
  /** CPUs per dedicated core on each node (0 when the node has no whole free core). */
  threads: number[];
  /** Right-hand side of the 3N rows, after fixed VMs. */
  cap: number[];
  items: Item[];
  /** Indexes in problem.vms of fixed VMs. */
  fixed: number[];
  /**
   * Objective of the fixed VMs where they are (quality; they never move): one constant that every
   * objective counts, so every bound must count it too (the columns cover only the movable VMs).
   */
  fixedCost: number;
  /** Reasons the problem cannot be solved, found while building (e.g. fixed VMs overload a node). */
  infeasible: string[];
}

export const rowCpu = (m: Model, n: number) => n;
export const rowCores = (m: Model, n: number) => m.N + n;
export const rowMem = (m: Model, n: number) => 2 * m.N + n;

export function buildModel(problem: Problem, opts: { splitAll?: boolean } = {}): Model {
  const topo = problem.topology;
  const nodes = [...topo.nodes].sort((a, b) => a.id - b.id);
  const N = nodes.length;
  const ids = nodes.map((n) => n.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const D = nodes.map((a) => nodes.map((b) => a.distances[String(b.id)]));
  const o = problem.options ?? {};
  const oc = o.cpuOvercommit ?? DEFAULTS.cpuOvercommit;
  const { perMiB: memWeight, perVcpu: vcpuMoveCost } = moveCosts(o);
  const reserved = reservedCpuSet(problem.reservedCpus);
  const sharedCpus = nodes.map((n) => usableCpusOf(n, reserved));
  const cpuInfo = new Map(topo.cpus.map((c) => [c.id, c]));
  const freeCores: number[][][] = nodes.map((n, i) => {
    const ok = new Set(sharedCpus[i]);
    const seen = new Set<string>();
    const cores: number[][] = [];
    for (const c of n.cpus) {
      const sib = cpuInfo.get(c)?.siblings ?? [c];
      const key = sib.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      if (sib.every((s) => ok.has(s))) cores.push([...sib].sort((a, b) => a - b));
    }
    return cores.sort((a, b) => a[0] - b[0]);
  });
  const threads = freeCores.map((cs) => (cs.length ? Math.min(...cs.map((c) => c.length)) : 0));
  const cap = [
    ...sharedCpus.map((s) => s.length * oc),
    ...freeCores.map((c) => c.length),
    ...nodes.map((n) => n.freeMemoryMiB),
  ];
  const m: Model = {
    problem, N, ids, index, D, oc, memWeight, vcpuMoveCost, reserved, sharedCpus, freeCores, threads, cap,
    items: [], fixed: [], fixedCost: 0, infeasible: [],
  };

  problem.vms.forEach((vm, v) => {
    if (vm.fixed) {
      m.fixed.push(v);
      const cur = currentOf(m, vm)!;
      // Fixed VMs stay; their memory is already allocated (not free), their CPU use counts against capacity.
      for (const [r, amt] of cpuUse(m, vm, cur.vcpuNode)) cap[r] -= amt;
      m.fixedCost += columnQuality(m, vm.load, cur.vcpuNode, cur.mem);
      return;
    }
  });
  for (let n = 0; n < N; n++) {
    if (cap[n] < -1e-9) m.infeasible.push(`fixed VMs alone need more CPU on node ${ids[n]} than it has (${(cap[n] + sharedCpus[n].length * oc).toFixed(2)} available, over by ${(-cap[n]).toFixed(2)})`);
    if (cap[N + n] < 0) m.infeasible.push(`fixed dedicated VMs need more whole cores on node ${ids[n]} than it has free`);
  }
  problem.vms.forEach((vm, v) => {
    if (!vm.fixed) m.items.push(buildItem(m, vm, v, m.items.length, opts.splitAll ?? false));
  });
  return m;
}

/** The VM's current placement by node index, with memory scaled up to memoryMiB when only part is touched. */
export function currentOf(m: Model, vm: ProblemVm): { vcpuNode: number[]; mem: number[] } | undefined {
  if (!vm.current) return undefined;
  const vcpuNode = vm.current.vcpuNodes.map((id) => m.index.get(id)!);
  const mem = new Array<number>(m.N).fill(0);
  for (const [id, mib] of Object.entries(vm.current.memoryMiB)) mem[m.index.get(Number(id))!] += mib;
  return { vcpuNode, mem };
}

/** Resource rows a VM uses with its vCPUs on the given nodes (memory growth not included). */
export function cpuUse(m: Model, vm: ProblemVm, vcpuNode: number[]): [number, number][] {
  const perNode = new Map<number, { load: number; count: number }>();
  vcpuNode.forEach((n, i) => {
    const e = perNode.get(n) ?? { load: 0, count: 0 };
    e.load += Math.max(vm.load[i], MIN_VCPU_LOAD);
    e.count += 1;
    perNode.set(n, e);
  });
  const out: [number, number][] = [];
  for (const [n, { load, count }] of perNode) {
    if (vm.dedicated) {
      const t = m.threads[n];
      const cores = t > 0 ? Math.ceil(count / t) : Infinity;
      out.push([n, m.oc * cores * t], [m.N + n, cores]);
    } else out.push([n, load]);
  }
  return out;
}

/** Quality measure of one VM (shared/DESIGN.md) with vCPUs and memory on the given node indexes. */
export function columnQuality(m: Model, loads: number[], vcpuNode: number[], mem: number[]): number {
  const total = mem.reduce((a, b) => a + b, 0);
  let q = 0;
  for (let i = 0; i < loads.length; i++) {
    if (loads[i] === 0) continue;
    if (total === 0) {
      q += loads[i] * 10;
      continue;
    }
    const row = m.D[vcpuNode[i]];
    let d = 0;
    for (let j = 0; j < m.N; j++) if (mem[j] > 0) d += mem[j] * row[j];
    q += (loads[i] * d) / total;
  }
  return q;
}

/**
 * MiB that must migrate from `cur` to reach `target`, and its cost (MiB x distance x weight):
 * surplus nodes feed deficit nodes nearest first. Memory not yet touched (target beyond
 * what the VM holds) is allocated in place, not moved.
 */
export function memoryMove(m: Model, cur: number[] | undefined, target: number[]): { mib: number; cost: number } {
  if (!cur) return { mib: 0, cost: 0 };
  const surplus: [number, number][] = [];
  const deficit: [number, number][] = [];
  for (let j = 0; j < m.N; j++) {
    const d = target[j] - cur[j];
    if (d < 0) surplus.push([j, -d]);
    else if (d > 0) deficit.push([j, d]);
  }
  if (surplus.length === 0 || deficit.length === 0) return { mib: 0, cost: 0 };
  const routes: [number, number, number][] = [];
  for (const [i] of surplus) for (const [j] of deficit) routes.push([m.D[i][j], i, j]);
  routes.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const s = new Map(surplus), dd = new Map(deficit);
  let mib = 0, cost = 0;
  for (const [dist, i, j] of routes) {
    const amt = Math.min(s.get(i)!, dd.get(j)!);
    if (amt <= 0) continue;
    s.set(i, s.get(i)! - amt);
    dd.set(j, dd.get(j)! - amt);
    mib += amt;
    cost += amt * dist * m.memWeight;
  }
  return { mib, cost };
}

/** memoryMove for a target holding everything on node b (the hot case: pair columns). */
function memoryMoveToOne(m: Model, cur: number[] | undefined, b: number, total: number): number {
  if (!cur) return 0;
  let away = 0, cost = 0;
  for (let j = 0; j < m.N; j++) if (j !== b && cur[j] > 0) {
    away += cur[j];
    cost += cur[j] * m.D[j][b];
  }
  // everything elsewhere fits into b's deficit: all of it moves (the general rule gives the same)
  if (away <= total - cur[b]) return cost * m.memWeight;
  const target = oneHot(m.N, b, total);
  return memoryMove(m, cur, target).cost;
}

export function vcpuMoves(cur: number[] | undefined, vcpuNode: number[]): number {
  if (!cur) return 0;
  let k = 0;
  for (let i = 0; i < vcpuNode.length; i++) if (cur[i] !== vcpuNode[i]) k++;
  return k;
}

/** Build an explicit column; undefined when some part can never fit (e.g. vCPUs on a node with no CPU). */
export function makeColumn(m: Model, item: Item, vcpuNode: number[], mem: number[], cellNode?: number[]): Column | undefined {
  const vm = m.problem.vms[item.vm];
  const use = cpuUse(m, vm, vcpuNode);
  for (const [r, amt] of use) if (!(amt <= m.cap[r] + 1e-9)) return undefined;
  const cur = item.cur?.mem;
  for (let j = 0; j < m.N; j++) {
    const g = mem[j] - (cur ? cur[j] : 0);
    if (g > 0) {
      if (g > m.cap[2 * m.N + j] + 1e-9) return undefined;
      use.push([2 * m.N + j, g]);
    }
  }
  const quality = columnQuality(m, item.loads, vcpuNode, mem);
  const cost = quality + memoryMove(m, cur, mem).cost + m.vcpuMoveCost * vcpuMoves(item.cur?.vcpuNode, vcpuNode);
  return { item: m.items.length, vcpuNode, mem, cellNode, quality, cost, use, key: vcpuNode.join(',') + '|' + mem.join(',') };
}

function buildItem(m: Model, vm: ProblemVm, v: number, itemIndex: number, splitAll: boolean): Item {
  const N = m.N;
  const cur = currentOf(m, vm);
  const load = vm.load.reduce((a, b) => a + b, 0);
  const item: Item = {
    vm: v, name: vm.name, loads: vm.load, load, memoryMiB: vm.memoryMiB, dedicated: !!vm.dedicated, cur,
    pairs: !vm.cells?.length,
    pairCpuOk: [], pairCpuUse: [], pairCoreUse: [], vcpuMoveTo: [], memMoveTo: [], memGrowTo: [], pairMemOk: [], explicit: [],
  };
  const sharedLoad = vm.load.reduce((s, l) => s + Math.max(l, MIN_VCPU_LOAD), 0);
  for (let a = 0; a < N; a++) {
    // same accounting as cpuUse() with every vCPU on a
    let cpu: number, cores = 0;
    if (vm.dedicated) {
      cores = m.threads[a] > 0 ? Math.ceil(vm.vcpus / m.threads[a]) : Infinity;
      cpu = m.threads[a] > 0 ? m.oc * cores * m.threads[a] : Infinity;
    } else cpu = sharedLoad;
    item.pairCpuUse.push(cpu);
    item.pairCoreUse.push(cores);
    item.pairCpuOk.push(m.sharedCpus[a].length > 0 && cpu <= m.cap[a] + 1e-9 && cores <= m.cap[N + a] + 1e-9);
    item.vcpuMoveTo.push(cur ? m.vcpuMoveCost * cur.vcpuNode.filter((n) => n !== a).length : 0);
    item.memMoveTo.push(memoryMoveToOne(m, cur?.mem, a, vm.memoryMiB));
    const grow = Math.max(0, vm.memoryMiB - (cur ? cur.mem[a] : 0));
    item.memGrowTo.push(grow);
    item.pairMemOk.push(grow <= m.cap[2 * N + a] + 1e-9);
  }
  const add = (col: Column | undefined) => {
    if (!col) return;
    col.item = itemIndex;
    if (item.explicit.some((c) => c.key === col.key)) return;
    if (item.pairs && isPair(col)) return; // already a pair column
    item.explicit.push(col);
  };
  if (cur) {
    // Stay put: the current placement, with untouched memory following what is there already.
    let mem = cur.mem.reduce((a, b) => a + b, 0) > 0 ? scaleTo(cur.mem, vm.memoryMiB) : oneHot(N, mostCommonNode(cur.vcpuNode) ?? 0, vm.memoryMiB);
    if (vm.cells?.length) {
      // A guest cell's memory belongs on its own node (verify checks it): staying keeps the vCPUs, and
      // memory found elsewhere moves to its cell's node (paying the move cost).
      mem = new Array<number>(N).fill(0);
      for (const c of vm.cells) mem[cur.vcpuNode[c.vcpus[0]]] += c.memoryMiB;
    }
    if (!vm.cells?.length || cellsWhole(vm, cur.vcpuNode)) {
      add(makeColumn(m, item, cur.vcpuNode, mem, vm.cells?.length ? vm.cells.map((c) => cur.vcpuNode[c.vcpus[0]]) : undefined));
    }
  }
  if (vm.cells?.length) {
    for (const col of cellColumns(m, item, vm)) add(col);
  } else {
    // Splits only for VMs that cannot sit whole on one node with their memory local
    // (few, and they keep the column set small for everyone else).
    const fitsLocal = item.pairCpuOk.some((ok, a) => ok && item.pairMemOk[a]);
    if (splitAll || !fitsLocal) for (const col of splitColumns(m, item, vm)) add(col);
  }
  return item;
}

function isPair(c: Column): boolean {
  const a = c.vcpuNode[0];
  if (!c.vcpuNode.every((n) => n === a)) return false;
  return c.mem.filter((x) => x > 0).length <= 1;
}

export function pairColumn(m: Model, item: Item, itemIndex: number, a: number, b: number): Column {
  const N = m.N;
  const mem = oneHot(N, b, item.memoryMiB);
  const vcpuNode = new Array<number>(item.loads.length).fill(a);
  const use: [number, number][] = [[a, item.pairCpuUse[a]]];
  if (item.pairCoreUse[a] > 0) use.push([N + a, item.pairCoreUse[a]]);
  if (item.memGrowTo[b] > 0) use.push([2 * N + b, item.memGrowTo[b]]);
  const quality = item.memoryMiB > 0 ? item.load * m.D[a][b] : item.load * 10;
  return {
    item: itemIndex, vcpuNode, mem, quality,
    cost: quality + item.memMoveTo[b] + item.vcpuMoveTo[a], use, key: vcpuNode.join(',') + '|' + mem.join(','),
  };
}

/** Pair cost without building the column (hot path of pricing). */
export function pairCost(m: Model, item: Item, a: number, b: number): number {
  const q = item.memoryMiB > 0 ? item.load * m.D[a][b] : item.load * 10;
  return q + item.memMoveTo[b] + item.vcpuMoveTo[a];
}

export function oneHot(N: number, j: number, value: number): number[] {
  const a = new Array<number>(N).fill(0);
  a[j] = value;
  return a;
}

/** Integer MiB proportional to `weights`, summing exactly to `total` (largest remainder). */
export function scaleTo(weights: number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map(() => 0);
  const raw = weights.map((w) => (w * total) / sum);
  const out = raw.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i]).sort((a, b) => b[0] - a[0]);
  for (let k = 0; left > 0 && k < order.length; k++, left--) out[order[k][1]] += 1;
  return out;
}

function cellsWhole(vm: ProblemVm, vcpuNode: number[]): boolean {
  return (vm.cells ?? []).every((c) => c.vcpus.every((i) => vcpuNode[i] === vcpuNode[c.vcpus[0]]));
}

/** Nodes by distance from h (h first), ties by index. */
function nearest(m: Model, h: number, filter: (n: number) => boolean): number[] {
  return [...Array(m.N).keys()].filter(filter).sort((x, y) => m.D[h][x] - m.D[h][y] || (x === h ? -1 : y === h ? 1 : x - y));
}

/** Guest NUMA VMs: each cell whole on one node; all cells on one node, or spread over the k nearest. */
function cellColumns(m: Model, item: Item, vm: ProblemVm): Column[] {
  const cells = vm.cells!;
  const cpuNodes = [...Array(m.N).keys()].filter((n) => m.sharedCpus[n].length > 0);
  const out: Column[] = [];
  const order = cells.map((_, i) => i).sort((x, y) => cells[y].memoryMiB - cells[x].memoryMiB || x - y);
  for (const h of cpuNodes) {
    const near = nearest(m, h, (n) => m.sharedCpus[n].length > 0);
    for (let k = 1; k <= Math.min(cells.length, near.length); k++) {
      const cellNode = new Array<number>(cells.length);
      order.forEach((c, r) => (cellNode[c] = near[r % k]));
      const vcpuNode = new Array<number>(vm.vcpus);
      const mem = new Array<number>(m.N).fill(0);
      cells.forEach((c, ci) => {
        for (const i of c.vcpus) vcpuNode[i] = cellNode[ci];
        mem[cellNode[ci]] += c.memoryMiB;
      });
      const col = makeColumn(m, item, vcpuNode, mem, cellNode);
      if (col) out.push(col);
    }
  }
  return out;
}

/**
 * A VM too large for one node: vCPUs over the nearest CPU nodes from each home node,
 * memory over the nearest nodes (memory-only ones included). Two shapes: fill the
 * home node first, or spread evenly over as few nodes as needed.
 */
function splitColumns(m: Model, item: Item, vm: ProblemVm): Column[] {
  const N = m.N;
  const out: Column[] = [];
  const cpuOk = (n: number) => m.sharedCpus[n].length > 0 && (!vm.dedicated || m.threads[n] > 0);
  for (let h = 0; h < N; h++) {
    if (!cpuOk(h)) continue;
    const cpuNear = nearest(m, h, cpuOk);
    const memNear = nearest(m, h, () => true);
    for (const shape of ['fill', 'even'] as const) {
      // vCPUs
      const vcpuNode = new Array<number>(vm.vcpus);
      let k = 1;
      if (shape === 'even') {
        let capSum = 0;
        k = 0;
        while (k < cpuNear.length && capSum < item.load + vm.vcpus * MIN_VCPU_LOAD) capSum += m.cap[cpuNear[k++]];
        k = Math.max(k, 1);
        for (let i = 0; i < vm.vcpus; i++) vcpuNode[i] = cpuNear[Math.floor((i * k) / vm.vcpus)];
      } else {
        let ni = 0, used = 0, count = 0;
        for (let i = 0; i < vm.vcpus; i++) {
          const n = cpuNear[ni];
          const l = Math.max(vm.load[i], MIN_VCPU_LOAD);
          const room = vm.dedicated ? m.cap[N + n] * m.threads[n] : m.cap[n];
          const need = vm.dedicated ? count + 1 : used + l;
          if (need > room + 1e-9 && ni + 1 < cpuNear.length && count > 0) {
            ni++;
            used = 0;
            count = 0;
          }
          vcpuNode[i] = cpuNear[ni];
          used += l;
          count++;
        }
      }
      // memory: follow the vCPUs' load share where it fits, overflow to the nearest nodes
      const want = new Array<number>(N).fill(0);
      vcpuNode.forEach((n, i) => (want[n] += Math.max(vm.load[i], MIN_VCPU_LOAD)));
      const share = shape === 'even' ? scaleTo(want, vm.memoryMiB) : oneHot(N, h, vm.memoryMiB);
      const mem = new Array<number>(N).fill(0);
      let overflow = 0;
      for (let j = 0; j < N; j++) {
        const room = Math.floor(m.cap[2 * N + j] + (item.cur ? item.cur.mem[j] : 0));
        const put = Math.min(share[j], Math.max(0, room));
        mem[j] = put;
        overflow += share[j] - put;
      }
      for (const j of memNear) {
        if (overflow <= 0) break;
        const room = Math.floor(m.cap[2 * N + j] + (item.cur ? item.cur.mem[j] : 0)) - mem[j];
        const put = Math.min(overflow, Math.max(0, room));
        mem[j] += put;
        overflow -= put;
      }
      if (overflow > 0) continue;
      const col = makeColumn(m, item, vcpuNode, mem);
      if (col) out.push(col);
    }
  }
  return out;
}

/** Number of candidate columns of an item (pairs counted where individually feasible). */
export function columnCount(m: Model, item: Item): number {
  let k = item.explicit.length;
  if (item.pairs) k += item.pairCpuOk.filter(Boolean).length * item.pairMemOk.filter(Boolean).length;
  return k;
}
