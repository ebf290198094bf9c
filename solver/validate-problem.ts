/**
 * Check a problem JSON (the `solve --input` contract) field by field, naming the
 * bad field by its path (`vms[3].load[2]`) and what is expected. Returns a
 * normalised Problem: a topology given with nodes only (as in the contract) gets
 * per-CPU records (each CPU its own core) and an empty warnings list.
 */
import { CpuSetError, parseCpuSet } from '../src/core/cpuset.js';
import type { CpuInfo, HostTopology } from '../src/core/topology.js';
import { validateTopology } from '../src/core/topology-validate.js';
import type { Problem, ProblemCell, ProblemOptions, ProblemVm } from './types.js';

export class ProblemError extends Error {
  constructor(readonly path: string, readonly why: string) {
    super(`${path}: ${why}`);
    this.name = 'ProblemError';
  }
}

type Obj = Record<string, unknown>;

const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + '...' : s;
};

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProblemError(path, `must be an object (got ${show(v)})`);
  return v as Obj;
}
function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new ProblemError(path, `must be an array (got ${show(v)})`);
  return v;
}
function num(v: unknown, path: string, opts: { min?: number; max?: number; int?: boolean; gt?: number } = {}): number {
  const what = `${opts.int ? 'an integer' : 'a number'}${opts.gt !== undefined ? ` > ${opts.gt}` : ''}${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` <= ${opts.max}` : ''}`;
  if (typeof v !== 'number' || !Number.isFinite(v) || (opts.int && !Number.isInteger(v)) || (opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max) || (opts.gt !== undefined && v <= opts.gt)) {
    throw new ProblemError(path, `must be ${what} (got ${show(v)})`);
  }
  return v;
}
function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new ProblemError(path, `must be a non-empty string (got ${show(v)})`);
  return v;
}
function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new ProblemError(path, `must be true or false (got ${show(v)})`);
  return v;
}
function onlyKeys(o: Obj, keys: string[], path: string) {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new ProblemError(`${path}.${k}`, `unknown field; expected one of ${keys.join(', ')}`);
}
function cpuset(v: unknown, path: string, allowEmpty = false): number[] {
  if (typeof v !== 'string') throw new ProblemError(path, `must be a cpuset string like "0,8" or "1-7" (got ${show(v)})`);
  try {
    return parseCpuSet(v, { allowEmpty });
  } catch (e) {
    if (e instanceof CpuSetError) throw new ProblemError(path, e.why);
    throw e;
  }
}

function topology(v: unknown): HostTopology {
  const t = obj(v, 'topology');
  const nodes = arr(t.nodes, 'topology.nodes');
  if (nodes.length === 0) throw new ProblemError('topology.nodes', 'must list at least one NUMA node');
  const ids = new Set<number>();
  const parsed = nodes.map((nv, i) => {
    const p = `topology.nodes[${i}]`;
    const n = obj(nv, p);
    const id = num(n.id, `${p}.id`, { int: true, min: 0 });
    if (ids.has(id)) throw new ProblemError(`${p}.id`, `node ${id} is listed twice`);
    ids.add(id);
    const cpus = arr(n.cpus, `${p}.cpus`).map((c, k) => num(c, `${p}.cpus[${k}]`, { int: true, min: 0 }));
    const memoryMiB = num(n.memoryMiB, `${p}.memoryMiB`, { min: 0 });
    const freeMemoryMiB = num(n.freeMemoryMiB, `${p}.freeMemoryMiB`, { min: 0 });
    if (freeMemoryMiB > memoryMiB) throw new ProblemError(`${p}.freeMemoryMiB`, `${freeMemoryMiB} is more than memoryMiB ${memoryMiB}`);
    const d = obj(n.distances, `${p}.distances`);
    const distances: Record<string, number> = {};
    for (const [k, dv] of Object.entries(d)) distances[k] = num(dv, `${p}.distances.${k}`, { gt: 0 });
    return { ...n, id, cpus: [...cpus].sort((a, b) => a - b), memoryMiB, freeMemoryMiB, distances };
  });
  parsed.forEach((n, i) => {
    for (const m of ids) if (n.distances[String(m)] === undefined) throw new ProblemError(`topology.nodes[${i}].distances`, `has no distance to node ${m}`);
    for (const k of Object.keys(n.distances)) if (!ids.has(Number(k))) throw new ProblemError(`topology.nodes[${i}].distances.${k}`, `node ${k} does not exist`);
  });
  let cpus: CpuInfo[];
  if (t.cpus === undefined) {
    cpus = parsed.flatMap((n) => n.cpus.map((id) => ({ id, node: n.id, socket: 0, die: 0, core: id, siblings: [id], online: true })));
  } else {
    cpus = arr(t.cpus, 'topology.cpus').map((cv, i) => {
      const p = `topology.cpus[${i}]`;
      const c = obj(cv, p);
      return {
        ...c,
        id: num(c.id, `${p}.id`, { int: true, min: 0 }),
        node: num(c.node, `${p}.node`, { int: true, min: 0 }),
        socket: c.socket === undefined ? 0 : num(c.socket, `${p}.socket`, { int: true, min: 0 }),
        die: c.die === undefined ? 0 : num(c.die, `${p}.die`, { int: true, min: 0 }),
        core: num(c.core, `${p}.core`, { int: true, min: 0 }),
        siblings: arr(c.siblings, `${p}.siblings`).map((s, k) => num(s, `${p}.siblings[${k}]`, { int: true, min: 0 })),
        online: bool(c.online, `${p}.online`),
      } as CpuInfo;
    });
  }
  const warnings = t.warnings === undefined ? [] : arr(t.warnings, 'topology.warnings').map((w, i) => str(w, `topology.warnings[${i}]`));
  const topo: HostTopology = { ...(t as object), nodes: parsed, cpus, warnings } as HostTopology;
  try {
    return validateTopology(topo);
  } catch (e) {
    throw new ProblemError('topology', (e as Error).message);
  }
}

