// Every captured source under test/fixtures/topology/MACHINE parses to the expected JSON beside it.
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSysfsFiles } from '../../../src/host/read-topology.js';
import { parseCapabilities } from '../../../src/topology/capabilities.js';
import { formatCpuSet } from '../../../src/core/cpuset.js';
import { topologyJson } from '../../../src/topology/format.js';
import { parseFreecell } from '../../../src/topology/freecell.js';
import { parseNumactl } from '../../../src/topology/numactl.js';
import { parseSysfs } from '../../../src/topology/sysfs.js';

export const FIXTURES = 'test/fixtures/topology';
export const MACHINES = readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

const read = (machine: string, file: string) => readFileSync(join(FIXTURES, machine, file), 'utf8');
const expected = (machine: string, file: string) => JSON.parse(read(machine, file));
const has = (machine: string, file: string) => existsSync(join(FIXTURES, machine, file));
/** Through JSON, as the CLI prints it, so the comparison is over the contract's shape. */
const asJson = (v: unknown) => JSON.parse(JSON.stringify(v));

describe('topology fixtures: raw capture -> expected parse', () => {
  it('has the machines the parsers must handle', () => {
    expect(MACHINES).to.include.members([
      'kvm-epyc-milan-2vcpu', 'libvirt9-test-driver', 'openeuler-guide-4node', 'dual-xeon-e5-2680v4', 'dual-xeon-platinum-9221', 'dual-xeon-gold-6430-cxl',
    ]);
  });

  for (const machine of MACHINES) {
    describe(machine, () => {
      if (has(machine, 'capabilities.xml')) {
        it('capabilities.xml -> capabilities.json', () => {
          expect(asJson(topologyJson(parseCapabilities(read(machine, 'capabilities.xml'))))).to.deep.equal(expected(machine, 'capabilities.json'));
        });
      }
      if (has(machine, 'freecell.txt')) {
        it('freecell.txt -> freecell.json', () => {
          const f = parseFreecell(read(machine, 'freecell.txt'));
          expect({ perNodeKiB: Object.fromEntries(f.perNodeKiB), totalKiB: f.totalKiB }).to.deep.equal(expected(machine, 'freecell.json'));
        });
        it('capabilities.xml + freecell.txt -> capabilities+freecell.json', () => {
          const t = parseCapabilities(read(machine, 'capabilities.xml'), { free: parseFreecell(read(machine, 'freecell.txt')) });
          expect(asJson(topologyJson(t))).to.deep.equal(expected(machine, 'capabilities+freecell.json'));
        });
      }
      if (has(machine, 'numactl-H.txt')) {
        it('numactl-H.txt -> numactl.json', () => {
          expect(asJson(topologyJson(parseNumactl(read(machine, 'numactl-H.txt'))))).to.deep.equal(expected(machine, 'numactl.json'));
        });
      }
      if (has(machine, 'sysfs')) {
        it('sysfs/ -> sysfs.json', async () => {
          const t = parseSysfs(await readSysfsFiles(join(FIXTURES, machine, 'sysfs')));
          expect(asJson(topologyJson(t))).to.deep.equal(expected(machine, 'sysfs.json'));
        });
      }
    });
  }
});

