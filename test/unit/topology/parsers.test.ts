// Parser edge cases and inconsistent input, with small inline documents.
import { expect } from 'chai';
import { parseCapabilities } from '../../../src/topology/capabilities.js';
import { parseFreecell } from '../../../src/topology/freecell.js';
import { parseNumactl } from '../../../src/topology/numactl.js';
import { parseSysfs, type SysfsFiles } from '../../../src/topology/sysfs.js';
import { TopologyError } from '../../../src/core/topology.js';

interface CellSpec { id: string | number; memory?: string; distances?: Record<string, number> | null; cpus?: string | null }

function caps(cells: CellSpec[], num: number | string = cells.length): string {
  const body = cells.map((c) => {
    const d = c.distances === null || c.distances === undefined ? ''
      : `<distances>${Object.entries(c.distances).map(([k, v]) => `<sibling id='${k}' value='${v}'/>`).join('')}</distances>`;
    return `<cell id='${c.id}'>${c.memory ?? "<memory unit='KiB'>2097152</memory>"}${d}${c.cpus ?? ''}</cell>`;
  }).join('\n');
  return `<capabilities><host><cpu><arch>x86_64</arch></cpu><topology><cells num='${num}'>${body}</cells></topology></host></capabilities>`;
}
const cpu = (id: number | string, socket = 0, core = Number(id), siblings = String(id)) =>
  `<cpu id='${id}' socket_id='${socket}' die_id='0' core_id='${core}' siblings='${siblings}'/>`;
const cpus = (...list: string[]) => `<cpus num='${list.length}'>${list.join('')}</cpus>`;
const twoCells = (d1: Record<string, number> | null = { 0: 10, 1: 20 }, d2: Record<string, number> | null = { 0: 20, 1: 10 }) => [
  { id: 0, distances: d1, cpus: cpus(cpu(0), cpu(1)) },
  { id: 1, distances: d2, cpus: cpus(cpu(2, 1), cpu(3, 1)) },
];

const throwsTopology = (f: () => unknown, re: RegExp) => expect(f).to.throw(TopologyError, re);