const VM_KEYS = ['name', 'vcpus', 'load', 'memoryMiB', 'current', 'fixed', 'dedicated', 'cells'];
const OPTION_KEYS = ['cpuOvercommit', 'memoryMoveCostPerGiB', 'memoryMovePaybackCycles', 'vcpuMoveCost', 'timeLimitMs', 'gapTolerance', 'housekeepingCpus'];

function vm(v: unknown, i: number, topo: HostTopology): ProblemVm {
  const p = `vms[${i}]`;
  const o = obj(v, p);
  onlyKeys(o, VM_KEYS, p);
  const name = str(o.name, `${p}.name`);
  const vcpus = num(o.vcpus, `${p}.vcpus`, { int: true, min: 1 });
  const load = arr(o.load, `${p}.load`).map((l, k) => num(l, `${p}.load[${k}]`, { min: 0, max: 1 }));
  if (load.length !== vcpus) throw new ProblemError(`${p}.load`, `has ${load.length} entries but the VM has ${vcpus} vCPUs (one busy fraction per vCPU)`);
  const memoryMiB = num(o.memoryMiB, `${p}.memoryMiB`, { int: true, min: 0 });
  const out: ProblemVm = { name, vcpus, load, memoryMiB };
  const nodeIds = new Set(topo.nodes.map((n) => n.id));
  const cpuNodes = new Set(topo.nodes.filter((n) => n.cpus.length > 0).map((n) => n.id));
  if (o.current !== undefined) {
    const c = obj(o.current, `${p}.current`);
    onlyKeys(c, ['vcpuNodes', 'memoryMiB'], `${p}.current`);
    const vcpuNodes = arr(c.vcpuNodes, `${p}.current.vcpuNodes`).map((n, k) => {
      const id = num(n, `${p}.current.vcpuNodes[${k}]`, { int: true, min: 0 });
      if (!nodeIds.has(id)) throw new ProblemError(`${p}.current.vcpuNodes[${k}]`, `node ${id} does not exist`);
      if (!cpuNodes.has(id)) throw new ProblemError(`${p}.current.vcpuNodes[${k}]`, `node ${id} has no CPUs`);
      return id;
    });
    if (vcpuNodes.length !== vcpus) throw new ProblemError(`${p}.current.vcpuNodes`, `has ${vcpuNodes.length} entries but the VM has ${vcpus} vCPUs`);
    const mem = obj(c.memoryMiB, `${p}.current.memoryMiB`);
    const memoryMiBc: Record<string, number> = {};
    for (const [k, mv] of Object.entries(mem)) {
      if (!nodeIds.has(Number(k)) || String(Number(k)) !== k) throw new ProblemError(`${p}.current.memoryMiB.${k}`, `node ${k} does not exist`);
      memoryMiBc[k] = num(mv, `${p}.current.memoryMiB.${k}`, { min: 0 });
    }
    out.current = { vcpuNodes, memoryMiB: memoryMiBc };
  }
  if (o.fixed !== undefined) {
    out.fixed = bool(o.fixed, `${p}.fixed`);
    if (out.fixed && !out.current) throw new ProblemError(`${p}.fixed`, 'a fixed VM keeps its current placement, so it needs `current`');
  }
  if (o.dedicated !== undefined) out.dedicated = bool(o.dedicated, `${p}.dedicated`);
  if (o.cells !== undefined) {
    const cellsIn = arr(o.cells, `${p}.cells`);
    const seen = new Array<number>(vcpus).fill(0);
    const ids = new Set<number>();
    let mem = 0;
    out.cells = cellsIn.map((cv, k): ProblemCell => {
      const cp = `${p}.cells[${k}]`;
      const c = obj(cv, cp);
      onlyKeys(c, ['id', 'vcpus', 'memoryMiB'], cp);
      const id = num(c.id, `${cp}.id`, { int: true, min: 0 });
      if (ids.has(id)) throw new ProblemError(`${cp}.id`, `cell ${id} is listed twice`);
      ids.add(id);
      const cv2 = arr(c.vcpus, `${cp}.vcpus`).map((x, j) => {
        const n = num(x, `${cp}.vcpus[${j}]`, { int: true, min: 0, max: vcpus - 1 });
        seen[n]++;
        return n;
      });
      if (cv2.length === 0) throw new ProblemError(`${cp}.vcpus`, 'a cell needs at least one vCPU');
      const cm = num(c.memoryMiB, `${cp}.memoryMiB`, { int: true, min: 0 });
      mem += cm;
      return { id, vcpus: cv2, memoryMiB: cm };
    });
    seen.forEach((k, j) => {
      if (k !== 1) throw new ProblemError(`${p}.cells`, `vCPU ${j} is in ${k} cells; every vCPU must be in exactly one`);
    });
    if (mem !== memoryMiB) throw new ProblemError(`${p}.cells`, `cells hold ${mem} MiB but the VM has memoryMiB ${memoryMiB}`);
  }
  return out;
}

