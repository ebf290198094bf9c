/**
 * The daemon's configuration (CONFIG-KEYS.md): one JSON file, every key optional
 * (missing keys take the defaults of DEFAULT_CONFIG, documented in config/README.md).
 * Parsed once, validated as a whole (every problem reported, not just the first),
 * deep-frozen. Unknown keys are errors, with the nearest known key suggested: a
 * misspelt key silently ignored would leave a daemon doing what the operator did not ask.
 */
import { BoundedReadError, jsonDepthProblem, readBoundedText, READ_LIMITS } from '../host/read-bounded.js';
import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import cron from 'node-cron';
import { UsageError } from '../cli/args.js';
import { CpuSetError, formatCpuSet, parseCpuSet } from '../topology/cpuset.js';

export type Mode = 'advisory' | 'apply';
export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Config {
  /** libvirt URI of the hypervisor to manage. */
  readonly connect: string;
  /** node-cron expression (6 fields: seconds first; 5 fields run at second 0). */
  readonly schedule: string;
  readonly mode: Mode;
  /** Canonical cpuset ("0,2-3"); "" = none. */
  readonly reservedCpus: string;
  readonly cpuOvercommit: number;
  readonly persistConfig: boolean;
  readonly churn: {
    readonly improvementMargin: number;
    readonly holdCycles: number;
    readonly maxVmsPerCycle: number;
    readonly memoryMigrationMiBPerCycle: number;
    readonly cooldownCycles: number;
  };
  readonly exclude: { readonly names: readonly string[]; readonly metadata: boolean };
  readonly shares: {
    readonly enabled: boolean;
    readonly perVcpu: number;
    readonly classes: Readonly<Record<string, number>>;
    readonly weights: Readonly<Record<string, number>>;
  };
  readonly solver: { readonly timeLimitMs: number; readonly memoryMoveCostPerGiB: number; readonly vcpuMoveCost: number };
  /** Canonical cpuset; "" = emulator threads on the VM's node CPUs. */
  readonly emulator: { readonly housekeepingCpus: string };
  readonly load: { readonly windowCycles: number };
  readonly virsh: { readonly timeoutMs: number };
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly metrics: { readonly enabled: boolean; readonly address: string; readonly port: number };
  readonly stateDir: string;
  readonly log: { readonly format: LogFormat; readonly level: LogLevel };
  readonly hotplug: {
    readonly vcpu: {
      readonly enabled: boolean;
      readonly threshold: number;
      readonly windowCycles: number;
      readonly cooldownCycles: number;
      readonly maxVcpus: number;
      readonly hysteresis: number;
    };
    readonly memory: {
      readonly enabled: boolean;
      readonly minAvailableRatio: number;
      readonly windowCycles: number;
      readonly cooldownCycles: number;
      readonly stepMiB: number;
      readonly blockSizeMiB: number;
    };
  };
}

/** Deep-freezes plain objects and arrays in place; returns its argument. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/**
 * A map keyed by names from outside (VM names, class names) without a prototype, so a VM
 * called "constructor" or "toString" looks up nothing rather than an Object method.
 */
function nameMap(entries: Record<string, number>): Record<string, number> {
  return Object.assign(Object.create(null) as Record<string, number>, entries);
}

/** The documented defaults (config/numaplace.json holds the same, a test keeps them equal). */
export const DEFAULT_CONFIG: Config = deepFreeze<Config>({
  connect: 'qemu:///system',
  schedule: '*/10 * * * * *',
  mode: 'advisory',
  reservedCpus: '',
  cpuOvercommit: 1.0,
  persistConfig: false,
  churn: { improvementMargin: 0.02, holdCycles: 3, maxVmsPerCycle: 4, memoryMigrationMiBPerCycle: 8192, cooldownCycles: 6 },
  exclude: { names: [], metadata: true },
  shares: { enabled: true, perVcpu: 1024, classes: nameMap({ gold: 2, silver: 1, bronze: 0.5 }), weights: nameMap({}) },
  solver: { timeLimitMs: 1000, memoryMoveCostPerGiB: 0.05, vcpuMoveCost: 0.5 },
  emulator: { housekeepingCpus: '' },
  load: { windowCycles: 6 },
  virsh: { timeoutMs: 30000 },
  backoff: { initialMs: 10000, maxMs: 300000 },
  metrics: { enabled: true, address: '127.0.0.1', port: 9464 },
  stateDir: '/var/lib/numaplace',
  log: { format: 'text', level: 'info' },
  hotplug: {
    vcpu: { enabled: true, threshold: 0.9, windowCycles: 6, cooldownCycles: 30, maxVcpus: 0, hysteresis: 0.1 },
    memory: { enabled: true, minAvailableRatio: 0.1, windowCycles: 6, cooldownCycles: 30, stepMiB: 1024, blockSizeMiB: 128 },
  },
});

