/**
 * npm run bench:lab: one scenario on the NUMA lab (a real 4-node Linux kernel in QEMU TCG, libvirt
 * inside) under four policies side by side: nothing, automatic NUMA balancing
 * (kernel.numa_balancing=1), real numad (Debian's, run as it ships) and numaplace (run --mode apply).
 *
 * Scenario: two busy VMs (320 MiB each, RAM preallocated) whose memory sits on a remote node
 * (VM A: vCPU on node 0, memory on node 2; VM B: vCPU on node 1, memory on node 3, distance 32),
 * then left unpinned (vCPUs and emulator on all CPUs, numatune nodeset all nodes) so every policy
 * is free to act. Measured every cycle (CYCLE_S seconds) from kernel facts only
 * (scripts/numa-lab/probe.mjs, /proc/vmstat): load-weighted locality (a vCPU thread's node = the
 * node of the CPU it last ran on, weighted by its CPU time in the cycle; locality = share of the
 * VM's anonymous pages on that node), the quality measure (load-weighted distance, 10 = all
 * local), MiB migrated (pgmigrate_success), pin changes (thread affinity changes of QEMU
 * threads), and time to converge (first cycle from which locality stays >= 95 %).
 * Writes benchmarks/results/lab.json and lab.svg, prints a Markdown table.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as echarts from 'echarts';
import { NumaLab, REPO_ROOT } from '../../test/lab/numa-lab.js';
import { startVm, destroyAll, probe, vcpuThreads, cpuNode, NUMAPLACE, type Probe } from '../../test/lab/lab-host.js';

const CYCLE_S = Number(process.env.LAB_BENCH_CYCLE_S ?? 30);
const CYCLES = Number(process.env.LAB_BENCH_CYCLES ?? 8);
const POLICIES = (process.env.LAB_BENCH_POLICIES ?? 'nothing,autonuma,numad,numaplace').split(',');
const VMS = [
  { name: 'bench-a', cpuset: '0-1', nodeset: '2' },
  { name: 'bench-b', cpuset: '2-3', nodeset: '3' },
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CycleFigures { cycle: number; tS: number; locality: number; quality: number; migratedMiB: number; pinChanges: number; vms: Record<string, { node: number | null; local: number }> }
interface PolicyResult { policy: string; cycles: CycleFigures[]; convergedCycle: number | null; convergedS: number | null; totalMigratedMiB: number; totalPinChanges: number; finalLocality: number; note: string }

function distance(lab: NumaLab, a: number, b: number): number { return lab.topology.distances[a][b]; }

/** Figures of one cycle from two probes. */
function figures(lab: NumaLab, prev: Probe, cur: Probe): { locality: number; quality: number; pinChanges: number; vms: CycleFigures['vms'] } {
  const cn = cpuNode(cur);
  let load = 0, localLoad = 0, cost = 0, pinChanges = 0;
  const vms: CycleFigures['vms'] = {};
  for (const v of cur.vms) {
    const p = prev.vms.find((x) => x.vm === v.vm && x.pid === v.pid);
    const pages = v.anonPagesByNode;
    const total = Object.values(pages).reduce((a, b) => a + b, 0) || 1;
    for (const t of v.threads) {
      const pt = p?.threads.find((x) => x.tid === t.tid);
      if (pt && pt.allowed.join(',') !== t.allowed.join(',')) pinChanges++;
    }
    let vLoad = 0, vLocal = 0;
    let node: number | null = null;
    for (const t of vcpuThreads(v).values()) {
      const pt = p?.threads.find((x) => x.tid === t.tid);
      const l = Math.max(pt ? t.ticks - pt.ticks : 0, 0.001);
      const n = cn.get(t.lastCpu)!;
      node = n;
      const local = (pages[String(n)] ?? 0) / total;
      vLoad += l; vLocal += l * local;
      cost += l * Object.entries(pages).reduce((s, [j, c]) => s + (c / total) * distance(lab, n, Number(j)), 0);
    }
    load += vLoad; localLoad += vLocal;
    vms[v.vm] = { node, local: vLoad ? vLocal / vLoad : 0 };
  }
  return { locality: load ? localLoad / load : 0, quality: load ? cost / load : 0, pinChanges, vms };
}

async function vmstatMigrated(lab: NumaLab): Promise<number> {
  const m = /pgmigrate_success (\d+)/.exec(await lab.run(['cat', '/proc/vmstat']));
  return Number(m?.[1] ?? 0);
}