function options(v: unknown, topo: HostTopology): ProblemOptions {
  const o = obj(v, 'options');
  onlyKeys(o, OPTION_KEYS, 'options');
  const out: ProblemOptions = {};
  if (o.cpuOvercommit !== undefined) out.cpuOvercommit = num(o.cpuOvercommit, 'options.cpuOvercommit', { gt: 0, max: 64 });
  if (o.memoryMoveCostPerGiB !== undefined) out.memoryMoveCostPerGiB = num(o.memoryMoveCostPerGiB, 'options.memoryMoveCostPerGiB', { min: 0 });
  if (o.memoryMovePaybackCycles !== undefined) out.memoryMovePaybackCycles = num(o.memoryMovePaybackCycles, 'options.memoryMovePaybackCycles', { min: 1 });
  if (o.vcpuMoveCost !== undefined) out.vcpuMoveCost = num(o.vcpuMoveCost, 'options.vcpuMoveCost', { min: 0 });
  if (o.timeLimitMs !== undefined) out.timeLimitMs = num(o.timeLimitMs, 'options.timeLimitMs', { gt: 0, max: 600000 });
  if (o.gapTolerance !== undefined) out.gapTolerance = num(o.gapTolerance, 'options.gapTolerance', { min: 0, max: 1 });
  if (o.housekeepingCpus !== undefined) {
    const ids = cpuset(o.housekeepingCpus, 'options.housekeepingCpus');
    const online = new Set(topo.nodes.flatMap((n) => n.cpus));
    for (const c of ids) if (!online.has(c)) throw new ProblemError('options.housekeepingCpus', `CPU ${c} is offline or does not exist`);
    out.housekeepingCpus = o.housekeepingCpus as string;
  }
  return out;
}

export function validateProblem(input: unknown): Problem {
  const o = obj(input, 'problem');
  onlyKeys(o, ['topology', 'reservedCpus', 'vms', 'options'], 'problem');
  const topo = topology(o.topology);
  const out: Problem = { topology: topo, vms: [] };
  if (o.reservedCpus !== undefined) {
    cpuset(o.reservedCpus, 'reservedCpus', true);
    out.reservedCpus = o.reservedCpus as string;
  }
  const names = new Map<string, number>();
  out.vms = arr(o.vms, 'vms').map((v, i) => {
    const parsed = vm(v, i, topo);
    const prev = names.get(parsed.name);
    if (prev !== undefined) throw new ProblemError(`vms[${i}].name`, `${JSON.stringify(parsed.name)} is also the name of vms[${prev}]`);
    names.set(parsed.name, i);
    return parsed;
  });
  if (o.options !== undefined) out.options = options(o.options, topo);
  return out;
}