describe('parseCapabilities', () => {
  it('reads cells, CPUs, memory in KiB and distances', () => {
    const t = parseCapabilities(caps(twoCells()));
    expect(t.nodes.map((n) => [n.id, n.cpus, n.memoryMiB, n.distances])).to.deep.equal([
      [0, [0, 1], 2048, { 0: 10, 1: 20 }], [1, [2, 3], 2048, { 0: 20, 1: 10 }],
    ]);
    expect(t.cpus[2]).to.deep.equal({ id: 2, node: 1, socket: 1, die: 0, core: 2, siblings: [2], online: true });
  });
  it('without <distances> assumes 10/20 and says so', () => {
    const t = parseCapabilities(caps(twoCells(null, null)));
    expect(t.nodes[1].distances).to.deep.equal({ 0: 20, 1: 10 });
    expect(t.warnings).to.include('capabilities gives no NUMA distances: assumed the kernel defaults, 10 local and 20 remote');
  });
  it('takes free memory from freecell, and the total from freecell when capabilities is stale', () => {
    const free = parseFreecell('    0:     1048576 KiB\n    1:     3145728 KiB\n--------------------\nTotal:     4194304 KiB\n');
    const t = parseCapabilities(caps(twoCells()), { free });
    expect(t.nodes.map((n) => [n.memoryMiB, n.freeMemoryMiB])).to.deep.equal([[2048, 1024], [3072, 3072]]);
    expect(t.warnings.join()).to.match(/node 1: freecell says 3072 MiB free but capabilities says it has 2048 MiB/);
  });
  it('scales <memory> units', () => {
    const t = parseCapabilities(caps([{ id: 0, memory: "<memory unit='GiB'>4</memory>", cpus: cpus(cpu(0)) }]));
    expect(t.nodes[0].memoryMiB).to.equal(4096);
    throwsTopology(() => parseCapabilities(caps([{ id: 0, memory: "<memory unit='parsecs'>4</memory>", cpus: cpus(cpu(0)) }])), /unit "parsecs"/);
  });
  it('a bare <cpu id> among full ones is an offline CPU; all bare means old libvirt, CPUs online', () => {
    const mixed = parseCapabilities(caps([{ id: 0, cpus: cpus(cpu(0), "<cpu id='1'/>") }]));
    expect(mixed.nodes[0].cpus).to.deep.equal([0]);
    expect(mixed.cpus[1]).to.deep.equal({ id: 1, node: 0, socket: -1, die: -1, core: -1, siblings: [1], online: false });
    const old = parseCapabilities(caps([{ id: 0, cpus: cpus("<cpu id='0'/>", "<cpu id='1'/>") }]));
    expect(old.nodes[0].cpus).to.deep.equal([0, 1]);
    expect(old.warnings.join()).to.match(/no socket\/core\/siblings for any CPU/);
  });
  it('a cell with <cpus num=\'0\'/> is a memory-only node', () => {
    const t = parseCapabilities(caps([
      { id: 0, distances: { 0: 10, 1: 14 }, cpus: cpus(cpu(0)) },
      { id: 1, distances: { 0: 14, 1: 10 }, cpus: "<cpus num='0'/>" },
    ]));
    expect(t.nodes[1].cpus).to.deep.equal([]);
    expect(t.warnings).to.deep.equal([
      'node 0: capabilities has no free memory (add freecell output); free memory assumed equal to its total (2048 MiB)',
      'node 1: capabilities has no free memory (add freecell output); free memory assumed equal to its total (2048 MiB)',
    ]);
  });
  describe('rejects inconsistent input, naming the problem', () => {
    it('truncated XML', () => {
      const xml = caps(twoCells());
      throwsTopology(() => parseCapabilities(xml.slice(0, xml.indexOf('</cells>'))), /ends with <capabilities> <host> <topology> <cells> still open: the output is truncated/);
      throwsTopology(() => parseCapabilities(xml.slice(0, 200)), /not well-formed \(line 1, column 201: .*\); is the file complete\?/);
    });
    it('not XML at all', () => throwsTopology(() => parseCapabilities('error: failed to connect'), /not well-formed/));
    it('another document', () => throwsTopology(() => parseCapabilities('<domain><name>x</name></domain>'), /root element is <domain>/));
    it('a non-numeric cell id', () => throwsTopology(() => parseCapabilities(caps([{ id: 'a', cpus: cpus(cpu(0)) }])), /<cell id> "a" is not a non-negative integer/));
    it('a non-numeric CPU id', () => throwsTopology(() => parseCapabilities(caps([{ id: 0, cpus: cpus(cpu('x1')) }])), /cell 0: <cpu id> "x1"/));
    it('a CPU in two cells', () => throwsTopology(() => parseCapabilities(caps([
      { id: 0, distances: null, cpus: cpus(cpu(0), cpu(1)) }, { id: 1, distances: null, cpus: cpus(cpu(1, 1)) },
    ])), /CPU 1 is in cell 0 and cell 1/));
    it('a distance row that does not match the node list', () => throwsTopology(
      () => parseCapabilities(caps(twoCells({ 0: 10, 2: 20 }))), /cell 0 has distances to nodes 0,2 but the host has nodes 0,1/));
    it('a short (non-square) distance row', () => throwsTopology(
      () => parseCapabilities(caps(twoCells({ 0: 10 }))), /cell 0 has distances to nodes 0 but the host has nodes 0,1/));
    it('distances for some cells only', () => throwsTopology(
      () => parseCapabilities(caps(twoCells({ 0: 10, 1: 20 }, null))), /cells 1 have no <distances> while others do/));
    it('a <cpus num> that does not match the list', () => throwsTopology(
      () => parseCapabilities(caps([{ id: 0, cpus: `<cpus num='3'>${cpu(0)}${cpu(1)}</cpus>` }])), /cell 0 says <cpus num='3'> but lists 2 CPUs/));
    it('a <cells num> that does not match the list', () => throwsTopology(() => parseCapabilities(caps(twoCells(), 3)), /<cells num='3'> but lists 2 cells/));
    it('siblings that leave the CPU out', () => throwsTopology(
      () => parseCapabilities(caps([{ id: 0, cpus: cpus(cpu(0, 0, 0, '1')) }])), /CPU 0 has siblings "1", which do not include CPU 0/));
    it('freecell naming a node capabilities lacks', () => throwsTopology(
      () => parseCapabilities(caps(twoCells()), { free: parseFreecell('    0: 1 KiB\n    7: 1 KiB\nTotal: 2 KiB\n') }), /freecell lists node 7, which capabilities does not have/));
  });
});