// The facts each fixture exists for, stated by hand (the JSON files above are long).
describe('topology fixtures: what each machine shows', () => {
  it('dual Xeon E5-2680 v4: SMT siblings N,N+28, odd core ids, CPU 41 offline leaves a gap', async () => {
    const sysfs = parseSysfs(await readSysfsFiles(join(FIXTURES, 'dual-xeon-e5-2680v4', 'sysfs')));
    expect(formatCpuSet(sysfs.nodes[0].cpus)).to.equal('0-13,28-40');
    expect(sysfs.cpus.find((c) => c.id === 41)).to.deep.equal({ id: 41, node: 0, socket: -1, die: -1, core: -1, siblings: [41], online: false });
    expect(sysfs.cpus.find((c) => c.id === 13)!.siblings).to.deep.equal([13]);
    expect(sysfs.cpus.find((c) => c.id === 7)).to.include({ core: 8, socket: 0 });
    expect(sysfs.cpus.find((c) => c.id === 42)!.siblings).to.deep.equal([14, 42]);
    const caps = parseCapabilities(read('dual-xeon-e5-2680v4', 'capabilities.xml'));
    // libvirt on x86 does not list an offline CPU; otherwise the two sources agree.
    expect(caps.nodes.map((n) => n.cpus)).to.deep.equal(sysfs.nodes.map((n) => n.cpus));
    expect(caps.cpus).to.deep.equal(sysfs.cpus.filter((c) => c.online));
  });
  it('dual Xeon Platinum 9221: two dies per package, each its own node', () => {
    const t = parseCapabilities(read('dual-xeon-platinum-9221', 'capabilities.xml'));
    const dies = t.nodes.map((n) => [...new Set(n.cpus.map((c) => { const i = t.cpus.find((x) => x.id === c)!; return `${i.socket}/${i.die}`; }))]);
    expect(dies).to.deep.equal([['0/0'], ['0/1'], ['1/0'], ['1/1']]);
    expect(t.nodes[0].distances).to.deep.equal({ 0: 10, 1: 11, 2: 21, 3: 21 });
  });
  it('dual Xeon Gold 6430 + CXL: memory-only node 2, siblings 0,64', () => {
    const t = parseCapabilities(read('dual-xeon-gold-6430-cxl', 'capabilities.xml'), { free: parseFreecell(read('dual-xeon-gold-6430-cxl', 'freecell.txt')) });
    expect(t.nodes[2]).to.deep.include({ id: 2, cpus: [], memoryMiB: 131072, freeMemoryMiB: 130861 });
    expect(t.cpus[0].siblings).to.deep.equal([0, 64]);
    expect(t.nodes[0].pages).to.deep.include({ sizeKiB: 1048576, count: 16 });
    expect(parseNumactl(read('dual-xeon-gold-6430-cxl', 'numactl-H.txt')).nodes[2].cpus).to.deep.equal([]);
  });
  it('the seed numactl -H (cut short at node 3) keeps nodes 0-2 and warns about node 3', () => {
    const t = parseNumactl(read('openeuler-guide-4node', 'numactl-H.txt'));
    expect(t.nodes.map((n) => formatCpuSet(n.cpus))).to.deep.equal(['0-15', '16-31', '32-47', '']);
    expect(t.nodes[3]).to.deep.include({ memoryMiB: 272, freeMemoryMiB: 272 });
    expect(t.warnings.join('\n')).to.match(/node 3 has no "cpus" line/).and.match(/node 3: no "size" line/);
  });
  it('libvirt\'s test driver (a real libvirt 9.0 capture): two cells, no <distances>, so 10/20 with a warning', () => {
    const t = parseCapabilities(read('libvirt9-test-driver', 'capabilities.xml'), { free: parseFreecell(read('libvirt9-test-driver', 'freecell.txt')) });
    expect(t.nodes.map((n) => [formatCpuSet(n.cpus), n.memoryMiB, n.freeMemoryMiB, n.distances])).to.deep.equal([
      ['0-7', 2048, 2, { 0: 10, 1: 20 }], ['8-15', 4096, 4, { 0: 20, 1: 10 }],
    ]);
    expect(t.warnings).to.deep.equal(['capabilities gives no NUMA distances: assumed the kernel defaults, 10 local and 20 remote']);
  });
  it('this machine: capabilities, sysfs and numactl agree on nodes and CPUs', async () => {
    const m = 'kvm-epyc-milan-2vcpu';
    const caps = parseCapabilities(read(m, 'capabilities.xml'));
    const sysfs = parseSysfs(await readSysfsFiles(join(FIXTURES, m, 'sysfs')));
    const numactl = parseNumactl(read(m, 'numactl-H.txt'));
    for (const t of [sysfs, numactl]) expect(t.nodes.map((n) => [n.id, n.cpus, n.distances])).to.deep.equal(caps.nodes.map((n) => [n.id, n.cpus, n.distances]));
    expect(sysfs.cpus).to.deep.equal(caps.cpus);
  });
});
