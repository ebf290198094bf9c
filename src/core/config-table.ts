/**
 * The configuration schema, one row per key: its default, its check, the
 * allowed values and doc line of config/README.md, and whether SIGHUP can change it. The Config
 * type, DEFAULT_CONFIG, the per-layer settings types, config/README.md's key tables
 * (scripts/config-doc.mjs) and the daemon's "needs a restart" log line all derive from it, so a
 * key is added or changed in this one place. Loading a file is src/daemon/config.ts.
 */
import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import cron from 'node-cron';
import { CpuSetError, formatCpuSet, parseCpuSet } from './cpuset.js';
import { SHARES_MAX, SHARES_MIN } from './shares.js';

export type Mode = 'advisory' | 'apply';
export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

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
export function nameMap(entries: Record<string, number>): Record<string, number> {
  return Object.assign(Object.create(null) as Record<string, number>, entries);
}

// ---------------------------------------------------------------------------
// Checks of single values. Each returns the value to store (possibly normalised)
// or throws ValueProblem with what is wrong and what is allowed.

/** What is wrong with one value; the parser adds the key. */
export class ValueProblem extends Error {}

/** A JSON Schema fragment (draft 2020-12) for one key's value: what editors and tooling check. */
export type JsonSchema = Record<string, unknown>;

/**
 * Returns the value to store (possibly normalised) or throws ValueProblem. `schema` says the same
 * for config/numaplace.schema.json, as far as JSON Schema can (cron and cpuset syntax it cannot).
 */
export type Check<T> = ((value: unknown) => T) & { readonly schema: JsonSchema };

function checked<T>(schema: JsonSchema, check: (value: unknown) => T): Check<T> {
  return Object.assign(check, { schema });
}

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
  throw new ValueProblem(`got ${showValue(value)}, expected ${allowed}`);
}

const bool: Check<boolean> = checked({ type: 'boolean' }, (v) => (typeof v === 'boolean' ? v : bad(v, 'true or false')));

function oneOf<T extends string>(...allowed: T[]): Check<T> {
  const text = allowed.map((a) => JSON.stringify(a)).join(' or ');
  return checked({ enum: allowed }, (v) => (typeof v === 'string' && (allowed as string[]).includes(v) ? (v as T) : bad(v, text)));
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

function rangeSchema(type: 'number' | 'integer', r: Range): JsonSchema {
  const out: JsonSchema = { type };
  if (r.min !== undefined) out[r.minExclusive ? 'exclusiveMinimum' : 'minimum'] = r.min;
  if (r.max !== undefined) out.maximum = r.max;
  return out;
}

function num(r: Range): Check<number> {
  const allowed = rangeText('a number', r);
  // -0 is stored as 0: it prints as 0, and a reload must compare equal to what was stored.
  return checked(rangeSchema('number', r), (v) => (typeof v === 'number' && Number.isFinite(v) && inRange(v, r) ? v + 0 : bad(v, allowed)));
}

function int(r: Range): Check<number> {
  const allowed = rangeText('an integer', r);
  return checked(rangeSchema('integer', r), (v) => (typeof v === 'number' && Number.isSafeInteger(v) && inRange(v, r) ? v + 0 : bad(v, allowed)));
}

/** A cpuset in libvirt syntax, "" allowed; stored in canonical form. */
const cpuset: Check<string> = checked({ type: 'string', pattern: '^[0-9,^\\- ]*$' }, (v) => {
  if (typeof v !== 'string') bad(v, 'a cpuset string such as "0,64" or "0-3" ("" for none)');
  try {
    return formatCpuSet(parseCpuSet(v, { allowEmpty: true }));
  } catch (e) {
    if (e instanceof CpuSetError) throw new ValueProblem(e.message);
    throw e;
  }
});

const cronExpr: Check<string> = checked({ type: 'string', minLength: 1 }, (v) => {
  if (typeof v !== 'string') bad(v, 'a node-cron expression string such as "*/10 * * * * *"');
  const result = cron.validateDetailed(v);
  if (!result.valid) {
    const why = result.errors.map((e) => e.message).join(', ') || 'not a valid cron expression';
    throw new ValueProblem(`invalid cron expression ${showValue(v)}: ${why} (expected 6 fields, seconds first, e.g. "*/10 * * * * *")`);
  }
  return v;
});

const ipLiteral: Check<string> = checked({ type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] }, (v) => {
  if (typeof v === 'string' && isIP(v) !== 0) return v;
  bad(v, 'an IP address literal such as "127.0.0.1", "0.0.0.0" or "::1" (not a host name)');
});

