/**
 * Scenario JSON -> Scenario, with defaults filled in. Every error names the field by its path
 * (e.g. `vms[2].load.level`) and says what was expected, so a hand-written file is easy to fix.
 */
import { SHARES_MAX, SHARES_MIN } from '../core/shares.js';
import { CpuSetError, parseCpuSet } from '../core/cpuset.js';
import {
  NUMA_MODES, TRACE_KINDS,
  type InlineTopology, type LoadTrace, type NumaMode, type Scenario, type ScenarioGuestCell,
  type ScenarioJob, type ScenarioPlacement, type ScenarioVm,
} from './scenario.js';

export class ScenarioError extends Error {
  constructor(readonly source: string, readonly field: string, problem: string) {
    super(`scenario ${source}: ${field}: ${problem}`);
    this.name = 'ScenarioError';
  }
}

type Obj = Record<string, unknown>;

/** Reads fields of one JSON object, rejecting unknown keys, with the object's path in every error. */
class Fields {
  private readonly seen = new Set<string>();
  constructor(private readonly src: string, readonly path: string, private readonly o: Obj) {}

  static of(src: string, path: string, v: unknown): Fields {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ScenarioError(src, path || '(top level)', `expected an object, got ${show(v)}`);
    return new Fields(src, path, v as Obj);
  }
  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }
  fail(key: string, problem: string): never {
    throw new ScenarioError(this.src, this.at(key), problem);
  }
  keys(): string[] {
    return Object.keys(this.o);
  }
  has(key: string): boolean {
    return this.o[key] !== undefined;
  }
  raw(key: string): unknown {
    this.seen.add(key);
    return this.o[key];
  }
  num(key: string, opts: { min?: number; max?: number; int?: boolean; def?: number } = {}): number {
    const v = this.raw(key);
    if (v === undefined) {
      if (opts.def !== undefined) return opts.def;
      this.fail(key, 'is required');
    }
    const range = `${opts.min ?? '-inf'}..${opts.max ?? 'inf'}`;
    if (typeof v !== 'number' || !Number.isFinite(v) || (opts.int && !Number.isInteger(v))
      || (opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
      this.fail(key, `expected ${opts.int ? 'an integer' : 'a number'} in ${range}, got ${show(v)}`);
    }
    return v;
  }
  optNum(key: string, opts: { min?: number; max?: number; int?: boolean } = {}): number | undefined {
    return this.has(key) ? this.num(key, opts) : (this.raw(key), undefined);
  }
  str(key: string, def?: string): string {
    const v = this.raw(key);
    if (v === undefined && def !== undefined) return def;
    if (typeof v !== 'string' || v === '') this.fail(key, `expected a non-empty string, got ${show(v)}`);
    return v;
  }
  optStr(key: string): string | undefined {
    return this.has(key) ? this.str(key) : (this.raw(key), undefined);
  }
  bool(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return def;
    if (typeof v !== 'boolean') this.fail(key, `expected true or false, got ${show(v)}`);
    return v;
  }
  arr(key: string, def?: unknown[]): unknown[] {
    const v = this.raw(key);
    if (v === undefined && def !== undefined) return def;
    if (!Array.isArray(v)) this.fail(key, `expected an array, got ${show(v)}`);
    return v;
  }
  cpuset(key: string, maybe?: string): number[] {
    const text = maybe ?? this.str(key);
    try {
      return parseCpuSet(text);
    } catch (e) {
      if (e instanceof CpuSetError) this.fail(key, `${show(text)} is not a CPU/node list: ${e.message}`);
      throw e;
    }
  }
  /** Call last: unknown keys are typos, not silently ignored settings. */
  done(): void {
    for (const k of Object.keys(this.o)) {
      if (!this.seen.has(k) && this.o[k] !== undefined) this.fail(k, 'unknown field (check the spelling; see docs/scenarios.md)');
    }
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function parseTrace(src: string, path: string, v: unknown, maxLevel = 1): LoadTrace {
  const f = Fields.of(src, path, v);
  const kind = f.str('kind');
  const level = (k: string, def?: number) => f.num(k, { min: 0, max: maxLevel, def });
  const secs = (k: string, def?: number) => f.num(k, { min: 0, def });
  let t: LoadTrace;
  switch (kind) {
    case 'steady': t = { kind, level: level('level') }; break;
    case 'bursty': {
      const base = level('base');
      const peak = level('peak');
      if (peak < base) f.fail('peak', `must be at least base (${base}), got ${peak}`);
      t = { kind, base, peak, probability: f.num('probability', { min: 0, max: 1 }), burstSeconds: f.num('burstSeconds', { min: 1, def: 60 }) };
      break;
    }
    case 'ramping': {
      const startSeconds = secs('startSeconds', 0);
      const endSeconds = secs('endSeconds');
      if (endSeconds <= startSeconds) f.fail('endSeconds', `must be after startSeconds (${startSeconds}), got ${endSeconds}`);
      t = { kind, from: level('from'), to: level('to'), startSeconds, endSeconds };
      break;
    }
    case 'diurnal':
      t = { kind, mean: level('mean'), amplitude: f.num('amplitude', { min: 0, max: maxLevel }), periodSeconds: f.num('periodSeconds', { min: 1, def: 86400 }), phaseSeconds: secs('phaseSeconds', 0) };
      break;
    case 'saturating':
      t = { kind, from: level('from', 0.2), startSeconds: secs('startSeconds', 0), rampSeconds: f.num('rampSeconds', { min: 0, def: 600 }) };
      break;
    case 'phases': {
      const phases = f.arr('phases').map((p, i) => {
        const pf = Fields.of(src, `${f.at('phases')}[${i}]`, p);
        const phase = { atSeconds: pf.num('atSeconds', { min: 0 }), trace: parseTrace(src, pf.at('trace'), pf.raw('trace'), maxLevel) };
        pf.done();
        return phase;
      });
      if (phases.length === 0) f.fail('phases', 'needs at least one phase');
      phases.forEach((p, i) => {
        if (i > 0 && p.atSeconds <= phases[i - 1].atSeconds) f.fail(`phases[${i}].atSeconds`, `must increase (previous phase starts at ${phases[i - 1].atSeconds})`);
      });
      t = { kind, phases };
      break;
    }
    default:
      return f.fail('kind', `expected one of ${TRACE_KINDS.join(', ')}, got ${show(kind)}`);
  }
  f.done();
  return t;
}

function parseMode(f: Fields, key: string): NumaMode {
  const m = f.str(key);
  if (!(NUMA_MODES as readonly string[]).includes(m)) f.fail(key, `expected one of ${NUMA_MODES.join(', ')}, got ${show(m)}`);
  return m as NumaMode;
}

function parsePlacement(src: string, path: string, v: unknown, vm: { vcpusMax: number; memoryMiB: number }): ScenarioPlacement {
  const f = Fields.of(src, path, v ?? {});
  const vcpuPins: Record<number, string> = {};
  const pins = f.raw('vcpuPins');
  if (Array.isArray(pins)) {
    if (pins.length > vm.vcpusMax) f.fail('vcpuPins', `lists ${pins.length} vCPUs but the VM has at most ${vm.vcpusMax}`);
    pins.forEach((p, i) => {
      if (p === null) return;
      if (typeof p !== 'string') f.fail(`vcpuPins[${i}]`, `expected a cpuset string or null, got ${show(p)}`);
      f.cpuset(`vcpuPins[${i}]`, p);
      vcpuPins[i] = p;
    });
  } else if (typeof pins === 'string') {
    f.cpuset('vcpuPins', pins);
    for (let i = 0; i < vm.vcpusMax; i++) vcpuPins[i] = pins;
  } else if (typeof pins === 'object' && pins !== null) {
    // { "vCPU id": cpuset }: the parsed form, so a parsed scenario validates again unchanged.
    const pf = Fields.of(src, f.at('vcpuPins'), pins);
    for (const k of pf.keys()) {
      if (!/^\d+$/.test(k) || Number(k) >= vm.vcpusMax) pf.fail(k, `keys are vCPU ids below ${vm.vcpusMax}`);
      vcpuPins[Number(k)] = pf.str(k);
      pf.cpuset(k, vcpuPins[Number(k)]);
    }
  } else if (pins !== undefined) {
    f.fail('vcpuPins', `expected a cpuset string (all vCPUs), an array of them (per vCPU id) or an object keyed by vCPU id, got ${show(pins)}`);
  }
  const emulatorPin = f.optStr('emulatorPin');
  if (emulatorPin !== undefined) f.cpuset('emulatorPin', emulatorPin);
  let numatune: ScenarioPlacement['numatune'];
  if (f.has('numatune')) {
    // The parsed form { mode, nodeset }; the documented form is nodeset/mode directly in placement.
    const nf = Fields.of(src, f.at('numatune'), f.raw('numatune'));
    numatune = { mode: parseMode(nf, 'mode'), nodeset: nf.str('nodeset') };
    nf.cpuset('nodeset', numatune.nodeset);
    nf.done();
    if (f.has('nodeset') || f.has('mode')) f.fail('numatune', 'give either numatune or nodeset/mode, not both');
  } else if (f.has('nodeset') || f.has('mode')) {
    const nodeset = f.str('nodeset');
    f.cpuset('nodeset', nodeset);
    numatune = { mode: f.has('mode') ? parseMode(f, 'mode') : 'strict', nodeset };
  }
  let memoryByNode: Record<string, number> | undefined;
  if (f.has('memoryByNode')) {
    const mf = Fields.of(src, f.at('memoryByNode'), f.raw('memoryByNode'));
    memoryByNode = {};
    let sum = 0;
    for (const k of mf.keys()) {
      if (!/^\d+$/.test(k)) mf.fail(k, 'keys are host node ids');
      memoryByNode[k] = mf.num(k, { min: 0, int: true });
      sum += memoryByNode[k];
    }
    if (sum !== vm.memoryMiB) f.fail('memoryByNode', `sums to ${sum} MiB but the VM has memoryMiB ${vm.memoryMiB}`);
  }
  const memnodes = f.arr('memnodes', []).map((m, i) => {
    const mf = Fields.of(src, `${f.at('memnodes')}[${i}]`, m);
    const r = { cellid: mf.num('cellid', { min: 0, int: true }), mode: parseMode(mf, 'mode'), nodeset: mf.str('nodeset') };
    mf.cpuset('nodeset', r.nodeset);
    mf.done();
    return r;
  });
  f.done();
  return { vcpuPins, emulatorPin, memoryByNode, numatune, memnodes };
}

function parseVm(src: string, path: string, v: unknown): ScenarioVm {
  const f = Fields.of(src, path, v);
  const name = f.str('name');
  let vcpus: { current: number; max: number };
  const rv = f.raw('vcpus');
  if (typeof rv === 'number') {
    vcpus = { current: f.num('vcpus', { min: 1, max: 4096, int: true }), max: rv };
  } else {
    const vf = Fields.of(src, f.at('vcpus'), rv);
    const max = vf.num('max', { min: 1, max: 4096, int: true });
    vcpus = { current: vf.num('current', { min: 1, max, int: true, def: max }), max };
    vf.done();
  }
  const memoryMiB = f.num('memoryMiB', { min: 1, int: true });
  const maxMemoryMiB = f.optNum('maxMemoryMiB', { min: memoryMiB, int: true });
  const memorySlots = f.optNum('memorySlots', { min: 1, max: 256, int: true });
  if ((maxMemoryMiB === undefined) !== (memorySlots === undefined)) {
    f.fail(maxMemoryMiB === undefined ? 'maxMemoryMiB' : 'memorySlots', 'memory hot-plug needs both maxMemoryMiB and memorySlots (<maxMemory slots=...>)');
  }
  const guestCells: ScenarioGuestCell[] = f.arr('guestCells', []).map((c, i) => {
    const cf = Fields.of(src, `${f.at('guestCells')}[${i}]`, c);
    const rawCpus = cf.raw('cpus');
    const cpus = Array.isArray(rawCpus) && rawCpus.every((x) => Number.isInteger(x) && x >= 0) ? (rawCpus as number[]) : cf.cpuset('cpus');
    const cell = { id: cf.num('id', { min: 0, int: true }), cpus, memoryMiB: cf.num('memoryMiB', { min: 1, int: true }) };
    if (cell.id !== i) cf.fail('id', `guest cells must be numbered 0, 1, ... in order; expected ${i}, got ${cell.id}`);
    if (cell.cpus.some((c2) => c2 >= vcpus.max)) cf.fail('cpus', `names a vCPU beyond the VM's ${vcpus.max}`);
    cf.done();
    return cell;
  });
  if (guestCells.length > 0) {
    const sum = guestCells.reduce((s, c) => s + c.memoryMiB, 0);
    if (sum !== memoryMiB) f.fail('guestCells', `cell memory sums to ${sum} MiB but memoryMiB is ${memoryMiB}`);
  }
  if (maxMemoryMiB !== undefined && guestCells.length === 0) {
    f.fail('guestCells', 'At least one numa node has to be configured when enabling memory hotplug (libvirt refuses to define such a VM)');
  }
  const metaRaw = f.raw('metadata') ?? {};
  const mf = Fields.of(src, f.at('metadata'), metaRaw);
  const metadata: Record<string, string> = {};
  for (const [k, val] of Object.entries(metaRaw as Obj)) {
    if (typeof val === 'string') metadata[k] = val;
    else if (typeof val === 'number' || typeof val === 'boolean') metadata[k] = String(val);
    else mf.fail(k, `expected a string, number or boolean, got ${show(val)}`);
  }
  const loadRaw = f.raw('load');
  let load: LoadTrace[];
  if (loadRaw === undefined) load = [{ kind: 'steady', level: 0 }];
  else if (Array.isArray(loadRaw)) {
    if (loadRaw.length === 0) f.fail('load', 'needs at least one trace');
    load = loadRaw.map((t, i) => parseTrace(src, `${f.at('load')}[${i}]`, t));
  } else load = [parseTrace(src, f.at('load'), loadRaw)];
  const memoryUse = f.has('memoryUse') ? parseTrace(src, f.at('memoryUse'), f.raw('memoryUse'), 4) : (f.raw('memoryUse'), undefined);
  const jobs: ScenarioJob[] = f.arr('jobs', []).map((j, i) => {
    const jf = Fields.of(src, `${f.at('jobs')}[${i}]`, j);
    const job = { kind: jf.str('kind', 'migration'), fromSeconds: jf.num('fromSeconds', { min: 0 }), toSeconds: jf.num('toSeconds', { min: 0 }) };
    if (job.toSeconds <= job.fromSeconds) jf.fail('toSeconds', `must be after fromSeconds (${job.fromSeconds})`);
    jf.done();
    return job;
  });
  const arriveAtSeconds = f.num('arriveAtSeconds', { min: 0, def: 0 });
  const departAtSeconds = f.optNum('departAtSeconds', { min: 0 });
  if (departAtSeconds !== undefined && departAtSeconds <= arriveAtSeconds) f.fail('departAtSeconds', `must be after arriveAtSeconds (${arriveAtSeconds})`);
  const vm: ScenarioVm = {
    name,
    uuid: f.optStr('uuid'),
    vcpus,
    memoryMiB,
    maxMemoryMiB,
    memorySlots,
    guestCells,
    coresPerSocket: f.num('coresPerSocket', { min: 1, int: true, def: 1 }),
    threadsPerCore: f.num('threadsPerCore', { min: 1, int: true, def: 1 }),
    machine: f.str('machine', 'pc-i440fx-7.2'),
    arch: f.str('arch', 'x86_64'),
    osType: f.optStr('osType'),
    hasVhostUser: f.bool('hasVhostUser', false),
    hugepageKiB: f.optNum('hugepageKiB', { min: 4, int: true }),
    virtioNetDevices: f.num('virtioNetDevices', { min: 0, max: 64, int: true, def: 0 }),
    guestAgent: f.bool('guestAgent', false),
    guestOnlinesHotplug: f.bool('guestOnlinesHotplug', true),
    persistent: f.bool('persistent', true),
    cpuShares: f.num('cpuShares', { min: SHARES_MIN, max: SHARES_MAX, int: true, def: 1024 }),
    metadata,
    placement: parsePlacement(src, f.at('placement'), f.raw('placement'), { vcpusMax: vcpus.max, memoryMiB }),
    load,
    memoryUse,
    jobs,
    arriveAtSeconds,
    departAtSeconds,
  };
  f.done();
  return vm;
}

function parseInlineTopology(src: string, path: string, v: unknown): InlineTopology {
  const f = Fields.of(src, path, v);
  const nodes = f.arr('nodes').map((n, i) => {
    const nf = Fields.of(src, `${f.at('nodes')}[${i}]`, n);
    const cpus = nf.arr('cpus');
    cpus.forEach((c, j) => {
      if (!Number.isInteger(c) || (c as number) < 0) nf.fail(`cpus[${j}]`, `expected a CPU id, got ${show(c)}`);
    });
    const df = Fields.of(src, nf.at('distances'), nf.raw('distances'));
    const distances: Record<string, number> = {};
    for (const k of df.keys()) distances[k] = df.num(k, { min: 1 });
    df.done();
    const node = { id: nf.num('id', { min: 0, int: true }), cpus: cpus as number[], memoryMiB: nf.num('memoryMiB', { min: 0 }), distances };
    nf.optNum('freeMemoryMiB', { min: 0 }); // accepted for round-tripping `topology --json`; the simulation derives free memory
    nf.done();
    return node;
  });
  if (nodes.length === 0) f.fail('nodes', 'needs at least one node');
  f.done();
  return { nodes };
}

/** Validate a parsed scenario document; `source` (file path or built-in name) prefixes every error. */
export function parseScenario(raw: unknown, source: string): Scenario {
  const f = Fields.of(source, '', raw);
  const topoRaw = f.raw('topology');
  const topology = typeof topoRaw === 'string' ? f.str('topology') : parseInlineTopology(source, 'topology', topoRaw);
  const hostRaw = f.raw('hostUsedMiB');
  let hostUsedMiB: number[] | number = 512;
  if (Array.isArray(hostRaw)) {
    hostUsedMiB = hostRaw.map((x, i) => {
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) f.fail(`hostUsedMiB[${i}]`, `expected MiB >= 0, got ${show(x)}`);
      return x;
    });
  } else if (hostRaw !== undefined) hostUsedMiB = f.num('hostUsedMiB', { min: 0 });
  const vms = f.arr('vms').map((v, i) => parseVm(source, `vms[${i}]`, v));
  const names = new Set<string>();
  vms.forEach((vm, i) => {
    if (names.has(vm.name)) throw new ScenarioError(source, `vms[${i}].name`, `${show(vm.name)} is used by another VM; names must be unique`);
    names.add(vm.name);
  });
  const s: Scenario = {
    name: f.str('name', source),
    description: f.has('description') ? f.str('description') : (f.raw('description'), ''),
    seed: f.num('seed', { int: true, min: 0, max: 2 ** 32 - 1 }),
    topology,
    tickSeconds: f.num('tickSeconds', { min: 0.001, def: 10 }),
    memoryMigrationMiBPerSecond: f.num('memoryMigrationMiBPerSecond', { min: 0, def: 256 }),
    hostUsedMiB,
    numaBalancingMiBPerSecond: f.num('numaBalancingMiBPerSecond', { min: 0, def: 0 }),
    vms,
  };
  f.done();
  return s;
}
