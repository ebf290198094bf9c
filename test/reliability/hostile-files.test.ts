/**
 * Issue 12 items 13 and 14: hostile and broken files. A config, checkpoint, capabilities output or
 * problem that is /dev/zero, a FIFO, 50,000 cells, JSON nested 100,000 deep, a 1 MB key, an XXE or
 * entity bomb, and a state directory that is a file: each one line naming the file, exit 2, in
 * seconds, never a hang, a raw errno or a parser's dump. A 500-node topology prints (no stack overflow).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadState, STATE_FILE } from '../../src/daemon/state.js';
import { formatTopologyText } from '../../src/topology/format.js';
import type { HostTopology } from '../../src/core/topology.js';
import { hardened, registerReport } from './counters.js';

registerReport();

const BIN = 'bin/numaplace.js';

describe('reliability: hostile and broken files (issue 12 items 13, 14)', function () {
  this.timeout(300_000);
  let dir: string;
  const f = (name: string) => join(dir, name);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'np-hostile-'));
    spawnSync('mkfifo', [f('fifo')]);
    writeFileSync(f('deep-array.json'), '['.repeat(100_000) + ']'.repeat(100_000));
    writeFileSync(f('deep-object.json'), '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000));
    writeFileSync(f('big-key.json'), JSON.stringify({ ['k'.repeat(1_000_000)]: 1 }));
    writeFileSync(f('big.json'), JSON.stringify({ mode: 'advisory', pad: 'x'.repeat(2 * 1024 * 1024) }));
    writeFileSync(f('xxe.xml'), '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><capabilities><host><topology><cells num="1"><cell id="0"><memory unit="KiB">&x;</memory></cell></cells></topology></host></capabilities>');
    const ents = Array.from({ length: 8 }, (_, i) => `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`).join('');
    writeFileSync(f('lol.xml'), `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">${ents}]><capabilities><host><topology><cells num="1"><cell id="0"><memory unit="KiB">&i;</memory></cell></cells></topology></host></capabilities>`);
    const cells = Array.from({ length: 50_000 }, (_, i) => `<cell id="${i}"><memory unit="KiB">1048576</memory><cpus num="1"><cpu id="${i}" socket_id="0" core_id="${i}" siblings="${i}"/></cpus></cell>`).join('');
    writeFileSync(f('cells.xml'), `<capabilities><host><topology><cells num="50000">${cells}</cells></topology></host></capabilities>`);
    const nodes = Array.from({ length: 50_000 }, (_, i) => ({ id: i, cpus: [i], memoryMiB: 1, freeMemoryMiB: 1, distances: { [i]: 10 } }));
    writeFileSync(f('problem-nodes.json'), JSON.stringify({ topology: { nodes }, vms: [] }));
    writeFileSync(f('a-file'), 'not a directory\n');
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** [args, what the one line must say] */
  const CASES: [string[], RegExp][] = [
    [['config', '--config', '/dev/zero'], /\/dev\/zero: is a character device, expected a regular configuration file/],
    [['config', '--config', 'FIFO'], /fifo: is a FIFO, expected a regular configuration file/],
    [['config', '--config', 'DIR/deep-array.json'], /deep-array\.json: JSON nested more than 64 levels deep/],
    [['config', '--config', 'DIR/deep-object.json'], /deep-object\.json: JSON nested more than 64 levels deep/],
    [['config', '--config', 'DIR/big-key.json'], /big-key\.json: "k{60}"\.\.\. \(1000000 characters\): unknown key/],
    [['config', '--config', 'DIR/big.json'], /big\.json: is \d+ bytes, more than a configuration may be \(1048576 bytes\)/],
    [['run', '--simulate', '2x8', '--config', '/dev/zero'], /\/dev\/zero: is a character device/],
    [['solve', '--input', '/dev/zero'], /--input \/dev\/zero: is a character device, expected a regular problem JSON file/],
    [['solve', '--input', 'FIFO'], /fifo: is a FIFO/],
    [['solve', '--input', 'DIR/deep-array.json'], /JSON nested more than 64 levels deep/],
    [['solve', '--input', 'DIR/deep-object.json'], /JSON nested more than 64 levels deep/],
    [['solve', '--input', 'DIR/problem-nodes.json'], /topology\.nodes has 50000 nodes, more than 1024/],
    [['topology', '--capabilities', '/dev/zero'], /--capabilities \/dev\/zero: is a character device/],
    [['topology', '--capabilities', 'FIFO'], /is a FIFO/],
    [['topology', '--capabilities', 'DIR/xxe.xml'], /xxe\.xml: capabilities XML has a <!DOCTYPE> or <!ENTITY> declaration/],
    [['topology', '--capabilities', 'DIR/lol.xml'], /lol\.xml: capabilities XML has a <!DOCTYPE> or <!ENTITY> declaration/],
    [['topology', '--capabilities', 'DIR/cells.xml'], /cells\.xml: capabilities XML has more than 1024 NUMA cells/],
    [['topology', '--numactl', '/dev/zero'], /--numactl \/dev\/zero: is a character device/],
    [['topology', '--numactl', 'FIFO'], /is a FIFO/],
    [['run', '--simulate', '2x8', '--state-dir', 'DIR/a-file'], /--state-dir .*a-file: is a file, not a directory/],
    [['run', '--simulate', '2x8', '--state-dir', 'DIR/a-file/sub'], /--state-dir .*a-file\/sub: a part of the path is a file/],
  ];

  for (const [args, want] of CASES) {
    it(`numaplace ${args.join(' ')}: exit 2, one line`, () => {
      const argv = args.map((a) => (a === 'FIFO' ? f('fifo') : a.replace(/^DIR\//, `${dir}/`)));
      const t0 = Date.now();
      const r = spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8', timeout: 60_000 });
      expect(r.error, 'no hang').to.equal(undefined);
      expect(r.status, r.stderr).to.equal(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr.slice(0, 500)).to.have.length(1);
      expect(lines[0].length).to.be.below(600);
      expect(lines[0]).to.match(want);
      expect(Date.now() - t0).to.be.below(30_000);
      hardened('hostile-files');
    });
  }

  it('a checkpoint that is a FIFO, /dev/zero or nested 100,000 deep: set aside, fresh start, no hang', () => {
    for (const kind of ['fifo', 'zero', 'deep', 'big']) {
      const sd = join(dir, `state-${kind}`);
      mkdirSync(sd);
      const p = join(sd, STATE_FILE);
      if (kind === 'fifo') spawnSync('mkfifo', [p]);
      else if (kind === 'zero') symlinkSync('/dev/zero', p);
      else if (kind === 'deep') writeFileSync(p, '['.repeat(100_000) + ']'.repeat(100_000));
      else writeFileSync(p, JSON.stringify({ version: 1, pad: 'x'.repeat(65 * 1024 * 1024) }));
      const loaded = loadState(sd);
      expect(loaded.state.applied, kind).to.deep.equal({});
      expect(loaded.problem, kind).to.match(/unreadable \((is a FIFO|is a character device|JSON nested more than 64|is \d+ bytes, more than a checkpoint)/);
      expect(existsSync(p), kind).to.equal(false);
      expect(readdirSync(sd).some((n) => n.startsWith(`${STATE_FILE}.corrupt-`))).to.equal(true);
      hardened('hostile-files');
    }
  });

  it('topology text of a 500-node host (250,000 distances) prints: no Math.max(...) stack overflow', () => {
    const n = 500;
    const topo = {
      nodes: Array.from({ length: n }, (_, i) => ({ id: i, cpus: [i], memoryMiB: 1024, freeMemoryMiB: 512, distances: Object.fromEntries(Array.from({ length: n }, (_, j) => [String(j), i === j ? 10 : 20])) })),
      cpus: Array.from({ length: n }, (_, i) => ({ id: i, node: i, socket: 0, die: 0, core: i, siblings: [i], online: true })),
      warnings: [],
    } as unknown as HostTopology;
    const text = formatTopologyText(topo);
    expect(text).to.include('node distances:');
    expect(text.split('\n').length).to.be.greaterThan(2 * n);
    hardened('hostile-files');
  });
});
