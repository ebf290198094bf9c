import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyOverrides,
  ConfigError,
  configFromFlags,
  configKeys,
  DEFAULT_CONFIG,
  loadConfig,
  overridesFromFlags,
  parseConfig,
} from '../../src/daemon/config.js';
import { isBadInput } from '../../src/cli/main.js';
import { CONFIG_TABLE, keepRunningValues, restartKeysChanged } from '../../src/core/config-table.js';
import { configJsonSchema, withKeyTables } from '../../src/daemon/config-doc.js';
import { Ajv2020 } from 'ajv/dist/2020.js';

/** A config object with `value` at the dotted `path` (groups created on the way). */
function withKey(path: string, value: unknown): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  const parts = path.split('.');
  let node = root;
  for (const p of parts.slice(0, -1)) node = (node[p] = {}) as Record<string, unknown>;
  node[parts[parts.length - 1]] = value;
  return root;
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  expect.fail('expected a ConfigError');
}

function get(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], obj);
}

describe('config', () => {
  describe('defaults', () => {
    it('config/numaplace.json equals DEFAULT_CONFIG', () => {
      const file = JSON.parse(readFileSync('config/numaplace.json', 'utf8'));
      expect(file).to.deep.equal(JSON.parse(JSON.stringify(DEFAULT_CONFIG)));
      expect(loadConfig('config/numaplace.json')).to.deep.equal(DEFAULT_CONFIG);
    });

    it('config/numaplace.schema.json is the JSON Schema of the config table, and agrees with the daemon on good and bad files', () => {
      const schema = JSON.parse(readFileSync('config/numaplace.schema.json', 'utf8'));
      expect(schema, 'run npm run docs:config').to.deep.equal(JSON.parse(JSON.stringify(configJsonSchema())));
      const validate = new Ajv2020({ strict: true, validateFormats: false, allowUnionTypes: true }).compile(schema);
      const good = [
        JSON.parse(readFileSync('config/numaplace.json', 'utf8')),
        JSON.parse(readFileSync('config/simulated-demo.json', 'utf8')),
        { $schema: './numaplace.schema.json', mode: 'apply', reservedCpus: '0,64' },
        {},
      ];
      for (const g of good) {
        expect(validate(g), JSON.stringify(validate.errors)).to.equal(true);
        expect(() => parseConfig(g)).not.to.throw();
      }
      const bad = [{ mode: 'sometimes' }, { churn: { holdCycles: 0 } }, { metrics: { port: 70000 } }, { modee: 'apply' },
        { hotplug: { memory: { blockSizeMiB: 100 } } }, { exclude: { names: [''] } }, { shares: { classes: { gold: -1 } } }, { stateDir: 'relative/dir' }];
      for (const b of bad) {
        expect(validate(b), JSON.stringify(b)).to.equal(false);
        expect(() => parseConfig(b), JSON.stringify(b)).to.throw(ConfigError);
      }
    });

    it('config/README.md documents every key as the config table says (npm run docs:config)', () => {
      const readme = readFileSync('config/README.md', 'utf8');
      expect(readme).to.equal(withKeyTables(readme));
      const rows = new Map<string, string>();
      for (const line of readme.split('\n')) {
        const m = /^\| `([^`]+)` \| [^|]+ \| `([^`]*)` \|/.exec(line);
        if (m) rows.set(m[1], m[2]);
      }
      const keys = configKeys();
      expect([...rows.keys()].sort()).to.deep.equal([...keys].sort());
      for (const key of keys) {
        expect(JSON.parse(rows.get(key)!), `documented default of ${key}`).to.deep.equal(JSON.parse(JSON.stringify(get(DEFAULT_CONFIG, key))));
      }
    });

    it('keys SIGHUP cannot change: what is built at start (connection, logger, metrics endpoint, state dir)', () => {
      const restart = configKeys().filter((k) => CONFIG_TABLE[k].reload === 'restart');
      expect(restart).to.deep.equal(['connect', 'virsh.timeoutMs', 'metrics.enabled', 'metrics.address', 'metrics.port', 'stateDir', 'log.format', 'log.level']);
      const changed = parseConfig({ connect: 'qemu:///session', mode: 'apply', metrics: { port: 9000 } });
      expect(restartKeysChanged(DEFAULT_CONFIG, changed)).to.deep.equal(['connect', 'metrics.port']);
      const kept = keepRunningValues(changed, DEFAULT_CONFIG, ['connect', 'metrics.port']);
      expect(kept.connect).to.equal(DEFAULT_CONFIG.connect);
      expect(kept.metrics).to.deep.equal(DEFAULT_CONFIG.metrics);
      expect(kept.mode).to.equal('apply');
      expect(Object.isFrozen(kept.metrics)).to.equal(true);
    });

    it('the keys are the 44 config/README.md documents (a key added or dropped changes this count)', () => {
      expect(configKeys()).to.have.length(44); // 43 + foreign.manage (issue 12 item 2)
      expect(configKeys()).to.include.members(['churn.maxVmsPerCycle', 'hotplug.memory.blockSizeMiB', 'metrics.address', 'stateDir']);
    });

    it('an empty object gives the defaults; the result is deep-frozen', () => {
      const c = parseConfig({});
      expect(c).to.deep.equal(DEFAULT_CONFIG);
      expect(Object.isFrozen(c)).to.equal(true);
      expect(Object.isFrozen(c.churn)).to.equal(true);
      expect(Object.isFrozen(c.hotplug.vcpu)).to.equal(true);
      expect(Object.isFrozen(c.exclude.names)).to.equal(true);
      expect(Object.isFrozen(c.shares.classes)).to.equal(true);
      expect(() => {
        (c as { mode: string }).mode = 'apply';
      }).to.throw(TypeError);
      expect(Object.isFrozen(DEFAULT_CONFIG.hotplug.memory)).to.equal(true);
    });

    it('a partial file keeps the defaults of the keys it leaves out', () => {
      const c = parseConfig({ mode: 'apply', churn: { holdCycles: 5 }, hotplug: { memory: { enabled: false } } });
      expect(c.mode).to.equal('apply');
      expect(c.churn.holdCycles).to.equal(5);
      expect(c.churn.maxVmsPerCycle).to.equal(4);
      expect(c.hotplug.memory.enabled).to.equal(false);
      expect(c.hotplug.memory.stepMiB).to.equal(1024);
      expect(c.hotplug.vcpu).to.deep.equal(DEFAULT_CONFIG.hotplug.vcpu);
    });
  });

  describe('accepted values', () => {
    const good: [string, unknown, unknown][] = [
      // [key, given, stored]
      ['reservedCpus', '0-3,^1', '0,2-3'],
      ['reservedCpus', '0,64', '0,64'],
      ['emulator.housekeepingCpus', ' 1 , 65 ', '1,65'],
      ['schedule', '0 * * * *', '0 * * * *'],
      ['schedule', '*/5 * * * * *', '*/5 * * * * *'],
      ['connect', 'qemu+ssh://root@hv1/system', 'qemu+ssh://root@hv1/system'],
      ['connect', 'test:///default', 'test:///default'],
      ['metrics.address', '::1', '::1'],
      ['metrics.address', '0.0.0.0', '0.0.0.0'],
      ['metrics.port', 65535, 65535],
      ['cpuOvercommit', 2.5, 2.5],
      ['churn.memoryMigrationMiBPerCycle', 0, 0],
      ['exclude.names', ['test-*', 'build?'], ['test-*', 'build?']],
      ['shares.weights', { 'db 1': 4, web: 0.25 }, { 'db 1': 4, web: 0.25 }],
      ['hotplug.vcpu.threshold', 1, 1],
      ['hotplug.vcpu.hysteresis', 0, 0],
      ['hotplug.memory.blockSizeMiB', 2048, 2048],
      ['log.format', 'json', 'json'],
      ['stateDir', '/tmp/np-state', '/tmp/np-state'],
    ];
    for (const [key, given, stored] of good) {
      it(`${key} = ${JSON.stringify(given)}`, () => {
        expect(get(parseConfig(withKey(key, given)), key)).to.deep.equal(stored);
      });
    }

    it('name maps have no prototype, so a VM named "constructor" has no weight', () => {
      const c = parseConfig({ shares: { weights: { a: 2 } } });
      expect(c.shares.weights.constructor).to.equal(undefined);
      expect(DEFAULT_CONFIG.shares.classes.toString).to.equal(undefined);
      expect(c.shares.weights.a).to.equal(2);
    });
  });

  describe('rejections (each names the key and the value)', () => {
    // [given config, expected problem substrings (key first)]
    const bad: [string, unknown, string[]][] = [
      ['unknown key with a near sibling', { churn: { maxVmsPerCyle: 3 } }, ['churn.maxVmsPerCyle: unknown key; did you mean churn.maxVmsPerCycle?']],
      ['unknown top-level key, misspelt', { reservedCPUs: '0' }, ['reservedCPUs: unknown key; did you mean reservedCpus?']],
      ['key in the wrong group', { holdCycles: 3 }, ['holdCycles: unknown key; did you mean churn.holdCycles?']],
      ['key in the wrong group, several candidates', { windowCycles: 3 }, ['windowCycles: unknown key; did you mean load.windowCycles, hotplug.vcpu.windowCycles or hotplug.memory.windowCycles?']],
      ['unknown key, nothing near', { churn: { zzz: 1 } }, ['churn.zzz: unknown key (keys of churn: improvementMargin, holdCycles, maxVmsPerCycle, memoryMigrationMiBPerCycle, cooldownCycles)']],
      ['unknown top-level key, nothing near', { frobnicate: true }, ['frobnicate: unknown key (see config/README.md for the keys)']],
      ['unknown nested key', { hotplug: { vcpu: { treshold: 0.5 } } }, ['hotplug.vcpu.treshold: unknown key; did you mean hotplug.vcpu.threshold?']],
      ['__proto__ key', JSON.parse('{"__proto__": {"mode": "apply"}}'), ['__proto__: unknown key']],
      ['not an object', [], ['the configuration: got [], expected an object with keys connect, schedule']],
      ['group not an object', { churn: 5 }, ['churn: got 5, expected an object with keys improvementMargin']],
      ['group null', { metrics: null }, ['metrics: got null, expected an object']],
      ['connect not a URI', { connect: 'localhost' }, ['connect: got "localhost", expected a libvirt URI']],
      ['connect empty', { connect: '' }, ['connect: got "", expected a libvirt URI']],
      ['connect not a string', { connect: 5 }, ['connect: got 5, expected a libvirt URI']],
      ['schedule bad field', { schedule: '61 * * * * *' }, ['schedule: invalid cron expression "61 * * * * *": 61 is a invalid expression for second']],
      ['schedule too many fields', { schedule: '1 2 3 4 5 6 7' }, ['schedule: invalid cron expression "1 2 3 4 5 6 7": expected 5 or 6 fields but got 7']],
      ['schedule impossible date', { schedule: '0 0 0 31 2 *' }, ['schedule: invalid cron expression']],
      ['schedule not a string', { schedule: 10 }, ['schedule: got 10, expected a node-cron expression']],
      ['mode', { mode: 'Apply' }, ['mode: got "Apply", expected "advisory" or "apply"']],
      ['reservedCpus garbage', { reservedCpus: '0-3,x' }, ['reservedCpus: invalid cpuset "0-3,x": "x" is not a CPU id']],
      ['reservedCpus backwards', { reservedCpus: '5-2' }, ['reservedCpus: invalid cpuset "5-2": range "5-2" runs backwards']],
      ['reservedCpus as array', { reservedCpus: [0, 1] }, ['reservedCpus: got [0,1], expected a cpuset string']],
      ['housekeepingCpus', { emulator: { housekeepingCpus: '0,,1' } }, ['emulator.housekeepingCpus: invalid cpuset "0,,1": empty item between commas']],
      ['cpuOvercommit zero', { cpuOvercommit: 0 }, ['cpuOvercommit: got 0, expected a number > 0']],
      ['cpuOvercommit string', { cpuOvercommit: '1.5' }, ['cpuOvercommit: got "1.5", expected a number > 0']],
      ['persistConfig string', { persistConfig: 'yes' }, ['persistConfig: got "yes", expected true or false']],
      ['improvementMargin negative', { churn: { improvementMargin: -0.1 } }, ['churn.improvementMargin: got -0.1, expected a number >= 0']],
      ['holdCycles zero', { churn: { holdCycles: 0 } }, ['churn.holdCycles: got 0, expected an integer >= 1']],
      ['holdCycles fractional', { churn: { holdCycles: 1.5 } }, ['churn.holdCycles: got 1.5, expected an integer >= 1']],
      ['maxVmsPerCycle zero', { churn: { maxVmsPerCycle: 0 } }, ['churn.maxVmsPerCycle: got 0, expected an integer >= 1']],
      ['memoryMigration negative', { churn: { memoryMigrationMiBPerCycle: -1 } }, ['churn.memoryMigrationMiBPerCycle: got -1, expected an integer >= 0']],
      ['cooldownCycles null', { churn: { cooldownCycles: null } }, ['churn.cooldownCycles: got null, expected an integer >= 0']],
      ['exclude.names not an array', { exclude: { names: 'test-*' } }, ['exclude.names: got "test-*", expected an array of name patterns']],
      ['exclude.names empty pattern', { exclude: { names: ['a', ''] } }, ['exclude.names: item 1: got "", expected a non-empty name pattern']],
      ['exclude.metadata', { exclude: { metadata: 1 } }, ['exclude.metadata: got 1, expected true or false']],
      ['foreign.manage', { foreign: { manage: 'yes' } }, ['foreign.manage: got "yes", expected true or false']],
      ['shares.enabled', { shares: { enabled: 'true' } }, ['shares.enabled: got "true", expected true or false']],
      ['shares.perVcpu too low', { shares: { perVcpu: 1 } }, ['shares.perVcpu: got 1, expected an integer from 2 to 262144']],
      ['shares.perVcpu too high', { shares: { perVcpu: 300000 } }, ['shares.perVcpu: got 300000, expected an integer from 2 to 262144']],
      ['shares.classes zero weight', { shares: { classes: { gold: 0 } } }, ['shares.classes: "gold": got 0, expected a number > 0']],
      ['shares.classes array', { shares: { classes: [2] } }, ['shares.classes: got [2], expected an object of {"name": weight}']],
      ['shares.weights string weight', { shares: { weights: { web1: '2' } } }, ['shares.weights: "web1": got "2", expected a number > 0']],
      ['shares.weights empty name', { shares: { weights: { '': 2 } } }, ['shares.weights: an empty name is not allowed']],
      ['solver.timeLimitMs zero', { solver: { timeLimitMs: 0 } }, ['solver.timeLimitMs: got 0, expected an integer from 1 to 3600000']],
      ['solver.memoryMoveCostPerGiB negative', { solver: { memoryMoveCostPerGiB: -1 } }, ['solver.memoryMoveCostPerGiB: got -1, expected a number >= 0']],
      ['solver.vcpuMoveCost string', { solver: { vcpuMoveCost: 'low' } }, ['solver.vcpuMoveCost: got "low", expected a number >= 0']],
      ['load.windowCycles zero', { load: { windowCycles: 0 } }, ['load.windowCycles: got 0, expected an integer >= 1']],
      ['virsh.timeoutMs zero', { virsh: { timeoutMs: 0 } }, ['virsh.timeoutMs: got 0, expected an integer >= 1']],
      ['backoff.initialMs', { backoff: { initialMs: -5 } }, ['backoff.initialMs: got -5, expected an integer >= 1']],
      ['backoff.maxMs below initialMs', { backoff: { initialMs: 5000, maxMs: 1000 } }, ['backoff.maxMs: got 1000, expected at least backoff.initialMs (5000)']],
      ['metrics.enabled', { metrics: { enabled: 'no' } }, ['metrics.enabled: got "no", expected true or false']],
      ['metrics.address host name', { metrics: { address: 'localhost' } }, ['metrics.address: got "localhost", expected an IP address literal']],
      ['metrics.address with port', { metrics: { address: '127.0.0.1:9464' } }, ['metrics.address: got "127.0.0.1:9464", expected an IP address literal']],
      ['metrics.port zero', { metrics: { port: 0 } }, ['metrics.port: got 0, expected an integer from 1 to 65535']],
      ['metrics.port too high', { metrics: { port: 70000 } }, ['metrics.port: got 70000, expected an integer from 1 to 65535']],
      ['metrics.port string', { metrics: { port: '9464' } }, ['metrics.port: got "9464", expected an integer from 1 to 65535']],
      ['stateDir relative', { stateDir: 'state' }, ['stateDir: got "state", expected an absolute directory path']],
      ['log.format', { log: { format: 'yaml' } }, ['log.format: got "yaml", expected "text" or "json"']],
      ['log.level', { log: { level: 'verbose' } }, ['log.level: got "verbose", expected "debug" or "info" or "warn" or "error"']],
      ['hotplug.vcpu.enabled', { hotplug: { vcpu: { enabled: null } } }, ['hotplug.vcpu.enabled: got null, expected true or false']],
      ['hotplug.vcpu.threshold zero', { hotplug: { vcpu: { threshold: 0 } } }, ['hotplug.vcpu.threshold: got 0, expected a number > 0 and <= 1']],
      ['hotplug.vcpu.threshold above 1', { hotplug: { vcpu: { threshold: 1.2 } } }, ['hotplug.vcpu.threshold: got 1.2, expected a number > 0 and <= 1']],
      ['hotplug.vcpu.windowCycles', { hotplug: { vcpu: { windowCycles: 0 } } }, ['hotplug.vcpu.windowCycles: got 0, expected an integer >= 1']],
      ['hotplug.vcpu.cooldownCycles', { hotplug: { vcpu: { cooldownCycles: -1 } } }, ['hotplug.vcpu.cooldownCycles: got -1, expected an integer >= 0']],
      ['hotplug.vcpu.maxVcpus', { hotplug: { vcpu: { maxVcpus: 2.5 } } }, ['hotplug.vcpu.maxVcpus: got 2.5, expected an integer >= 0']],
      ['hotplug.vcpu.hysteresis range', { hotplug: { vcpu: { hysteresis: 2 } } }, ['hotplug.vcpu.hysteresis: got 2, expected a number from 0 to 1']],
      ['hotplug.vcpu.hysteresis >= threshold', { hotplug: { vcpu: { threshold: 0.5, hysteresis: 0.5 } } }, ['hotplug.vcpu.hysteresis: got 0.5, expected less than hotplug.vcpu.threshold (0.5)']],
      ['hotplug.memory.enabled', { hotplug: { memory: { enabled: 0 } } }, ['hotplug.memory.enabled: got 0, expected true or false']],
      ['hotplug.memory.minAvailableRatio', { hotplug: { memory: { minAvailableRatio: 1.5 } } }, ['hotplug.memory.minAvailableRatio: got 1.5, expected a number from 0 to 1']],
      ['hotplug.memory.windowCycles', { hotplug: { memory: { windowCycles: 0 } } }, ['hotplug.memory.windowCycles: got 0, expected an integer >= 1']],
      ['hotplug.memory.cooldownCycles', { hotplug: { memory: { cooldownCycles: 'x' } } }, ['hotplug.memory.cooldownCycles: got "x", expected an integer >= 0']],
      ['hotplug.memory.stepMiB', { hotplug: { memory: { stepMiB: 0 } } }, ['hotplug.memory.stepMiB: got 0, expected an integer >= 1']],
      ['hotplug.memory.blockSizeMiB not a power of two', { hotplug: { memory: { blockSizeMiB: 100 } } }, ['hotplug.memory.blockSizeMiB: got 100, expected a power of two']],
      ['several problems at once', { mode: 'x', metrics: { port: 0 }, churnn: {} }, ['churnn: unknown key; did you mean churn?', 'mode: got "x"', 'metrics.port: got 0']],
    ];
    for (const [name, given, expected] of bad) {
      it(name, () => {
        const problems = problemsOf(() => parseConfig(given));
        expect(problems).to.have.length(expected.length);
        for (const want of expected) {
          expect(problems.some((p) => p.startsWith(want)), `${JSON.stringify(problems)} should include ${want}`).to.equal(true);
        }
      });
    }

    it('every leaf key has at least one rejection case above', () => {
      const covered = new Set(bad.flatMap(([, , ps]) => ps.map((p) => p.split(':')[0])));
      const missing = configKeys().filter((k) => !covered.has(k));
      expect(missing).to.deep.equal([]);
    });

    it('ConfigError is bad input to the CLI (exit 2) with a one-line message', () => {
      try {
        parseConfig({ mode: 'x', metrics: { port: 0 } }, '/etc/numaplace/numaplace.json');
        expect.fail('no error');
      } catch (e) {
        expect(e).to.be.instanceOf(ConfigError);
        expect(isBadInput(e)).to.equal(true);
        const msg = (e as Error).message;
        expect(msg).to.match(/^\/etc\/numaplace\/numaplace\.json: mode: got "x", expected "advisory" or "apply"; metrics\.port: got 0/);
        expect(msg).not.to.include('\n');
      }
    });
  });

  describe('loadConfig', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'np-config-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const write = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };

    it('without a path returns the defaults', () => {
      expect(loadConfig()).to.equal(DEFAULT_CONFIG);
    });

    it('reads a valid file (with a BOM)', () => {
      const p = write('ok.json', '\ufeff{"mode": "apply", "reservedCpus": "0,64"}\n');
      const c = loadConfig(p);
      expect(c.mode).to.equal('apply');
      expect(c.reservedCpus).to.equal('0,64');
    });

    const failures: [string, () => string, RegExp][] = [
      ['missing file', () => join(dir, 'nope.json'), /nope\.json: no such file \(copy config\/numaplace\.json there/],
      ['a directory', () => dir, /: is a directory, expected a JSON file/],
      ['empty file', () => write('empty.json', '  \n'), /empty\.json: the file is empty/],
      ['invalid JSON', () => write('bad.json', '{\n  "mode": "apply",\n}\n'), /bad\.json: invalid JSON at line 3, column 1: /],
      ['JSON that is not an object', () => write('num.json', '42'), /num\.json: the configuration: got 42, expected an object/],
      ['an invalid key', () => write('key.json', '{"churn": {"maxVmsPerCyle": 3}}'), /key\.json: churn\.maxVmsPerCyle: unknown key; did you mean churn\.maxVmsPerCycle\?/],
    ];
    for (const [name, path, re] of failures) {
      it(`names the file and the problem: ${name}`, () => {
        const p = path();
        try {
          loadConfig(p);
          expect.fail('no error');
        } catch (e) {
          expect(e).to.be.instanceOf(ConfigError);
          expect((e as ConfigError).source).to.equal(p);
          expect((e as Error).message).to.match(re);
        }
      });
    }
  });

  describe('command-line overrides', () => {
    it('replace the file values and keep the rest', () => {
      const file = parseConfig({ mode: 'advisory', connect: 'qemu:///session', churn: { holdCycles: 9 } });
      const c = applyOverrides(file, { mode: 'apply', reservedCpus: '0-1,^1', connect: undefined });
      expect(c.mode).to.equal('apply');
      expect(c.reservedCpus).to.equal('0');
      expect(c.connect).to.equal('qemu:///session');
      expect(c.churn.holdCycles).to.equal(9);
      expect(Object.isFrozen(c)).to.equal(true);
      expect(file.mode).to.equal('advisory');
    });

    it('reject bad values naming the flag', () => {
      const problems = problemsOf(() => applyOverrides(DEFAULT_CONFIG, { mode: 'yes', reservedCpus: 'all', connect: 'nowhere' }));
      expect(problems).to.have.length(3);
      expect(problems[0]).to.match(/^--connect: got "nowhere", expected a libvirt URI/);
      expect(problems[1]).to.match(/^--reserved-cpus: invalid cpuset "all"/);
      expect(problems[2]).to.match(/^--mode: got "yes", expected "advisory" or "apply"/);
    });

    it('come from parseArgs values', () => {
      expect(overridesFromFlags({ connect: 'test:///default', 'reserved-cpus': '0', simulate: 'x' })).to.deep.equal({
        connect: 'test:///default',
        reservedCpus: '0',
        mode: undefined,
      });
    });

    it('configFromFlags loads --config and applies the flags', () => {
      const dir = mkdtempSync(join(tmpdir(), 'np-config-'));
      try {
        const p = join(dir, 'c.json');
        writeFileSync(p, '{"mode": "apply", "connect": "qemu:///session"}');
        const c = configFromFlags({ config: p, connect: 'test:///default' });
        expect(c.mode).to.equal('apply');
        expect(c.connect).to.equal('test:///default');
        expect(configFromFlags({})).to.equal(DEFAULT_CONFIG);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('properties', () => {
    it('any JSON value gives a Config or a ConfigError, never another exception', () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => {
          try {
            parseConfig(v);
          } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
          }
        }),
        { numRuns: 150 },
      );
    });

    it('-0 is stored as 0 (found by the property test below)', () => {
      expect(Object.is(parseConfig({ solver: { memoryMoveCostPerGiB: -0 } }).solver.memoryMoveCostPerGiB, 0)).to.equal(true);
      expect(Object.is(parseConfig({ churn: { holdCycles: 1, cooldownCycles: -0 } }).churn.cooldownCycles, 0)).to.equal(true);
    });

    it('a config with one leaf replaced by any JSON value: accepted and stored, or rejected naming that key', () => {
      const keys = configKeys();
      fc.assert(
        fc.property(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 2 }), (key, value) => {
          let c;
          try {
            c = parseConfig(withKey(key, value));
          } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            expect(e.problems.length, JSON.stringify(e.problems)).to.be.greaterThan(0);
            // Either the key itself, or a rule tying it to another key, is named first.
            expect(e.problems.every((p) => p.includes(key)), `${key}: ${JSON.stringify(e.problems)}`).to.equal(true);
            return;
          }
          // Accepted: parsing what was stored gives the same configuration (normalisation is idempotent).
          expect(parseConfig(JSON.parse(JSON.stringify(c)))).to.deep.equal(c);
        }),
        { numRuns: 300 },
      );
    });
  });
});