const uri: Check<string> = checked({ type: 'string', pattern: '^[A-Za-z][A-Za-z0-9+.-]*:\\S*$' }, (v) => {
  if (typeof v === 'string' && /^[a-z][a-z0-9+.-]*:\S*$/i.test(v)) return v;
  bad(v, 'a libvirt URI such as "qemu:///system"');
});

const absPath: Check<string> = checked({ type: 'string', pattern: '^/' }, (v) => {
  if (typeof v === 'string' && isAbsolute(v) && !v.includes('\0')) return v;
  bad(v, 'an absolute directory path such as "/var/lib/numaplace"');
});

const globList: Check<readonly string[]> = checked({ type: 'array', items: { type: 'string', minLength: 1 } }, (v) => {
  if (!Array.isArray(v)) bad(v, 'an array of name patterns such as ["test-*", "build?"]');
  v.forEach((p, i) => {
    if (typeof p !== 'string' || p === '') throw new ValueProblem(`item ${i}: got ${showValue(p)}, expected a non-empty name pattern (* and ? are wildcards)`);
  });
  return [...v];
});

/** {name: weight} with weights > 0 (weights multiply the cpu_shares of a VM); a prototype-free map. */
const weightMap: Check<Readonly<Record<string, number>>> = checked({ type: 'object', propertyNames: { minLength: 1 }, additionalProperties: { type: 'number', exclusiveMinimum: 0 } }, (v) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(v, 'an object of {"name": weight}');
  const out = nameMap({});
  for (const [name, w] of Object.entries(v as Record<string, unknown>)) {
    if (name === '') throw new ValueProblem('an empty name is not allowed');
    if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0) throw new ValueProblem(`${showValue(name)}: got ${showValue(w)}, expected a number > 0`);
    Object.defineProperty(out, name, { value: w, enumerable: true, writable: true, configurable: true });
  }
  return out;
});

const powerOfTwoMiB: Check<number> = checked({ type: 'integer', enum: Array.from({ length: 31 }, (_, i) => 2 ** i) }, (v) => {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && (v & (v - 1)) === 0) return v;
  bad(v, 'a power of two in MiB such as 128 (the guest\'s memory block size, see lsmem)');
});

// ---------------------------------------------------------------------------
// The table.

/**
 * `live`: a SIGHUP reload takes the new value at the next cycle. `restart`: the value is
 * built into something made once at start (the virsh connection, the logger, the metrics
 * server, the state directory and its lock); a reload keeps the running value and says so.
 */
export type Reload = 'live' | 'restart';

export interface KeySpec<T> {
  /** The config/README.md section the key is documented in. */
  section: string;
  default: T;
  check: Check<T>;
  /** "Allowed values" column of config/README.md. */
  allowed: string;
  reload: Reload;
  /** "Meaning" column of config/README.md. */
  doc: string;
}

function key<T>(spec: { section: string; default: NoInfer<T>; check: Check<T>; allowed: string; reload: Reload; doc: string }): KeySpec<T> {
  return spec;
}