async function reset(lab: NumaLab): Promise<void> {
  await lab.exec(['sh', '-c', 'sysctl -qw kernel.numa_balancing=0; [ -s /var/run/numad.pid ] && kill "$(cat /var/run/numad.pid)"; rm -f /var/run/numad.pid; rm -rf /tmp/np-bench; true']);
  await destroyAll(lab);
  for (const v of VMS) await startVm(lab, { name: v.name, vcpus: 1, memMiB: 320, busy: true, nodeset: v.nodeset, cpuset: v.cpuset });
  // Free every policy to act: vCPUs and emulator on all CPUs, memory allowed on all nodes (pages stay where they are).
  for (const v of VMS) {
    await lab.run(['virsh', '-q', '-c', 'qemu:///system', 'vcpupin', v.name, '0', '0-7', '--live'], { timeoutMs: 300_000 });
    await lab.run(['virsh', '-q', '-c', 'qemu:///system', 'emulatorpin', v.name, '0-7', '--live'], { timeoutMs: 300_000 });
    await lab.run(['virsh', '-q', '-c', 'qemu:///system', 'numatune', v.name, '--nodeset', '0-3', '--live'], { timeoutMs: 300_000 });
  }
}

async function runPolicy(lab: NumaLab, policy: string): Promise<PolicyResult> {
  process.stderr.write(`bench:lab: ${policy}: resetting VMs\n`);
  await reset(lab);
  let daemon: Promise<unknown> | null = null;
  let note = '';
  if (policy === 'autonuma') await lab.run(['sysctl', '-qw', 'kernel.numa_balancing=1']);
  if (policy === 'numad') {
    await lab.run(['numad']);   // as Debian ships it: defaults (interval 5..15 s, 300 MB / half-a-CPU significance threshold)
    note = 'numad defaults';
  }
  if (policy === 'numaplace') {
    const cfg = lab.putFile('bench-numaplace.json', JSON.stringify({
      mode: 'apply', schedule: `*/${CYCLE_S} * * * * *`, virsh: { timeoutMs: 300_000 }, metrics: { enabled: false }, log: { format: 'json' },
    }));
    daemon = lab.exec(['timeout', '-s', 'TERM', String(CYCLE_S * CYCLES + 30), 'node', NUMAPLACE, 'run', '--config', cfg, '--state-dir', '/tmp/np-bench'],
      { timeoutMs: (CYCLE_S * CYCLES + 120) * 1000 });
  }
  const t0 = Date.now();
  let prev = await probe(lab);
  let mig = await vmstatMigrated(lab);
  const cycles: CycleFigures[] = [];
  const f0 = figures(lab, prev, prev);
  cycles.push({ cycle: 0, tS: 0, locality: f0.locality, quality: f0.quality, migratedMiB: 0, pinChanges: 0, vms: f0.vms });
  for (let c = 1; c <= CYCLES; c++) {
    const wait = t0 + c * CYCLE_S * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    const cur = await probe(lab);
    const m = await vmstatMigrated(lab);
    const f = figures(lab, prev, cur);
    cycles.push({ cycle: c, tS: (Date.now() - t0) / 1000, locality: f.locality, quality: f.quality, migratedMiB: ((m - mig) * 4) / 1024, pinChanges: f.pinChanges, vms: f.vms });
    process.stderr.write(`bench:lab: ${policy}: cycle ${c}: locality ${(f.locality * 100).toFixed(1)} %, quality ${f.quality.toFixed(2)}, migrated ${(((m - mig) * 4) / 1024).toFixed(0)} MiB, pin changes ${f.pinChanges}\n`);
    prev = cur; mig = m;
  }
  if (daemon) {
    const r = (await daemon) as { stdout: string; stderr: string };
    const done = (r.stdout + r.stderr).split('\n').filter((l) => l.includes('"cycle done"')).length;
    note = `${done} daemon cycles done`;
  }
  await lab.exec(['sh', '-c', 'sysctl -qw kernel.numa_balancing=0; [ -s /var/run/numad.pid ] && kill "$(cat /var/run/numad.pid)"; true']);
  let conv: number | null = null;
  for (let i = cycles.length - 1; i >= 0 && cycles[i].locality >= 0.95; i--) conv = i;
  return {
    policy, cycles, convergedCycle: conv, convergedS: conv === null ? null : cycles[conv].tS,
    totalMigratedMiB: cycles.reduce((s, c) => s + c.migratedMiB, 0), totalPinChanges: cycles.reduce((s, c) => s + c.pinChanges, 0),
    finalLocality: cycles[cycles.length - 1].locality, note,
  };
}