/**
 * A configuration the daemon cannot use. Extends UsageError so the CLI exits 2 with
 * the message as its one line. `problems` holds each problem ("key: what is wrong").
 */
export class ConfigError extends UsageError {
  constructor(
    /** The file, "command line" or "configuration". */
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

// ---------------------------------------------------------------------------
// Checks of single values. Each returns the value to store (possibly normalised)
// or throws Problem with what is wrong and what is allowed.

class Problem extends Error {}

type Check = (value: unknown) => unknown;

/** Short, quoted rendering of a bad value for an error message. */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function bad(value: unknown, allowed: string): never {
  throw new Problem(`got ${showValue(value)}, expected ${allowed}`);
}

const bool: Check = (v) => (typeof v === 'boolean' ? v : bad(v, 'true or false'));

function oneOf<T extends string>(...allowed: T[]): Check {
  const text = allowed.map((a) => JSON.stringify(a)).join(' or ');
  return (v) => (typeof v === 'string' && (allowed as string[]).includes(v) ? v : bad(v, text));
}

interface Range {
  min?: number;
  /** Lower bound excluded (a number strictly above min). */
  minExclusive?: boolean;
  max?: number;
}

function rangeText(kind: string, r: Range): string {
  const lo = r.min === undefined ? '' : `${r.minExclusive ? '>' : '>='} ${r.min}`;
  const hi = r.max === undefined ? '' : `<= ${r.max}`;
  if (lo && hi && !r.minExclusive) return `${kind} from ${r.min} to ${r.max}`;
  return [kind, lo, lo && hi ? 'and' : '', hi].filter(Boolean).join(' ');
}

function inRange(n: number, r: Range): boolean {
  if (r.min !== undefined && (r.minExclusive ? n <= r.min : n < r.min)) return false;
  return r.max === undefined || n <= r.max;
}

function num(r: Range): Check {
  const allowed = rangeText('a number', r);
  return (v) => (typeof v === 'number' && Number.isFinite(v) && inRange(v, r) ? v : bad(v, allowed));
}

function int(r: Range): Check {
  const allowed = rangeText('an integer', r);
  return (v) => (typeof v === 'number' && Number.isSafeInteger(v) && inRange(v, r) ? v : bad(v, allowed));
}

/** A cpuset in libvirt syntax, "" allowed; stored in canonical form. */
const cpuset: Check = (v) => {
  if (typeof v !== 'string') bad(v, 'a cpuset string such as "0,64" or "0-3" ("" for none)');
  try {
    return formatCpuSet(parseCpuSet(v, { allowEmpty: true }));
  } catch (e) {
    if (e instanceof CpuSetError) throw new Problem(e.message);
    throw e;
  }
};

const cronExpr: Check = (v) => {
  if (typeof v !== 'string') bad(v, 'a node-cron expression string such as "*/10 * * * * *"');
  const result = cron.validateDetailed(v);
  if (!result.valid) {
    const why = result.errors.map((e) => e.message).join(', ') || 'not a valid cron expression';
    throw new Problem(`invalid cron expression ${showValue(v)}: ${why} (expected 6 fields, seconds first, e.g. "*/10 * * * * *")`);
  }
  return v;
};

const ipLiteral: Check = (v) => {
  if (typeof v === 'string' && isIP(v) !== 0) return v;
  bad(v, 'an IP address literal such as "127.0.0.1", "0.0.0.0" or "::1" (not a host name)');
};

const uri: Check = (v) => {
  if (typeof v === 'string' && /^[a-z][a-z0-9+.-]*:\S*$/i.test(v)) return v;
  bad(v, 'a libvirt URI such as "qemu:///system"');
};

const absPath: Check = (v) => {
  if (typeof v === 'string' && isAbsolute(v) && !v.includes('\0')) return v;
  bad(v, 'an absolute directory path such as "/var/lib/numaplace"');
};

const globList: Check = (v) => {
  if (!Array.isArray(v)) bad(v, 'an array of name patterns such as ["test-*", "build?"]');
  v.forEach((p, i) => {
    if (typeof p !== 'string' || p === '') throw new Problem(`item ${i}: got ${showValue(p)}, expected a non-empty name pattern (* and ? are wildcards)`);
  });
  return [...v];
};

/** {name: weight} with weights > 0 (weights multiply the cpu_shares of a VM); a prototype-free map. */
const weightMap: Check = (v) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(v, 'an object of {"name": weight}');
  const out = nameMap({});
  for (const [name, w] of Object.entries(v as Record<string, unknown>)) {
    if (name === '') throw new Problem('an empty name is not allowed');
    if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0) throw new Problem(`${showValue(name)}: got ${showValue(w)}, expected a number > 0`);
    Object.defineProperty(out, name, { value: w, enumerable: true, writable: true, configurable: true });
  }
  return out;
};

