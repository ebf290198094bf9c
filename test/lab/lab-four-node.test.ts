/**
 * numaplace on a real 4-node Linux kernel (the NUMA lab: 4 nodes x 2 CPUs, distances 16/32), checked
 * from kernel facts only: /proc/PID/numa_maps and the vCPU threads' affinity, read by
 * scripts/numa-lab/probe.mjs, never through numaplace. One boot for the whole file.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NumaLab } from './numa-lab.js';
import { requireLab, note } from './lab-guard.js';
import { LAB_CONFIG as CONFIG, vmOf, NUMAPLACE, startVm, probe, numaplace, vcpuThreads, threadNodes, vcpuNode, fractionOn, sum } from './lab-host.js';

describe('NUMA lab: a real 4-node kernel (4 x 2 CPUs, distances 16/32)', function () {
  this.timeout(30 * 60_000);
  let lab: NumaLab | undefined;
  let cfg = '';

  before(async function () {
    requireLab(this);
    const t = Date.now();
    lab = await NumaLab.start('four-node');
    note(`four-node lab ready in ${lab.timings.readyS.toFixed(0)} s (guest uptime: root ${lab.timings.rootAtUptimeS} s, libvirtd ${lab.timings.libvirtdAtUptimeS} s)`);
    cfg = lab.putFile('numaplace.json', JSON.stringify(CONFIG));
    // Three VMs crowded on node 0 (CPUs 0-1, memory preallocated there): one busy, one idle, one with two guest NUMA cells.
    // Small (64-96 MiB): moving memory under nested TCG took 24-95 s per 128 MiB VM, most of the lab's time.
    const starts = [
      await startVm(lab, { name: 'lab-busy', vcpus: 1, memMiB: 64, busy: true, nodeset: '0', cpuset: '0-1' }),
      await startVm(lab, { name: 'lab-idle', vcpus: 1, memMiB: 64, nodeset: '0', cpuset: '0-1' }),
      await startVm(lab, {
        name: 'lab-cells', vcpus: 2, memMiB: 96, nodeset: '0', cpuset: '0-1', busy: true,
        cells: [{ cpus: '0', memMiB: 40, nodeset: '0' }, { cpus: '1', memMiB: 56, nodeset: '0' }],
      }),
    ];
    note(`inner VMs started in ${starts.map((s) => s.toFixed(0)).join(', ')} s; set-up ${((Date.now() - t) / 1000).toFixed(0)} s`);
  });

  after(async function () {
    if (!lab) return;
    const t = Date.now();
    await lab.stop();
    note(`powered off in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  });

  it('numaplace topology --connect equals the lab kernel\'s sysfs (CPUs, distances)', async function () {
    const r = await numaplace(lab!, ['topology', '--connect', 'qemu:///system', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const topo = JSON.parse(r.stdout) as { nodes: { id: number; cpus: number[]; distances: Record<string, number> }[] };
    const sysfs = await lab!.run(['sh', '-c', 'for n in /sys/devices/system/node/node[0-9]*; do echo "${n##*node} $(cat $n/cpulist) $(cat $n/distance)"; done']);
    const rows = sysfs.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(topo.nodes.map((n) => n.id)).to.deep.equal(rows.map((r) => Number(r[0])));
    for (const [i, row] of rows.entries()) {
      const n = topo.nodes[i];
      const [a, b] = row[1].split('-').map(Number);
      expect(n.cpus, `node ${row[0]} cpus`).to.deep.equal(Array.from({ length: (b ?? a) - a + 1 }, (_, k) => a + k));
      expect(rows.map((r) => n.distances[r[0]]), `node ${row[0]} distances`).to.deep.equal(row.slice(2).map(Number));
    }
    expect(topo.nodes[0].distances).to.deep.equal({ 0: 10, 1: 16, 2: 32, 3: 32 });
  });

  it('apply moves the VMs off node 0 (CPUs 0-1 reserved) and their memory after them; a second plan is empty', async function () {
    const before = await probe(lab!);
    for (const v of ['lab-busy', 'lab-idle', 'lab-cells']) expect(fractionOn(vmOf(before, v).anonPagesByNode, 0), `${v} starts on node 0`).to.be.greaterThan(0.95);
    const r = await numaplace(lab!, ['apply', '--connect', 'qemu:///system', '--reserved-cpus', '0-1', '--config', cfg, '--json']);
    note(`numaplace apply: ${(r.ms / 1000).toFixed(0)} s`);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as { applied: unknown[]; failed: unknown[] };
    expect(out.failed, JSON.stringify(out.failed)).to.deep.equal([]);
    const after = await probe(lab!);
    for (const name of ['lab-busy', 'lab-idle', 'lab-cells']) {
      const v = vmOf(after, name);
      const node = vcpuNode(after, v);
      const frac = fractionOn(v.anonPagesByNode, node);
      note(`${name}: vCPUs on node ${node}, ${(frac * 100).toFixed(1)} % of ${sum(v.anonPagesByNode)} anonymous pages there (all pages incl. shared file pages: ${(fractionOn(v.pagesByNode, node) * 100).toFixed(1)} %)`);
      expect(node, `${name}: vCPU threads confined to one node`).to.not.equal(null);
      expect(node, `${name}: off the reserved node`).to.not.equal(0);
      for (const t of vcpuThreads(v).values()) expect(t.allowed.some((c) => c <= 1), `${name} ${t.comm} on reserved CPU`).to.equal(false);
      expect(frac, `${name}: anonymous pages on its vCPUs' node ${node}`).to.be.at.least(0.95);
    }
    const again = await numaplace(lab!, ['plan', '--connect', 'qemu:///system', '--reserved-cpus', '0-1', '--config', cfg, '--json']);
    expect(again.code, again.stderr).to.equal(0);
    expect((JSON.parse(again.stdout) as { steps: unknown[] }).steps).to.deep.equal([]);
  });

  it('a VM with two guest NUMA cells: each cell\'s vCPUs and memory on one host node', async function () {
    const p = await probe(lab!, ['lab-cells']);
    const v = vmOf(p, 'lab-cells');
    const threads = vcpuThreads(v);
    // Cell memory: one RAM block per cell (40 and 56 MiB: sizes no other QEMU mapping has), found by size in /proc/PID/maps.
    const cells = [{ vcpu: 0, KiB: 40 * 1024 }, { vcpu: 1, KiB: 56 * 1024 }];
    const nodes: number[] = [];
    for (const [i, c] of cells.entries()) {
      const t = threads.get(c.vcpu)!;
      const tn = [...threadNodes(p, t)];
      const vma = v.vmas.find((x) => x.sizeKiB === c.KiB);
      expect(vma, `cell ${i} RAM block of ${c.KiB} KiB`).to.not.equal(undefined);
      expect(tn, `cell ${i} vCPU nodes`).to.have.length(1);
      const frac = fractionOn(vma!.pagesByNode, tn[0]);
      note(`lab-cells cell ${i}: vCPU ${c.vcpu} on node ${tn[0]}, ${(frac * 100).toFixed(1)} % of its RAM block there`);
      expect(frac).to.be.at.least(0.95);
      nodes.push(tn[0]);
    }
    note(`lab-cells cells on host nodes ${nodes.join(', ')} (${nodes[0] === nodes[1] ? 'the same node: the VM fits one node' : 'different nodes'})`);
  });

  it('numaplace run --mode apply converges within 3 cycles after load moves', async function () {
    // Load moves: a new busy VM appears with its vCPU on node 2 and its memory on node 3 (remote).
    await startVm(lab!, { name: 'lab-late', vcpus: 1, memMiB: 64, busy: true, nodeset: '3', cpuset: '4-5' });
    const runCfg = lab!.putFile('run.json', JSON.stringify({ ...CONFIG, mode: 'apply', schedule: '*/20 * * * * *', log: { format: 'json' }, reservedCpus: '0-1' }));
    const t = Date.now();
    // The daemon logs into the I/O export (read here as it goes); it is stopped with SIGTERM (finishes its cycle, exits 0).
    const daemon = lab!.exec(['sh', '-c', `echo $$ >/tmp/np-run.pid; exec node ${NUMAPLACE} run --config ${runCfg} --state-dir /tmp/np-run >/lab/io/run.log 2>&1`], { timeoutMs: 40 * 60_000 });
    const cyclesDone = () => {
      try {
        return readFileSync(join(lab!.ioDir, 'run.log'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'cycle done');
      } catch { return []; }
    };
    // Until 3 full cycles (the first cycle only samples, loads need two samples) or 25 minutes.
    while (cyclesDone().length < 3 && Date.now() - t < 25 * 60_000) await new Promise((r) => setTimeout(r, 5000));
    await lab!.exec(['sh', '-c', 'kill -TERM "$(cat /tmp/np-run.pid)"']);
    await daemon;
    const cycles = cyclesDone();
    note(`run: ${cycles.length} full cycles in ${((Date.now() - t) / 1000).toFixed(0)} s: ${cycles.map((c) => `steps ${String(c.steps)} applied ${String(c.applied)} now ${String(c.now)}`).join('; ')}`);
    const p = await probe(lab!);
    for (const v of p.vms) {
      const node = vcpuNode(p, v);
      note(`after run: ${v.vm}: node ${node}, ${(fractionOn(v.anonPagesByNode, node) * 100).toFixed(1)} % local`);
      expect(fractionOn(v.anonPagesByNode, node), `${v.vm} local after ${cycles.length} cycles`).to.be.at.least(0.95);
    }
    // Converged by kernel facts (above) within 3 full cycles; the first cycle corrects violations at once,
    // the late VM's move waits churn.holdCycles (3) and is applied in cycle 3 (seen: 14, 0, 1 steps).
    // A 4th cycle may have begun before SIGTERM (the daemon then finishes it): converged means it had
    // nothing left to do.
    expect(cycles.length, 'full cycles run').to.be.at.least(3);
    const lastActive = cycles.reduce((last, c, i) => (Number(c.steps) > 0 ? i + 1 : last), 0);
    expect(lastActive, 'last cycle that changed anything').to.be.at.most(3);
    expect(cycles.every((c) => c.failed === 0), 'no failed step').to.equal(true);
  });
});