function chart(results: PolicyResult[]): string {
  const c = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 900, height: 520 });
  c.setOption({
    animation: false, backgroundColor: '#ffffff', color: ['#7f7f7f', '#ff7f0e', '#8c564b', '#1f77b4'],
    title: [{ text: 'NUMA lab (real 4-node kernel): load-weighted locality per cycle', left: 'center', top: 4, textStyle: { fontSize: 15 } },
      { text: 'quality measure (load-weighted distance, 10 = all local)', left: 60, top: 270, textStyle: { fontSize: 12, fontWeight: 'normal' } }],
    legend: { top: 494, data: results.map((r) => r.policy) },
    grid: [{ left: 60, right: 30, top: 40, height: 200 }, { left: 60, right: 30, top: 290, height: 160 }],
    xAxis: [{ type: 'value', gridIndex: 0, min: 0, max: CYCLES, axisLabel: { show: false } },
      { type: 'value', gridIndex: 1, min: 0, max: CYCLES, name: `cycle (${CYCLE_S} s)`, nameLocation: 'middle', nameGap: 24 }],
    yAxis: [{ type: 'value', gridIndex: 0, min: 0, max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` } },
      { type: 'value', gridIndex: 1, min: 10, max: 32 }],
    series: results.flatMap((r) => [
      { name: r.policy, type: 'line', xAxisIndex: 0, yAxisIndex: 0, data: r.cycles.map((x) => [x.cycle, Math.round(x.locality * 1000) / 1000]), lineStyle: { width: r.policy === 'numaplace' ? 3 : 1.6 } },
      { name: r.policy, type: 'line', xAxisIndex: 1, yAxisIndex: 1, data: r.cycles.map((x) => [x.cycle, Math.round(x.quality * 100) / 100]), lineStyle: { width: r.policy === 'numaplace' ? 3 : 1.6 } },
    ]),
  });
  const svg = c.renderToSVGString();
  c.dispose();
  return svg;
}

export function table(results: PolicyResult[]): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const lines = [
    `| policy | locality at start | locality after 3 cycles | final locality | final quality | converged (>= 95 %) | MiB migrated | pin changes |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const c3 = r.cycles[Math.min(3, r.cycles.length - 1)];
    const last = r.cycles[r.cycles.length - 1];
    lines.push(`| ${r.policy} | ${pct(r.cycles[0].locality)} | ${pct(c3.locality)} | ${pct(r.finalLocality)} | ${last.quality.toFixed(2)} | ${r.convergedCycle === null ? 'no' : `cycle ${r.convergedCycle} (${r.convergedS!.toFixed(0)} s)`} | ${r.totalMigratedMiB.toFixed(0)} | ${r.totalPinChanges} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const lab = await NumaLab.start('bench');
  process.stderr.write(`bench:lab: lab ready in ${lab.timings.readyS.toFixed(0)} s\n`);
  const results: PolicyResult[] = [];
  try {
    for (const p of POLICIES) results.push(await runPolicy(lab, p));
  } finally {
    await lab.stop();
  }
  const out = join(REPO_ROOT, 'benchmarks', 'results');
  mkdirSync(out, { recursive: true });
  const doc = {
    what: 'one scenario on the NUMA lab (real 4-node Linux 6.1 kernel in QEMU TCG, libvirt 9.0 inside) under four policies; kernel facts only',
    topology: lab.topology, cycleS: CYCLE_S, cycles: CYCLES, vms: VMS.map((v) => ({ ...v, memMiB: 320, busyVcpus: 1 })),
    goal: 'numaplace >= 95 % locality within 3 cycles, ahead of numad and automatic balancing on locality and convergence time, with no more memory migrated',
    wallS: (Date.now() - t0) / 1000, results,
  };
  writeFileSync(join(out, 'lab.json'), `${JSON.stringify(doc, null, 1)}\n`);
  writeFileSync(join(out, 'lab.svg'), chart(results));
  process.stdout.write(`${table(results)}\n\nwrote benchmarks/results/lab.json and lab.svg in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}

main().catch((e: unknown) => { process.stderr.write(`bench:lab failed: ${(e as Error).message}\n`); process.exit(1); });
