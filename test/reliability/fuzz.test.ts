/**
 * Bad input, fuzzed: every parser and validator either parses or throws its module's typed error.
 * Never a TypeError / RangeError / other crash. Inputs: the real captured fixtures mutated
 * (truncated, lines deleted / duplicated, numbers swapped for garbage, junk inserted) and random
 * strings. Counts are bounded so the suite takes seconds.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseCapabilities } from '../../src/topology/capabilities.js';
import { parseFreecell } from '../../src/topology/freecell.js';
import { parseNumactl } from '../../src/topology/numactl.js';
import { parseSysfs } from '../../src/topology/sysfs.js';
import { readSysfsFiles } from '../../src/host/read-sysfs.js';
import { TopologyError } from '../../src/core/topology.js';
import { CpuSetError, parseCpuSet } from '../../src/core/cpuset.js';
import { parseDomstats } from '../../src/host/parse-domstats.js';
import { parseDomjobinfo, parseEmulatorpin, parseNumatune, parseSchedinfo, parseUuidNameList, parseVcpuinfo, parseVcpupin } from '../../src/host/parse-listings.js';
import { parseNumaMaps } from '../../src/host/parse-numa-maps.js';
import { parseDomainXml } from '../../src/host/parse-domain-xml.js';
import { VirshOutputError } from '../../src/host/virsh-errors.js';
import { ConfigError, parseConfig } from '../../src/daemon/config.js';
import { ProblemError, validateProblem } from '../../solver/validate-problem.js';
import { parseScenario, ScenarioError } from '../../src/sim/index.js';
import { builtinScenario } from '../../src/sim/builtins.js';
import { main } from '../../src/cli/main.js';
import { counters, registerReport } from './counters.js';

registerReport();

const RUNS = Number(process.env.NUMAPLACE_FUZZ_RUNS ?? 150);
const GARBAGE = ['', '-1', 'x', 'NaN', '1e999', '99999999999999999999999', '0x10', ' ', '-', '1.5', '\u0000', '٣', '<', '&amp;', '"', 'Infinity', '2-1', '^0', ','];

type ErrorClass = abstract new (...args: never[]) => Error;

/** Run one input: parse, or throw one of `allowed`; anything else fails the property. */
function tryParse(name: string, allowed: ErrorClass[], fn: () => unknown): void {
  counters.fuzzInputs++;
  counters.perParser[name] = (counters.perParser[name] ?? 0) + 1;
  try {
    fn();
    counters.fuzzParsed++;
  } catch (e) {
    if (allowed.some((c) => e instanceof c)) {
      expect((e as Error).message, `${name}: typed error with an empty message`).to.be.a('string').that.is.not.empty;
      counters.fuzzTypedErrors++;
      return;
    }
    throw new Error(`${name} crashed with ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
  }
}

type Op = { kind: 'truncate'; at: number } | { kind: 'delete'; line: number } | { kind: 'dup'; line: number } | { kind: 'garble'; nth: number; with: string } | { kind: 'insert'; at: number; text: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('dup' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('garble' as const), nth: fc.nat(), with: fc.oneof(fc.constantFrom(...GARBAGE), fc.string({ maxLength: 6 })) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 20 }) }),
);

function mutate(text: string, ops: Op[]): string {
  let t = text;
  for (const op of ops) {
    const lines = t.split('\n');
    switch (op.kind) {
      case 'truncate':
        t = t.slice(0, t.length === 0 ? 0 : op.at % t.length);
        break;
      case 'delete':
        lines.splice(op.line % lines.length, 1);
        t = lines.join('\n');
        break;
      case 'dup': {
        const i = op.line % lines.length;
        lines.splice(i, 0, lines[i]);
        t = lines.join('\n');
        break;
      }
      case 'garble': {
        const nums = [...t.matchAll(/\d+/g)];
        if (nums.length === 0) break;
        const m = nums[op.nth % nums.length];
        t = t.slice(0, m.index) + op.with + t.slice(m.index! + m[0].length);
        break;
      }
      case 'insert': {
        const at = t.length === 0 ? 0 : op.at % t.length;
        t = t.slice(0, at) + op.text + t.slice(at);
        break;
      }
    }
  }
  return t;
}

/** Mutated fixtures plus arbitrary strings. */
function textInputs(fixtures: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...fixtures), fc.array(opArb, { minLength: 1, maxLength: 4 })).map(([f, ops]) => mutate(f, ops)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constantFrom(...fixtures) },
  );
}

const V = 'test/fixtures/virsh';
const virsh = (re: RegExp) => readdirSync(V).filter((f) => re.test(f)).map((f) => readFileSync(join(V, f), 'utf8'));
const T = 'test/fixtures/topology';
const topoDirs = readdirSync(T, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(T, d.name));
const topoFiles = (name: string) => topoDirs.map((d) => join(d, name)).filter((p) => { try { readFileSync(p); return true; } catch { return false; } }).map((p) => readFileSync(p, 'utf8'));

function fuzzText(name: string, fixtures: string[], allowed: ErrorClass[], fn: (s: string) => unknown, runs = RUNS): void {
  it(`${name}: ${runs} mutated/random inputs parse or throw ${allowed.map((c) => c.name).join('/')}`, () => {
    expect(fixtures.length, `${name}: no fixtures found`).to.be.greaterThan(0);
    fc.assert(fc.property(textInputs(fixtures), (s) => tryParse(name, allowed, () => fn(s))), { numRuns: runs });
  });
}

/** Replace a random sub-tree of a JSON value (path chosen by the index list) with `v`. */
function jsonMutate(obj: unknown, path: number[], v: unknown, del: boolean): unknown {
  if (path.length === 0 || obj === null || typeof obj !== 'object') return v;
  const copy: any = Array.isArray(obj) ? [...obj] : { ...(obj as object) };
  const keys = Object.keys(copy);
  if (keys.length === 0) return v;
  const k = keys[path[0] % keys.length];
  if (path.length === 1 && del) {
    if (Array.isArray(copy)) copy.splice(Number(k), 1);
    else delete copy[k];
    return copy;
  }
  copy[k] = jsonMutate(copy[k], path.slice(1), v, del);
  return copy;
}

const jsonValueArb = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0, 1e308, -0, 1.5, NaN, Infinity, '', 'x', null, [], {}, '0-3', '^0', 2 ** 53));
function jsonInputs(fixtures: unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...fixtures), fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), jsonValueArb, fc.boolean()).map(([f, p, v, d]) => jsonMutate(f, p, v, d)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...fixtures), fc.array(opArb, { minLength: 1, maxLength: 3 })).map(([f, ops]) => { try { return JSON.parse(mutate(JSON.stringify(f, null, 1), ops)); } catch { return undefined; } }) },
  );
}

describe('reliability: fuzzed parsers and validators', function () {
  this.timeout(120_000);

  fuzzText('parseCapabilities', [...virsh(/capabilities\.xml$/), ...topoFiles('capabilities.xml')], [TopologyError], (s) => parseCapabilities(s));
  fuzzText('parseFreecell', [...virsh(/freecell/), ...topoFiles('freecell.txt')], [TopologyError], (s) => parseFreecell(s));
  fuzzText('parseNumactl', topoFiles('numactl-H.txt'), [TopologyError], (s) => parseNumactl(s));
  fuzzText('parseDomstats', virsh(/domstats/), [VirshOutputError], (s) => parseDomstats(s));
  fuzzText('parseVcpupin', virsh(/vcpupin/), [VirshOutputError], (s) => parseVcpupin(s));
  fuzzText('parseEmulatorpin', virsh(/emulatorpin/), [VirshOutputError], (s) => parseEmulatorpin(s));
  fuzzText('parseSchedinfo', virsh(/schedinfo/), [VirshOutputError], (s) => parseSchedinfo(s));
  fuzzText('parseNumatune', virsh(/numatune/), [VirshOutputError], (s) => parseNumatune(s));
  fuzzText('parseVcpuinfo', virsh(/vcpuinfo/), [VirshOutputError], (s) => parseVcpuinfo(s));
  fuzzText('parseDomjobinfo', virsh(/domjobinfo/), [VirshOutputError], (s) => parseDomjobinfo(s));
  fuzzText('parseUuidNameList', virsh(/list-uuid-name/), [VirshOutputError], (s) => parseUuidNameList(s));
  fuzzText('parseNumaMaps', virsh(/numa_maps/), [VirshOutputError], (s) => parseNumaMaps(s));
  fuzzText('parseDomainXml', virsh(/dumpxml/), [VirshOutputError], (s) => parseDomainXml(s));
  it('parseDomainXml: a garbled guest <cell cpus> is a VirshOutputError naming it (found by this fuzzer)', () => {
    const xml = readFileSync(join(V, 'debian12-libvirt9-tcg-dumpxml-numa-dimm-live.xml'), 'utf8').replace(/(<cell[^>]*cpus=')[^']*'/, "$1-1'");
    expect(xml).to.include("cpus='-1'");
    expect(() => parseDomainXml(xml)).to.throw(VirshOutputError, /<cell cpus>/);
  });
  fuzzText('parseCpuSet', ['0-3,^1', '0,2-3', '0-127', '1,3,5-7,^6', ''], [CpuSetError], (s) => parseCpuSet(s));

  it(`parseSysfs: ${RUNS} mutated sysfs trees parse or throw TopologyError`, async () => {
    const roots = topoDirs.map((d) => join(d, 'sysfs')).filter((p) => { try { return readdirSync(p).length > 0; } catch { return false; } });
    expect(roots.length).to.be.greaterThan(0);
    const trees = await Promise.all(roots.map((r) => readSysfsFiles(r)));
    const arb = fc.tuple(fc.constantFrom(...trees), fc.nat(), fc.oneof(fc.constant(null), fc.array(opArb, { minLength: 1, maxLength: 3 })));
    fc.assert(
      fc.property(arb, ([tree, n, ops]) => {
        const files = { ...tree };
        const keys = Object.keys(files);
        const k = keys[n % keys.length];
        if (ops === null) delete files[k];
        else files[k] = mutate(files[k], ops);
        tryParse('parseSysfs', [TopologyError], () => parseSysfs(files));
      }),
      { numRuns: RUNS },
    );
  });

  const configFixtures = [JSON.parse(readFileSync('config/numaplace.json', 'utf8')), {}, { churn: { maxVmsPerCycle: 2 }, metrics: { address: '::1' } }];
  it(`parseConfig: ${RUNS * 2} mutated configs parse or throw ConfigError`, () => {
    fc.assert(fc.property(jsonInputs(configFixtures), (c) => tryParse('parseConfig', [ConfigError], () => parseConfig(c))), { numRuns: RUNS * 2 });
  });

  const problems = readdirSync('test/fixtures/problems').map((f) => JSON.parse(readFileSync(join('test/fixtures/problems', f), 'utf8')));
  it(`validateProblem: ${RUNS * 2} mutated problems validate or throw ProblemError`, () => {
    fc.assert(fc.property(jsonInputs(problems), (p) => tryParse('validateProblem', [ProblemError], () => validateProblem(p))), { numRuns: RUNS * 2 });
  });

  const scenarios = ['steady-4x16', 'ramp-saturate-2x8', 'memory-tight-4x16'].map((n) => builtinScenario(n)).filter((s) => s !== undefined);
  it(`parseScenario: ${RUNS * 2} mutated scenarios parse or throw ScenarioError`, () => {
    expect(scenarios.length).to.be.greaterThan(0);
    fc.assert(fc.property(jsonInputs(scenarios), (s) => tryParse('parseScenario', [ScenarioError], () => parseScenario(s, 'fuzz'))), { numRuns: RUNS * 2 });
  });

  it(`CLI main(argv): ${Math.ceil(RUNS / 3)} random argument vectors exit 0/1/2 without throwing`, async () => {
    const words = ['topology', 'solve', 'config', 'plan', 'apply', 'run', '--json', '--help', '--simulate', 'steady-4x16', '2x8', '--capabilities', '/nonexistent', '--input', '-', '--reserved-cpus', '0-1', 'x-y', '--connect', '', '--sysfs', 'test/fixtures/topology/dual-xeon-e5-2680v4/sysfs', '--config', 'config/numaplace.json', '--bogus', '=', '--', '$(touch /tmp/x)'];
    const argvArb = fc.array(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...words) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }), { maxLength: 5 })
      // never read stdin or start the daemon loop: those wait for input or time rather than fail
      .filter((a) => !a.includes('-') && !(a.includes('run') && !a.includes('--help')));
    await fc.assert(
      fc.asyncProperty(argvArb, async (argv) => {
        counters.fuzzInputs++;
        counters.perParser['cli main'] = (counters.perParser['cli main'] ?? 0) + 1;
        const out: string[] = [];
        const err: string[] = [];
        const ow = process.stdout.write.bind(process.stdout);
        const ew = process.stderr.write.bind(process.stderr);
        process.stdout.write = ((c: string | Uint8Array) => (out.push(String(c)), true)) as typeof process.stdout.write;
        process.stderr.write = ((c: string | Uint8Array) => (err.push(String(c)), true)) as typeof process.stderr.write;
        let code: number;
        try {
          code = await main(argv);
        } finally {
          process.stdout.write = ow;
          process.stderr.write = ew;
        }
        expect([0, 1, 2], `exit code of ${JSON.stringify(argv)}`).to.include(code);
        if (code === 2) expect(err.join('').trim(), `bad input ${JSON.stringify(argv)} without a reason`).to.not.equal('');
        if (code === 0) counters.fuzzParsed++;
        else counters.fuzzTypedErrors++;
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
});