const powerOfTwoMiB: Check = (v) => {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && (v & (v - 1)) === 0) return v;
  bad(v, 'a power of two in MiB such as 128 (the guest\'s memory block size, see lsmem)');
};

/** Every leaf key, by dotted path. The tree's shape is DEFAULT_CONFIG's. */
const CHECKS: Readonly<Record<string, Check>> = {
  connect: uri,
  schedule: cronExpr,
  mode: oneOf<Mode>('advisory', 'apply'),
  reservedCpus: cpuset,
  cpuOvercommit: num({ min: 0, minExclusive: true }),
  persistConfig: bool,
  'churn.improvementMargin': num({ min: 0 }),
  'churn.holdCycles': int({ min: 1 }),
  'churn.maxVmsPerCycle': int({ min: 1 }),
  'churn.memoryMigrationMiBPerCycle': int({ min: 0 }),
  'churn.cooldownCycles': int({ min: 0 }),
  'exclude.names': globList,
  'exclude.metadata': bool,
  'shares.enabled': bool,
  'shares.perVcpu': int({ min: 2, max: 262144 }),
  'shares.classes': weightMap,
  'shares.weights': weightMap,
  'solver.timeLimitMs': int({ min: 1, max: 3600000 }),
  'solver.memoryMoveCostPerGiB': num({ min: 0 }),
  'solver.vcpuMoveCost': num({ min: 0 }),
  'emulator.housekeepingCpus': cpuset,
  'load.windowCycles': int({ min: 1 }),
  'virsh.timeoutMs': int({ min: 1 }),
  'backoff.initialMs': int({ min: 1 }),
  'backoff.maxMs': int({ min: 1 }),
  'metrics.enabled': bool,
  'metrics.address': ipLiteral,
  'metrics.port': int({ min: 1, max: 65535 }),
  stateDir: absPath,
  'log.format': oneOf<LogFormat>('text', 'json'),
  'log.level': oneOf<LogLevel>('debug', 'info', 'warn', 'error'),
  'hotplug.vcpu.enabled': bool,
  'hotplug.vcpu.threshold': num({ min: 0, minExclusive: true, max: 1 }),
  'hotplug.vcpu.windowCycles': int({ min: 1 }),
  'hotplug.vcpu.cooldownCycles': int({ min: 0 }),
  'hotplug.vcpu.maxVcpus': int({ min: 0 }),
  'hotplug.vcpu.hysteresis': num({ min: 0, max: 1 }),
  'hotplug.memory.enabled': bool,
  'hotplug.memory.minAvailableRatio': num({ min: 0, max: 1 }),
  'hotplug.memory.windowCycles': int({ min: 1 }),
  'hotplug.memory.cooldownCycles': int({ min: 0 }),
  'hotplug.memory.stepMiB': int({ min: 1 }),
  'hotplug.memory.blockSizeMiB': powerOfTwoMiB,
};