describe('parseFreecell', () => {
  it('reads per-node free KiB', () => {
    const f = parseFreecell('    0:   60123456 KiB\n    1:   98765432 KiB\n--------------------\nTotal:  158888888 KiB\n\n');
    expect([...f.perNodeKiB]).to.deep.equal([[0, 60123456], [1, 98765432]]);
    expect(f.totalKiB).to.equal(158888888);
  });
  it('rejects plain `virsh freecell` (total only)', () => throwsTopology(() => parseFreecell('Total: 3822928 KiB\n'), /no per-node lines \(run "virsh freecell --all"/));
  it('rejects a total that is not the sum', () => throwsTopology(() => parseFreecell('    0: 10 KiB\n    1: 10 KiB\nTotal: 30 KiB\n'), /Total 30 KiB is not the sum of its nodes \(20 KiB\)/));
  it('reads concatenated `freecell --cellno N` outputs (no Total line)', () => {
    expect([...parseFreecell('0: 3420676 KiB\n\n1: 1024 KiB\n').perNodeKiB]).to.deep.equal([[0, 3420676], [1, 1024]]);
  });
  it('rejects a cut-short output', () => throwsTopology(() => parseFreecell('    0: 10 KiB\n    1: 1'), /freecell line 2 "    1: 1" is not "NODE: AMOUNT KiB"/));
  it('rejects a node listed twice', () => throwsTopology(() => parseFreecell('0: 1 KiB\n0: 1 KiB\n'), /lists node 0 twice/));
  it('rejects a non-numeric node id', () => throwsTopology(() => parseFreecell('   x0: 10 KiB\nTotal: 10 KiB\n'), /node id "x0"/));
  it('rejects another unit', () => throwsTopology(() => parseFreecell('    0: 10 MiB\nTotal: 10 MiB\n'), /unit "MiB", expected KiB/));
});

const NODE = 'devices/system/node';
const CPU = 'devices/system/cpu';
function tree(over: SysfsFiles = {}, omit: string[] = []): SysfsFiles {
  const files: SysfsFiles = {
    [`${NODE}/node0/cpulist`]: '0-1\n', [`${NODE}/node0/distance`]: '10 21\n',
    [`${NODE}/node0/meminfo`]: 'Node 0 MemTotal:  2097152 kB\nNode 0 MemFree:  1048576 kB\n',
    [`${NODE}/node1/cpulist`]: '2-3\n', [`${NODE}/node1/distance`]: '21 10\n',
    [`${NODE}/node1/meminfo`]: 'Node 1 MemTotal:  2097152 kB\nNode 1 MemFree:  2000000 kB\n',
    [`${CPU}/online`]: '0-3\n',
  };
  for (const id of [0, 1, 2, 3]) {
    files[`${CPU}/cpu${id}/topology/physical_package_id`] = `${id < 2 ? 0 : 1}\n`;
    files[`${CPU}/cpu${id}/topology/die_id`] = '0\n';
    files[`${CPU}/cpu${id}/topology/core_id`] = `${id % 2}\n`;
    files[`${CPU}/cpu${id}/topology/thread_siblings_list`] = `${id}\n`;
  }
  for (const k of omit) for (const f of Object.keys(files)) if (f === k || f.startsWith(`${k}/`)) delete files[f];
  return { ...files, ...over };
}

describe('parseSysfs', () => {
  it('reads nodes, memory, distances and CPU topology', () => {
    const t = parseSysfs(tree());
    expect(t.nodes.map((n) => [n.id, n.cpus, n.memoryMiB, n.freeMemoryMiB, n.distances])).to.deep.equal([
      [0, [0, 1], 2048, 1024, { 0: 10, 1: 21 }], [1, [2, 3], 2048, 1953, { 0: 21, 1: 10 }],
    ]);
    expect(t.cpus[3]).to.deep.equal({ id: 3, node: 1, socket: 1, die: 0, core: 1, siblings: [3], online: true });
    expect(t.warnings).to.deep.equal([]);
  });
  it('an offline CPU (online=0, no topology dir) is kept offline, placed by its node link', () => {
    const t = parseSysfs(tree({
      [`${NODE}/node1/cpulist`]: '2\n', [`${NODE}/node1/cpu3`]: '../../cpu/cpu3', [`${CPU}/cpu3/online`]: '0\n',
    }, [`${CPU}/online`, `${CPU}/cpu3/topology`]));
    expect(t.nodes[1].cpus).to.deep.equal([2]);
    expect(t.cpus[3]).to.deep.equal({ id: 3, node: 1, socket: -1, die: -1, core: -1, siblings: [3], online: false });
  });
  it('a CPU still in the node list but offline (as on POWER) is not a node CPU', () => {
    const t = parseSysfs(tree({ [`${CPU}/online`]: '0-2\n' }, [`${CPU}/cpu3/topology`]));
    expect(t.nodes[1].cpus).to.deep.equal([2]);
    expect(t.cpus[3]).to.include({ node: 1, online: false });
  });
  it('without distance files assumes 10/20 and says so', () => {
    const t = parseSysfs(tree({}, [`${NODE}/node0/distance`, `${NODE}/node1/distance`]));
    expect(t.nodes[0].distances).to.deep.equal({ 0: 10, 1: 20 });
    expect(t.warnings).to.include('sysfs gives no NUMA distances: assumed the kernel defaults, 10 local and 20 remote');
  });
  it('an empty cpulist is a memory-only node', () => {
    const files = tree({
      [`${NODE}/node2/cpulist`]: '\n', [`${NODE}/node2/distance`]: '14 24 10\n', [`${NODE}/node2/meminfo`]: 'Node 2 MemTotal: 1048576 kB\nNode 2 MemFree: 1048576 kB\n',
      [`${NODE}/node0/distance`]: '10 21 14\n', [`${NODE}/node1/distance`]: '21 10 24\n',
    });
    expect(parseSysfs(files).nodes[2]).to.deep.include({ cpus: [], memoryMiB: 1024 });
  });
  describe('rejects inconsistent trees, naming the file', () => {
    it('a non-square distance matrix', () => throwsTopology(() => parseSysfs(tree({ [`${NODE}/node1/distance`]: '21 10 30\n' })),
      /node1\/distance: node 1 has 3 distances but there are 2 nodes \(0,1\): the distance matrix is not square/));
    it('a CPU in two nodes', () => throwsTopology(() => parseSysfs(tree({ [`${NODE}/node1/cpulist`]: '1-3\n' })), /CPU 1 is in node 0 and node 1/));
    it('a missing cpulist', () => throwsTopology(() => parseSysfs(tree({}, [`${NODE}/node1/cpulist`])), /node1\/cpulist is missing/));
    it('a non-numeric core id', () => throwsTopology(() => parseSysfs(tree({ [`${CPU}/cpu2/topology/core_id`]: 'two\n' })), /cpu2\/topology\/core_id "two"/));
    it('a garbled cpulist', () => throwsTopology(() => parseSysfs(tree({ [`${NODE}/node0/cpulist`]: '0-x\n' })), /node0\/cpulist: invalid cpuset/));
    it('a non-numeric distance', () => throwsTopology(() => parseSysfs(tree({ [`${NODE}/node0/distance`]: '10 far\n' })), /distance "far"/));
    it('meminfo of another node', () => throwsTopology(() => parseSysfs(tree({ [`${NODE}/node1/meminfo`]: 'Node 0 MemTotal: 1 kB\n' })), /node1\/meminfo describes node 0/));
    it('an online CPU no node lists', () => throwsTopology(() => parseSysfs(tree({ [`${NODE}/node1/cpulist`]: '2\n' })), /CPU 3 is online but no/));
    it('no node directories at all', () => throwsTopology(() => parseSysfs({ [`${CPU}/online`]: '0\n' }), /not a sysfs tree/));
  });
});

describe('parseNumactl', () => {
  const full = `available: 2 nodes (0-1)
node 0 cpus: 0 2
node 0 size: 1024 MB
node 0 free: 512 MB
node 1 cpus:
node 1 size: 2048 MB
node 1 free: 2000 MB
node distances:
node   0   1
  0:  10  21
  1:  21  10
`;
  it('reads a complete output, a node without CPUs included', () => {
    const t = parseNumactl(full);
    expect(t.nodes.map((n) => [n.id, n.cpus, n.memoryMiB, n.freeMemoryMiB, n.distances])).to.deep.equal([
      [0, [0, 2], 1024, 512, { 0: 10, 1: 21 }], [1, [], 2048, 2000, { 0: 21, 1: 10 }],
    ]);
  });
  it('without a distance table assumes 10/20 and says so', () => {
    const t = parseNumactl(full.slice(0, full.indexOf('node distances:')));
    expect(t.nodes[0].distances).to.deep.equal({ 0: 10, 1: 20 });
    expect(t.warnings).to.include('numactl output gives no NUMA distances: assumed the kernel defaults, 10 local and 20 remote');
  });
  describe('rejects inconsistent output', () => {
    it('a missing distance row (non-square)', () => throwsTopology(() => parseNumactl(full.replace('  1:  21  10\n', '')), /rows for nodes 0 but the host has nodes 0,1: the distance matrix is not square/));
    it('a short distance row', () => throwsTopology(() => parseNumactl(full.replace('  1:  21  10', '  1:  21')), /node 1 has 1 distances but there are 2 nodes/));
    it('a header that does not match the nodes', () => throwsTopology(() => parseNumactl(full.replace('node   0   1', 'node   0   2')), /distance table covers nodes 0,2 but the host has nodes 0,1,2/));
    it('a non-numeric CPU', () => throwsTopology(() => parseNumactl(full.replace('0 2\n', '0 two\n')), /node 0 CPU "two"/));
    it('a CPU in two nodes', () => throwsTopology(() => parseNumactl(full.replace('node 1 cpus:', 'node 1 cpus: 2')), /CPU 2 is in node 0 and node 1/));
    it('an unrecognised line', () => throwsTopology(() => parseNumactl(`${full.slice(0, 25)}garbage here\n${full.slice(25)}`), /is not recognised/));
    it('a host without NUMA', () => throwsTopology(() => parseNumactl('No NUMA available on this system\n'), /No NUMA available/));
  });
});