/** Every leaf key by dotted path, in the order of config/numaplace.json. */
export const CONFIG_TABLE = {
  connect: key({
    section: "Host and mode",
    default: "qemu:///system",
    check: uri,
    allowed: "libvirt URI",
    reload: 'restart',
    doc: "The hypervisor to manage. `--connect` overrides it.",
  }),
  schedule: key({
    section: "Host and mode",
    default: "*/10 * * * * *",
    check: cronExpr,
    allowed: "node-cron expression",
    reload: 'live',
    doc: "When a cycle starts: 6 fields, seconds first (`*/10 * * * * *` = every 10 s); a 5-field expression runs at second 0. A cycle that is still running when the next tick comes makes that tick skip (one cycle at a time). Validated with node-cron.",
  }),
  mode: key({
    section: "Host and mode",
    default: "advisory",
    check: oneOf<Mode>('advisory', 'apply'),
    allowed: "`\"advisory\"` or `\"apply\"`",
    reload: 'live',
    doc: "`advisory` computes and reports plans (log, metrics) and changes nothing: a safe first run. `apply` applies them live. `--mode` overrides it.",
  }),
  reservedCpus: key({
    section: "Host and mode",
    default: "",
    check: cpuset,
    allowed: "cpuset, `\"\"` for none",
    reload: 'live',
    doc: "Host CPUs no VM may use (kept for the host, e.g. `\"0,64\"`). `--reserved-cpus` overrides it.",
  }),
  cpuOvercommit: key({
    section: "Host and mode",
    default: 1,
    check: num({ min: 0, minExclusive: true }),
    allowed: "number > 0",
    reload: 'live',
    doc: "How much vCPU load a node may carry per usable host CPU: a node's placed load must stay at most (its CPUs not reserved) x this. `1` = no overcommit of busy time.",
  }),
  persistConfig: key({
    section: "Host and mode",
    default: false,
    check: bool,
    allowed: "`true` or `false`",
    reload: 'live',
    doc: "Also write every change to the persistent definition of persistent VMs (`virsh ... --config` beside `--live`), so it survives a VM restart. The definition (`dumpxml --inactive`) is compared with the target on its own: a setting already live but not in the definition is written there alone, one already there is not written again. Off: changes are live only; a restarted VM starts from its definition and numaplace places it again on the next cycles.",
  }),
  "churn.improvementMargin": key({
    section: "Churn (how eagerly VMs are moved)",
    default: 0.02,
    check: num({ min: 0 }),
    allowed: "number >= 0",
    reload: 'live',
    doc: "Relative improvement of the quality measure a new placement must bring before anything moves (0.02 = 2 % lower cost).",
  }),
  "churn.holdCycles": key({
    section: "Churn (how eagerly VMs are moved)",
    default: 3,
    check: int({ min: 1 }),
    allowed: "integer >= 1",
    reload: 'live',
    doc: "The improvement must hold for this many consecutive cycles before it is applied (no moves on a passing spike).",
  }),
  "churn.maxVmsPerCycle": key({
    section: "Churn (how eagerly VMs are moved)",
    default: 4,
    check: int({ min: 1 }),
    allowed: "integer >= 1",
    reload: 'live',
    doc: "At most this many VMs are changed in one cycle.",
  }),
  "churn.memoryMigrationMiBPerCycle": key({
    section: "Churn (how eagerly VMs are moved)",
    default: 8192,
    check: int({ min: 0 }),
    allowed: "integer >= 0",
    reload: 'live',
    doc: "At most this much guest memory (MiB) is migrated between nodes per cycle. `0` = never move memory, only vCPUs.",
  }),
  "churn.cooldownCycles": key({
    section: "Churn (how eagerly VMs are moved)",
    default: 6,
    check: int({ min: 0 }),
    allowed: "integer >= 0",
    reload: 'live',
    doc: "A VM that was moved is not moved again for this many cycles.",
  }),
  "exclude.names": key({
    section: "Exclusions",
    default: [] as readonly string[],
    check: globList,
    allowed: "array of patterns",
    reload: 'live',
    doc: "VMs whose name matches one of these patterns are left alone (never pinned, moved or hot-plugged). `*` matches any run of characters, `?` one character; the whole name must match.",
  }),
  "exclude.metadata": key({
    section: "Exclusions",
    default: true,
    check: bool,
    allowed: "`true` or `false`",
    reload: 'live',
    doc: "Honour `<np:policy exclude=\"true\"/>` in a domain's `<metadata>` (namespace `https://numaplace.dev/xmlns/policy/1`).",
  }),
  "foreign.manage": key({
    section: "Exclusions",
    default: false,
    check: bool,
    allowed: "`true` or `false`",
    reload: 'live',
    doc: "VMs another tool manages are left alone by default (pins, shares, memory and hot-plug untouched; their load and memory count as fixed), and this is logged once per VM: VMs with OpenStack Nova, oVirt/RHV or KubeVirt metadata (namespaces `http://openstack.org/xmlns/libvirt/nova/...`, `http://ovirt.org/vm/...`, `http://kubevirt.io...`), and VMs whose persistent definition has `<cputune>` pins or a `<numatune>` nodeset in a mode other than `restrictive` that numaplace did not write (restrictive is how an operator hands memory placement to a runtime tool; numaplace marks what it writes with `<npw:written xmlns:npw=\"https://numaplace.dev/xmlns/written/1\"/>`). `true` hands them over to numaplace.",
  }),
  "shares.enabled": key({
    section: "CPU shares (`virsh schedinfo ... cpu_shares`)",
    default: true,
    check: bool,
    allowed: "`true` or `false`",
    reload: 'live',
    doc: "Set each VM's cpu_shares. Off: shares are not touched.",
  }),
  "shares.perVcpu": key({
    section: "CPU shares (`virsh schedinfo ... cpu_shares`)",
    default: 1024,
    check: int({ min: SHARES_MIN, max: SHARES_MAX }),
    allowed: "integer from 2 to 262144",
    reload: 'live',
    doc: "Shares per vCPU at weight 1. A VM gets perVcpu x vCPUs x weight, clamped to 2..262144 (the kernel's range).",
  }),
  "shares.classes": key({
    section: "CPU shares (`virsh schedinfo ... cpu_shares`)",
    default: nameMap({ gold: 2, silver: 1, bronze: 0.5 }),
    check: weightMap,
    allowed: "object `{\"class\": weight > 0}`",
    reload: 'live',
    doc: "Weight of each class a domain may name in its metadata (`<np:policy class=\"gold\"/>`).",
  }),
  "shares.weights": key({
    section: "CPU shares (`virsh schedinfo ... cpu_shares`)",
    default: nameMap({}),
    check: weightMap,
    allowed: "object `{\"vmName\": weight > 0}`",
    reload: 'live',
    doc: "Weight of a VM by name. Precedence: this map > metadata `weight` > metadata `class` > 1.",
  }),
  "solver.timeLimitMs": key({
    section: "Solver",
    default: 1000,
    check: int({ min: 1, max: 3600000 }),
    allowed: "integer from 1 to 3600000",
    reload: 'live',
    doc: "Time the MILP solver may take per cycle; when it runs out, the best placement found so far is used (status `feasible`).",
  }),
  "solver.memoryMoveCostPerGiB": key({
    section: "Solver",
    default: 0.05,
    check: num({ min: 0 }),
    allowed: "number >= 0",
    reload: 'live',
    doc: "Cost, in units of the quality measure, of migrating 1 GiB of guest memory: keeps the solver from moving memory for a small gain. The solver sees it spread over `churn.cooldownCycles` cycles (a moved VM stays put that long, so its gain lasts at least that long).",
  }),
  "solver.vcpuMoveCost": key({
    section: "Solver",
    default: 0.5,
    check: num({ min: 0 }),
    allowed: "number >= 0",
    reload: 'live',
    doc: "Cost of moving one vCPU to another node.",
  }),
  "emulator.housekeepingCpus": key({
    section: "Solver",
    default: "",
    check: cpuset,
    allowed: "cpuset, `\"\"` for none",
    reload: 'live',
    doc: "Host CPUs for every VM's emulator (QEMU I/O and main loop) threads. `\"\"` = each VM's emulator threads run on the CPUs of its own node.",
  }),
  "load.windowCycles": key({
    section: "Solver",
    default: 6,
    check: int({ min: 1 }),
    allowed: "integer >= 1",
    reload: 'live',
    doc: "A VM's load is smoothed over this many cycles before placing it.",
  }),
  "virsh.timeoutMs": key({
    section: "libvirt access",
    default: 30000,
    check: int({ min: 1 }),
    allowed: "integer >= 1",
    reload: 'restart',
    doc: "A virsh call taking longer is killed and counted as failed.",
  }),
  "backoff.initialMs": key({
    section: "libvirt access",
    default: 10000,
    check: int({ min: 1 }),
    allowed: "integer >= 1",
    reload: 'live',
    doc: "When libvirt is unreachable, wait this long before trying again, doubling each time...",
  }),
  "backoff.maxMs": key({
    section: "libvirt access",
    default: 300000,
    check: int({ min: 1 }),
    allowed: "integer >= 1, at least `backoff.initialMs`",
    reload: 'live',
    doc: "...up to this.",
  }),
  "metrics.enabled": key({
    section: "Metrics and logs",
    default: true,
    check: bool,
    allowed: "`true` or `false`",
    reload: 'restart',
    doc: "Serve Prometheus metrics on `GET /metrics` and a health check on `GET /healthz`.",
  }),
  "metrics.address": key({
    section: "Metrics and logs",
    default: "127.0.0.1",
    check: ipLiteral,
    allowed: "IP address literal",
    reload: 'restart',
    doc: "Address to listen on. Loopback by default: the metrics name your VMs. `\"0.0.0.0\"` or `\"::\"` listen on all addresses; a host name is rejected.",
  }),
  "metrics.port": key({
    section: "Metrics and logs",
    default: 9464,
    check: int({ min: 1, max: 65535 }),
    allowed: "integer from 1 to 65535",
    reload: 'restart',
    doc: "TCP port.",
  }),
  stateDir: key({
    section: "Host and mode",
    default: "/var/lib/numaplace",
    check: absPath,
    allowed: "absolute path",
    reload: 'restart',
    doc: "Where the daemon keeps its checkpoint, journal and lock (files written mode 0600). Must be writable by the daemon (the systemd unit in `deploy/` allows exactly this directory).",
  }),
  "log.format": key({
    section: "Metrics and logs",
    default: "text",
    check: oneOf<LogFormat>('text', 'json'),
    allowed: "`\"text\"` or `\"json\"`",
    reload: 'restart',
    doc: "`json`: one JSON object per line (for journald/Loki parsers); node-cron's own warnings go through the same logger (`source=node-cron`). In both formats control and format characters (CR, ESC, U+202E) in VM names and messages are escaped (`\\r`, `\\u202e`). Under systemd (JOURNAL_STREAM set) each line starts with its syslog priority (`<3>` error .. `<7>` debug) for journald.",
  }),
  "log.level": key({
    section: "Metrics and logs",
    default: "info",
    check: oneOf<LogLevel>('debug', 'info', 'warn', 'error'),
    allowed: "`\"debug\"`, `\"info\"`, `\"warn\"` or `\"error\"`",
    reload: 'restart',
    doc: "Least severe level logged.",
  }),
  "hotplug.vcpu.enabled": key({
    section: "vCPU hot-plug",
    default: true,
    check: bool,
    allowed: "`true` or `false`",
    reload: 'live',
    doc: "Add vCPUs (`virsh setvcpus --live`, up to the VM's maximum) to a VM that stays saturated. Never removes vCPUs.",
  }),
  "hotplug.vcpu.threshold": key({
    section: "vCPU hot-plug",
    default: 0.9,
    check: num({ min: 0, minExclusive: true, max: 1 }),
    allowed: "number > 0 and <= 1",
    reload: 'live',
    doc: "A VM is saturated when every online vCPU is busier than this fraction...",
  }),
  "hotplug.vcpu.windowCycles": key({
    section: "vCPU hot-plug",
    default: 6,
    check: int({ min: 1 }),
    allowed: "integer >= 1",
    reload: 'live',
    doc: "...for this many consecutive cycles.",
  }),
  "hotplug.vcpu.cooldownCycles": key({
    section: "vCPU hot-plug",
    default: 30,
    check: int({ min: 0 }),
    allowed: "integer >= 0",
    reload: 'live',
    doc: "After a hot-plug the VM gets no other for this many cycles.",
  }),
  "hotplug.vcpu.maxVcpus": key({
    section: "vCPU hot-plug",
    default: 0,
    check: int({ min: 0 }),
    allowed: "integer >= 0",
    reload: 'live',
    doc: "numaplace grows a VM to at most this many vCPUs. `0` = no cap beyond the VM's own maximum (`<vcpu>`) and the hypervisor's.",
  }),
  "hotplug.vcpu.hysteresis": key({
    section: "vCPU hot-plug",
    default: 0.1,
    check: num({ min: 0, max: 1 }),
    allowed: "number from 0 to 1, less than `hotplug.vcpu.threshold`",
    reload: 'live',
    doc: "After a hot-plug the trigger re-arms only once the load fell below threshold - hysteresis.",
  }),
  "hotplug.memory.enabled": key({
    section: "Memory hot-plug",
    default: true,
    check: bool,
    allowed: "`true` or `false`",
    reload: 'live',
    doc: "Attach memory DIMMs (`virsh attach-device --live`, within `<maxMemory>` and its slots) to a VM that stays short of memory. Never removes memory.",
  }),
  "hotplug.memory.minAvailableRatio": key({
    section: "Memory hot-plug",
    default: 0.1,
    check: num({ min: 0, max: 1 }),
    allowed: "number from 0 to 1",
    reload: 'live',
    doc: "A VM is short of memory when the guest's available / usable memory (balloon statistics) is below this...",
  }),
  "hotplug.memory.windowCycles": key({
    section: "Memory hot-plug",
    default: 6,
    check: int({ min: 1 }),
    allowed: "integer >= 1",
    reload: 'live',
    doc: "...for this many consecutive cycles.",
  }),
  "hotplug.memory.cooldownCycles": key({
    section: "Memory hot-plug",
    default: 30,
    check: int({ min: 0 }),
    allowed: "integer >= 0",
    reload: 'live',
    doc: "After a hot-plug the VM gets no other for this many cycles.",
  }),
  "hotplug.memory.stepMiB": key({
    section: "Memory hot-plug",
    default: 1024,
    check: int({ min: 1 }),
    allowed: "integer >= 1",
    reload: 'live',
    doc: "Size of one hot-plug, rounded up to the guest's memory block size.",
  }),
  "hotplug.memory.blockSizeMiB": key({
    section: "Memory hot-plug",
    default: 128,
    check: powerOfTwoMiB,
    allowed: "power of two",
    reload: 'live',
    doc: "The guest's memory block size (`lsmem`, `/sys/devices/system/memory/block_size_bytes`); a DIMM must be a multiple of it.",
  }),
};