/** Rules that tie keys together; each returns a problem or undefined. */
const CROSS_CHECKS: ReadonlyArray<(c: Config) => string | undefined> = [
  (c) =>
    c.backoff.maxMs < c.backoff.initialMs
      ? `backoff.maxMs: got ${c.backoff.maxMs}, expected at least backoff.initialMs (${c.backoff.initialMs})`
      : undefined,
  (c) =>
    c.hotplug.vcpu.hysteresis >= c.hotplug.vcpu.threshold
      ? `hotplug.vcpu.hysteresis: got ${c.hotplug.vcpu.hysteresis}, expected less than hotplug.vcpu.threshold (${c.hotplug.vcpu.threshold}), otherwise the detector never re-arms`
      : undefined,
];

/** Every leaf key's dotted path, in DEFAULT_CONFIG order (what config/README.md must document). */
export function configKeys(): string[] {
  const out: string[] = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (Object.hasOwn(CHECKS, path)) out.push(path);
      else walk(v as Record<string, unknown>, path);
    }
  };
  walk(DEFAULT_CONFIG as unknown as Record<string, unknown>, '');
  return out;
}

// ---------------------------------------------------------------------------
// Unknown keys: suggest the nearest known one.

function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

const close = (a: string, b: string) => editDistance(a, b) <= Math.max(2, Math.floor(Math.min(a.length, b.length) / 3));

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

let pathsCache: string[] | undefined;

/** Every key path, groups included ("churn", "churn.holdCycles"). */
function allPaths(): string[] {
  if (pathsCache) return pathsCache;
  const out: string[] = [];
  for (const key of configKeys()) {
    const parts = key.split('.');
    for (let i = 1; i <= parts.length; i++) out.push(parts.slice(0, i).join('.'));
  }
  pathsCache = [...new Set(out)];
  return pathsCache;
}

function orList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function unknownKeyProblem(path: string, siblings: string[], prefix: string): string {
  // A key far longer than any real one: no suggestion (edit distance is quadratic), and not echoed whole.
  if (path.length > 200) return `${JSON.stringify(path.slice(0, 60))}... (${path.length} characters): unknown key (see config/README.md for the keys)`;
  const key = lastSegment(path);
  const join = (k: string) => (prefix ? `${prefix}.${k}` : k);
  // A misspelling in the same group, then the same name in another group (a misplaced key).
  const near = siblings
    .map((s) => ({ s, d: editDistance(key, s) }))
    .filter(({ s }) => close(key, s))
    .sort((x, y) => x.d - y.d);
  if (near.length > 0) return `${path}: unknown key; did you mean ${join(near[0].s)}?`;
  const elsewhere = allPaths().filter((p) => p !== path && close(key, lastSegment(p)));
  if (elsewhere.length > 0) return `${path}: unknown key; did you mean ${orList(elsewhere.slice(0, 3))}?`;
  const where = prefix ? `keys of ${prefix}: ${siblings.join(', ')}` : 'see config/README.md for the keys';
  return `${path}: unknown key (${where})`;
}

// ---------------------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Validate a parsed configuration object (e.g. from JSON.parse) and complete it with
 * the defaults. Throws ConfigError listing every problem. `source` names where it came from.
 */
export function parseConfig(input: unknown, source = 'configuration'): Config {
  const problems: string[] = [];

  const walk = (given: unknown, defaults: Record<string, unknown>, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const keys = Object.keys(defaults);
    if (!isPlainObject(given)) {
      problems.push(`${prefix || 'the configuration'}: got ${showValue(given)}, expected an object with keys ${keys.join(', ')}`);
      given = {};
    }
    const obj = given as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      if (!Object.hasOwn(defaults, k)) problems.push(unknownKeyProblem(prefix ? `${prefix}.${k}` : k, keys, prefix));
    }
    for (const k of keys) {
      const path = prefix ? `${prefix}.${k}` : k;
      const present = Object.hasOwn(obj, k);
      const check = CHECKS[path];
      if (check === undefined) {
        out[k] = walk(present ? obj[k] : {}, defaults[k] as Record<string, unknown>, path);
        continue;
      }
      try {
        out[k] = check(present ? obj[k] : structuredClone(defaults[k]));
      } catch (e) {
        if (!(e instanceof Problem)) throw e;
        problems.push(`${path}: ${e.message}`);
        out[k] = structuredClone(defaults[k]);
      }
    }
    return out;
  };

  const config = walk(input, DEFAULT_CONFIG as unknown as Record<string, unknown>, '') as unknown as Config;
  if (problems.length === 0) {
    for (const cross of CROSS_CHECKS) {
      const p = cross(config);
      if (p !== undefined) problems.push(p);
    }
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return deepFreeze(config);
}

