/**
 * numaplace on a real kernel with 2 CPU nodes of different sizes and a memory-only (CXL-like) node:
 * node 0 = 3 CPUs / 640 MiB, node 1 = 1 CPU / 384 MiB, node 2 = no CPUs / 1024 MiB; 0-1 far apart
 * (32), the memory-only node 20 from both. Kernel facts only (scripts/numa-lab/probe.mjs). One boot.
 */
import { expect } from 'chai';
import { NumaLab } from './numa-lab.js';
import { requireLab, note } from './lab-guard.js';
import { LAB_CONFIG as CONFIG, vmOf, startVm, probe, numaplace, vcpuNode, fractionOn, sum } from './lab-host.js';

describe('NUMA lab: 2 CPU nodes of different sizes + a memory-only node', function () {
  this.timeout(30 * 60_000);
  let lab: NumaLab | undefined;
  let cfg = '';

  before(async function () {
    requireLab(this);
    lab = await NumaLab.start('memory-only');
    note(`memory-only lab ready in ${lab.timings.readyS.toFixed(0)} s (guest uptime: root ${lab.timings.rootAtUptimeS} s, libvirtd ${lab.timings.libvirtdAtUptimeS} s)`);
    cfg = lab.putFile('numaplace.json', JSON.stringify(CONFIG));
  });

  after(async function () {
    if (lab) await lab.stop();
  });

  it('numaplace topology --connect equals sysfs: node sizes, distances, node 2 memory-only', async function () {
    const r = await numaplace(lab!, ['topology', '--connect', 'qemu:///system', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const topo = JSON.parse(r.stdout) as { nodes: { id: number; cpus: number[]; memoryMiB: number; distances: Record<string, number> }[] };
    const sysfs = (await lab!.run(['sh', '-c', 'for n in /sys/devices/system/node/node[0-9]*; do echo "${n##*node} cpus=$(cat $n/cpulist) $(cat $n/distance) $(grep MemTotal $n/meminfo | awk \'{print $4}\')"; done'])).trim().split('\n');
    note(`sysfs: ${sysfs.join(' | ')}`);
    expect(topo.nodes.map((n) => n.cpus)).to.deep.equal([[0, 1, 2], [3], []]);
    for (const line of sysfs) {
      const f = line.trim().split(/\s+/);
      const n = topo.nodes.find((x) => x.id === Number(f[0]))!;
      expect([0, 1, 2].map((j) => n.distances[String(j)]), `node ${f[0]} distances`).to.deep.equal(f.slice(2, 5).map(Number));
      expect(Math.abs(n.memoryMiB - Number(f[5]) / 1024), `node ${f[0]} MiB`).to.be.below(2);
    }
    expect(topo.nodes[2].memoryMiB).to.be.greaterThan(topo.nodes[1].memoryMiB);
  });

  it('spills memory to the memory-only node only when it must (CPUs 0-2 reserved: only node 1\'s CPU left)', async function () {
    // small: 128 MiB, fits node 1 -> must end all on node 1. big: 448 MiB, cannot fit node 1 (384 MiB) -> may spill to node 2.
    await startVm(lab!, { name: 'lab-small', vcpus: 1, memMiB: 128, busy: true, nodeset: '2', cpuset: '3' });
    await startVm(lab!, { name: 'lab-big', vcpus: 1, memMiB: 448, nodeset: '2', cpuset: '3' });
    const r = await numaplace(lab!, ['apply', '--connect', 'qemu:///system', '--reserved-cpus', '0-2', '--config', cfg, '--json']);
    note(`apply: ${(r.ms / 1000).toFixed(0)} s: ${r.stdout.replace(/\s+/g, ' ').slice(0, 600)}`);
    expect(r.code, r.stderr).to.equal(0);
    const p = await probe(lab!);
    const small = vmOf(p, 'lab-small');
    const big = vmOf(p, 'lab-big');
    note(`lab-small pages by node ${JSON.stringify(small.anonPagesByNode)}, lab-big ${JSON.stringify(big.anonPagesByNode)}`);
    expect(vcpuNode(p, small)).to.equal(1);
    expect(fractionOn(small.anonPagesByNode, 1), 'lab-small fits node 1: none of it left on the memory-only node').to.be.at.least(0.95);
    expect(vcpuNode(p, big)).to.equal(1);
    // big cannot fit node 1: some of it stays on the memory-only node, and only what does not fit.
    const onMemOnly = (big.anonPagesByNode['2'] ?? 0) * 4 / 1024;
    note(`lab-big: ${onMemOnly.toFixed(0)} MiB of ${(sum(big.anonPagesByNode) * 4 / 1024).toFixed(0)} MiB on the memory-only node`);
    expect(onMemOnly).to.be.greaterThan(0);
  });
});
