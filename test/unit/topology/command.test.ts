// `numaplace topology` run in process through the CLI dispatcher (main), output captured: the
// same code path as the binary without a Node start-up per case.
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { simulatedTopology } from '../../../src/cli/commands/topology.js';

const FIXTURES = 'test/fixtures/topology';
const expected = (machine: string, file: string) => JSON.parse(readFileSync(join(FIXTURES, machine, file), 'utf8'));
const withCaps = readdirSync(FIXTURES).filter((m) => existsSync(join(FIXTURES, m, 'freecell.txt')));
const f = (machine: string, file: string) => join(FIXTURES, machine, file);

interface Run { exitCode: number; stdout: string; stderr: string }
/** Run `numaplace topology ARGS` in this process, capturing what it writes. */
async function topology(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string) => { out.push(String(chunk)); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => { err.push(String(chunk)); return true; }) as typeof process.stderr.write;
  try {
    const exitCode = await main(['topology', ...args]);
    return { exitCode, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

describe('numaplace topology (in process)', () => {
  for (const m of withCaps) {
    it(`--capabilities ${m} --freecell --json adds free memory`, async () => {
      const r = await topology('--capabilities', f(m, 'capabilities.xml'), '--freecell', f(m, 'freecell.txt'), '--json');
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout)).to.deep.equal(expected(m, 'capabilities+freecell.json'));
    });
  }

  it('--sysfs DIR --json prints the expected parse (offline CPU included)', async () => {
    const dir = f('dual-xeon-e5-2680v4', 'sysfs');
    const r = await topology('--sysfs', dir, '--json');
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal({ ...expected('dual-xeon-e5-2680v4', 'sysfs.json'), source: `sysfs:${dir}` });
  });

  it('--numactl FILE --json prints the expected parse with its warnings', async () => {
    const r = await topology('--numactl', f('openeuler-guide-4node', 'numactl-H.txt'), '--json');
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal(expected('openeuler-guide-4node', 'numactl.json'));
  });

  it('human output: per node a cpuset and memory, the distance matrix, warnings', async () => {
    const r = await topology('--numactl', f('openeuler-guide-4node', 'numactl-H.txt'));
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(`source: numactl
available: 4 nodes (0-3), 48 CPUs online (0-47)
node 0 cpus: 0-15
node 0 size: 31571 MiB
node 0 free: 17095 MiB
node 1 cpus: 16-31
node 1 size: 32190 MiB
node 1 free: 28057 MiB
node 2 cpus: 32-47
node 2 size: 32190 MiB
node 2 free: 10562 MiB
node 3 cpus: (none)
node 3 size: 272 MiB
node 3 free: 272 MiB
node distances:
node   0   1   2   3
  0:  10  15  20  20
  1:  15  10  20  20
  2:  20  20  10  15
  3:  20  20  15  10
warnings:
  - node 3 has no "cpus" line (output cut short?): treated as having no CPUs
  - node 3: no "size" line (output cut short?); total memory taken as its free memory (272 MiB), a lower bound
  - numactl -H gives no socket, core or thread siblings: CPU details unknown
`);
  });

  it('human output of a 2-socket host with a CXL node', async () => {
    const r = await topology('--capabilities', f('dual-xeon-gold-6430-cxl', 'capabilities.xml'), '--freecell', f('dual-xeon-gold-6430-cxl', 'freecell.txt'));
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(`source: capabilities
available: 3 nodes (0-2), 128 CPUs online (0-127)
cpus: 2 sockets, 1 die per socket, up to 2 threads per core
node 0 cpus: 0-31,64-95
node 0 size: 257461 MiB
node 0 free: 185656 MiB
node 1 cpus: 32-63,96-127
node 1 size: 258007 MiB
node 1 free: 234379 MiB
node 2 cpus: (none)
node 2 size: 131072 MiB
node 2 free: 130861 MiB
node distances:
node   0   1   2
  0:  10  21  14
  1:  21  10  24
  2:  14  24  10
`);
  });

  it('--simulate NAME prints a synthetic host', async () => {
    const r = await topology('--simulate', '4x16', '--json');
    expect(r.exitCode, r.stderr).to.equal(0);
    const t = JSON.parse(r.stdout);
    expect(t.source).to.equal('simulated:4x16');
    expect(t.nodes.map((n: { distances: Record<string, number> }) => Object.values(n.distances))).to.deep.equal([[10, 15, 20, 20], [15, 10, 20, 20], [20, 20, 10, 15], [20, 20, 15, 10]]);
  });

  it('--help prints the usage', async () => {
    const r = await topology('--help');
    expect(r.exitCode).to.equal(0);
    expect(r.stdout).to.match(/^usage: numaplace topology \[--connect URI \| --capabilities FILE/);
  });


  const BAD: [string, string[], RegExp][] = [
    ['a directory that is not sysfs', ['--sysfs', FIXTURES], /^numaplace topology: --sysfs test\/fixtures\/topology: .* is not a directory/],
    ['--freecell without --capabilities', ['--freecell', 'x.txt'], /^numaplace topology: --freecell goes with --capabilities FILE/],
    ['an unknown option', ['--capabilitys', 'x'], /^numaplace topology: Unknown option '--capabilitys'/],
    ['an inconsistent freecell', ['--capabilities', f('kvm-epyc-milan-2vcpu', 'capabilities.xml'), '--freecell', f('kvm-epyc-milan-2vcpu', 'numactl-H.txt')],
      /^numaplace topology: --freecell .*numactl-H\.txt: freecell line 1 "available: 1 nodes \(0\)" is not "NODE: AMOUNT KiB"$/],
    ['a numactl file that is not numactl output', ['--numactl', f('kvm-epyc-milan-2vcpu', 'freecell.txt')], /^numaplace topology: --numactl .*freecell\.txt: numactl line 1 /],
    ['--sysfs on a file', ['--sysfs', f('kvm-epyc-milan-2vcpu', 'freecell.txt')], /is not a directory/],
  ];
  for (const [what, args, re] of BAD) {
    it(`exits 2 with one line on stderr for ${what}`, async () => {
      const r = await topology(...args);
      expect(r.exitCode).to.equal(2);
      expect(r.stdout).to.equal('');
      expect(r.stderr.trimEnd().split('\n')).to.have.length(1);
      expect(r.stderr.trimEnd()).to.match(re);
    });
  }

  it('simulatedTopology resolves bare topologies and scenarios (VM memory taken out of free), naming the known ones otherwise', async () => {
    expect((await simulatedTopology('2x8-cxl')).nodes[2].cpus).to.deep.equal([]);
    const steady = await simulatedTopology('steady-4x16');
    expect(steady.nodes.map((n) => n.memoryMiB)).to.deep.equal([31571, 32190, 32190, 32190]);
    for (const n of steady.nodes) expect(n.freeMemoryMiB).to.be.below(n.memoryMiB);
    let err: Error | undefined;
    await simulatedTopology('nope').catch((e: Error) => { err = e; });
    expect(err?.name).to.equal('UsageError');
    expect(err?.message).to.match(/^--simulate "nope": scenario nope: name: neither a built-in scenario \(steady-4x16, .*a bare topology: 2x8, 4x16, 8x16, 16x16, 2x8-cxl\)/);
  });
});