/** Line and column (1-based) of a character offset, for JSON syntax errors. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

function readProblem(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return 'no such file (copy config/numaplace.json there, or leave out --config to use the built-in defaults)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (the daemon must be able to read it)';
    case 'EISDIR':
      return 'is a directory, expected a JSON file';
    default:
      return `cannot read it: ${e.message}`;
  }
}

/**
 * Load and validate a configuration file. Without a path: the built-in defaults.
 * Throws ConfigError naming the file when it cannot be read, is not JSON, or is invalid.
 */
export function loadConfig(path?: string): Config {
  if (path === undefined) return DEFAULT_CONFIG;
  let text: string;
  try {
    text = readBoundedText(path, READ_LIMITS.config, 'configuration');
  } catch (e) {
    if (e instanceof BoundedReadError) throw new ConfigError(path, [e.code ? readProblem(Object.assign(new Error(e.why), { code: e.code })) : e.why]);
    throw new ConfigError(path, [readProblem(e as NodeJS.ErrnoException)]);
  }
  const deep = jsonDepthProblem(text);
  if (deep) throw new ConfigError(path, [deep]);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new ConfigError(path, ['the file is empty, expected a JSON object such as {} (all defaults)']);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const where = pos ? ` at ${lineColumn(text, Number(pos[1]))}` : '';
    throw new ConfigError(path, [`invalid JSON${where}: ${msg}`]);
  }
  return parseConfig(parsed, path);
}

// ---------------------------------------------------------------------------
// Command-line overrides.

/** Values given on the command line; undefined = not given (the file's value stays). */
export interface ConfigOverrides {
  connect?: string;
  reservedCpus?: string;
  mode?: string;
}

/** Config key of each override and the flag that sets it (error messages name the flag). */
const OVERRIDE_KEYS: Record<keyof ConfigOverrides, { key: keyof Config; flag: string }> = {
  connect: { key: 'connect', flag: '--connect' },
  reservedCpus: { key: 'reservedCpus', flag: '--reserved-cpus' },
  mode: { key: 'mode', flag: '--mode' },
};

/**
 * The configuration with command-line values in place of the file's. Each value is
 * validated like its key; a bad one throws ConfigError naming the flag (source "command line").
 */
export function applyOverrides(config: Config, overrides: ConfigOverrides): Config {
  // Overrides are top-level keys: the (frozen) groups can be shared with `config`.
  const out: Record<string, unknown> = { ...config };
  const problems: string[] = [];
  for (const [name, { key, flag }] of Object.entries(OVERRIDE_KEYS) as [keyof ConfigOverrides, (typeof OVERRIDE_KEYS)[keyof ConfigOverrides]][]) {
    const value = overrides[name];
    if (value === undefined) continue;
    try {
      out[key] = CHECKS[key](value);
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      problems.push(`${flag}: ${e.message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError('command line', problems);
  if (Object.values(overrides).every((v) => v === undefined)) return config;
  return deepFreeze(out as unknown as Config);
}

/** Overrides from node:util parseArgs values (keys as the flags are spelt: `reserved-cpus`). */
export function overridesFromFlags(values: Readonly<Record<string, unknown>>): ConfigOverrides {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  return { connect: str('connect'), reservedCpus: str('reserved-cpus'), mode: str('mode') };
}

/** `--config FILE` (or the defaults) with the other flags applied: what a command should run with. */
export function configFromFlags(values: Readonly<Record<string, unknown>>): Config {
  const path = typeof values.config === 'string' ? values.config : undefined;
  return applyOverrides(loadConfig(path), overridesFromFlags(values));
}