export type ConfigKey = keyof typeof CONFIG_TABLE;

/** Rules that tie keys together; each returns a problem or undefined. */
export const CROSS_CHECKS: ReadonlyArray<(c: Config) => string | undefined> = [
  (c) =>
    c.backoff.maxMs < c.backoff.initialMs
      ? `backoff.maxMs: got ${c.backoff.maxMs}, expected at least backoff.initialMs (${c.backoff.initialMs})`
      : undefined,
  (c) =>
    c.hotplug.vcpu.hysteresis >= c.hotplug.vcpu.threshold
      ? `hotplug.vcpu.hysteresis: got ${c.hotplug.vcpu.hysteresis}, expected less than hotplug.vcpu.threshold (${c.hotplug.vcpu.threshold}), otherwise the detector never re-arms`
      : undefined,
];

// ---------------------------------------------------------------------------
// Types derived from the table: "churn.holdCycles" of type number becomes
// { readonly churn: { readonly holdCycles: number } }, and all keys are merged.

type LeafType<K extends ConfigKey> = (typeof CONFIG_TABLE)[K] extends KeySpec<infer T> ? T : never;
type Nest<P extends string, V> = P extends `${infer Head}.${infer Rest}` ? { readonly [_ in Head]: Nest<Rest, V> } : { readonly [_ in P]: V };
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type Expand<T> = T extends readonly unknown[] ? T : T extends object ? { readonly [K in keyof T]: Expand<T[K]> } : T;

