/**
 * The daemon's configuration: one JSON file, every key optional (missing keys take the
 * defaults of DEFAULT_CONFIG, src/core/config-table.ts, documented in config/README.md).
 * Parsed once, validated as a whole (every problem reported, not just the first),
 * deep-frozen. Unknown keys are errors, with the nearest known key suggested: a
 * misspelt key silently ignored would leave a daemon doing what the operator did not ask.
 */
import { existsSync } from 'node:fs';
import { editDistance, isClose } from '../core/did-you-mean.js';
import { CONFIG_TABLE, configKeys, CROSS_CHECKS, DEFAULT_CONFIG, deepFreeze, showValue, ValueProblem, type Config, type ConfigKey } from '../core/config-table.js';
import { BoundedReadError, jsonDepthProblem, readBoundedText, READ_LIMITS } from '../host/read-bounded.js';

export { configKeys, DEFAULT_CONFIG, deepFreeze, restartKeysChanged, showValue, type Config, type LogFormat, type LogLevel, type Mode } from '../core/config-table.js';

/**
 * A configuration the daemon cannot use; the CLI maps it to exit status 2 with the message as
 * its one line. `problems` holds each problem ("key: what is wrong").
 */
export class ConfigError extends Error {
  constructor(
    /** The file, "command line" or "configuration". */
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

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
    .filter(({ s }) => isClose(key, s))
    .sort((x, y) => x.d - y.d);
  if (near.length > 0) return `${path}: unknown key; did you mean ${join(near[0].s)}?`;
  const elsewhere = allPaths().filter((p) => p !== path && isClose(key, lastSegment(p)));
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
      // A top-level "$schema" points editors at config/numaplace.schema.json; it configures nothing.
      if (prefix === '' && k === '$schema' && typeof obj[k] === 'string') continue;
      if (!Object.hasOwn(defaults, k)) problems.push(unknownKeyProblem(prefix ? `${prefix}.${k}` : k, keys, prefix));
    }
    for (const k of keys) {
      const path = prefix ? `${prefix}.${k}` : k;
      const present = Object.hasOwn(obj, k);
      const check = Object.hasOwn(CONFIG_TABLE, path) ? CONFIG_TABLE[path as ConfigKey].check : undefined;
      if (check === undefined) {
        out[k] = walk(present ? obj[k] : {}, defaults[k] as Record<string, unknown>, path);
        continue;
      }
      try {
        out[k] = check(present ? obj[k] : structuredClone(defaults[k]));
      } catch (e) {
        if (!(e instanceof ValueProblem)) throw e;
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
const OVERRIDE_KEYS: Record<keyof ConfigOverrides, { key: keyof Config & ConfigKey; flag: string }> = {
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
      out[key] = CONFIG_TABLE[key].check(value);
    } catch (e) {
      if (!(e instanceof ValueProblem)) throw e;
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

/** Where an installed numaplace keeps its configuration (the Debian package's conffile). */
export const SYSTEM_CONFIG_PATH = '/etc/numaplace/numaplace.json';

/**
 * The file read when no --config is given: NUMAPLACE_CONFIG when set ("" for none: the built-in
 * defaults), else /etc/numaplace/numaplace.json when it exists, else none.
 */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync): string | undefined {
  if (env.NUMAPLACE_CONFIG !== undefined) return env.NUMAPLACE_CONFIG === '' ? undefined : env.NUMAPLACE_CONFIG;
  return exists(SYSTEM_CONFIG_PATH) ? SYSTEM_CONFIG_PATH : undefined;
}

/** `--config FILE` (else the default file, else the defaults) with the other flags applied: what a command runs with. */
export function configFromFlags(values: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv = process.env): Config {
  const path = typeof values.config === 'string' ? values.config : defaultConfigPath(env);
  return applyOverrides(loadConfig(path), overridesFromFlags(values));
}