/** The whole configuration, as parsed and frozen. */
export type Config = Expand<UnionToIntersection<{ [K in ConfigKey]: Nest<K, LeafType<K>> }[ConfigKey]>>;

/** Every leaf key's dotted path, in table order (what config/README.md must document). */
export function configKeys(): ConfigKey[] {
  return Object.keys(CONFIG_TABLE) as ConfigKey[];
}

/** The value at a dotted key path of a configuration. */
export function valueAt(config: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], config);
}

/** A configuration object with every key of the table set from `valueOf(key)`, groups created on the way. */
export function buildConfig(valueOf: (key: ConfigKey) => unknown): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const k of configKeys()) {
    const parts = k.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]] = valueOf(k);
  }
  return root;
}

/** The documented defaults (config/numaplace.json holds the same, a test keeps them equal). */
export const DEFAULT_CONFIG: Config = deepFreeze(buildConfig((k) => CONFIG_TABLE[k].default) as unknown as Config);

/** Keys SIGHUP cannot change whose value differs between the running configuration and the new one. */
export function restartKeysChanged(running: object, next: object): ConfigKey[] {
  return configKeys().filter((k) => CONFIG_TABLE[k].reload === 'restart' && JSON.stringify(valueAt(running, k)) !== JSON.stringify(valueAt(next, k)));
}

/** `next` with the running value of each of `keys` put back (groups on the way copied; the result frozen). */
export function keepRunningValues<T extends object>(next: T, running: object, keys: readonly ConfigKey[]): T {
  // Plain objects all the way down (a parsed configuration), so copying a group keeps its shape.
  const out = { ...next } as unknown as Record<string, unknown>;
  for (const k of keys) {
    const parts = k.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = node[p] = { ...(node[p] as object) } as Record<string, unknown>;
    node[parts[parts.length - 1]] = valueAt(running, k);
  }
  return deepFreeze(out as unknown as T);
}
