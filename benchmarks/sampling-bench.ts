/**
 * Cost of sampling a REAL libvirt host with the virsh backend: virsh processes per cycle and cycle
 * time with 1, 10 and 50 idle TCG VMs (128 MiB, 1 vCPU, no disk) defined and started for the run
 * (named numaplace-test-bench-NN) and torn down after. The processes per cycle must not grow with
 * the VM count (the backend batches all per-VM queries into one virsh process).
 * Needs root and libvirt (scripts/hypervisor-up.sh); without them it prints why and exits 0.
 * Prints a table; writes benchmarks/results/sampling.json. `--quick`: 1 and 10 VMs only.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBatch } from '../src/host/virsh-batch.js';
import { VirshBackend } from '../src/host/virsh-backend.js';
import { runVirsh, runVirshCapture } from '../src/host/virsh-exec.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const URI = process.env.NUMAPLACE_TEST_URI ?? 'qemu:///system';
const PREFIX = 'numaplace-test-bench-';
const CYCLES = 5;

interface Row {
  benchVms: number;
  vmsOnHost: number;
  runningVms: number;
  firstCycle: { processes: number; ms: number };
  /** Steady state: XML and capabilities cached. */
  processesPerCycle: number[];
  meanMs: number;
  maxMs: number;
}

const virsh = (...args: string[]) => runVirsh(args, { uri: URI, timeoutMs: 600_000 });

/** Several virsh commands in one process (the backend's batch mode); fails on any stderr. */
async function batch(commands: string[][]): Promise<void> {
  for (let i = 0; i < commands.length; i += 25) {
    const b = buildBatch(commands.slice(i, i + 25));
    const { stderr } = await runVirshCapture([b.script], { uri: URI, timeoutMs: 600_000 });
    if (stderr.trim()) throw new Error(`virsh batch failed: ${stderr.trim().split('\n').slice(-1)[0]}`);
  }
}

function domainXml(name: string): string {
  return `<domain type='qemu'><name>${name}</name><memory unit='MiB'>128</memory><vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <cpu mode='custom' match='exact' check='none'><model fallback='allow'>qemu64</model></cpu>
  <devices><serial type='null'/><memballoon model='none'/></devices></domain>\n`;
}

async function benchVms(): Promise<string[]> {
  return (await virsh('list', '--all', '--name')).split('\n').filter((n) => n.startsWith(PREFIX));
}

async function addVms(from: number, to: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'numaplace-bench-'));
  try {
    const names = Array.from({ length: to - from }, (_, i) => `${PREFIX}${String(from + i).padStart(2, '0')}`);
    names.forEach((n) => writeFileSync(join(dir, `${n}.xml`), domainXml(n)));
    await batch(names.map((n) => ['define', '--file', join(dir, `${n}.xml`)]));
    await batch(names.map((n) => ['start', '--domain', n]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function teardown(): Promise<void> {
  const names = await benchVms();
  if (names.length === 0) return;
  const running = new Set((await virsh('list', '--name')).split('\n'));
  await batch(names.filter((n) => running.has(n)).map((n) => ['destroy', '--domain', n]));
  await batch(names.map((n) => ['undefine', '--domain', n]));
}

async function measure(benchCount: number): Promise<Row> {
  const b = new VirshBackend({ uri: URI });
  const t0 = performance.now();
  const first = await b.sample();
  const firstMs = performance.now() - t0;
  const firstProcesses = b.stats().calls;
  const processesPerCycle: number[] = [];
  const times: number[] = [];
  let last = first;
  for (let i = 0; i < CYCLES; i++) {
    const calls = b.stats().calls;
    const t = performance.now();
    last = await b.sample();
    times.push(performance.now() - t);
    processesPerCycle.push(b.stats().calls - calls);
  }
  if (last.skipped?.length) console.error(`sampling-bench: ${last.skipped.length} VMs skipped: ${last.skipped[0].error.message}`);
  return {
    benchVms: benchCount,
    vmsOnHost: last.vms.length,
    runningVms: last.vms.filter((v) => v.running).length,
    firstCycle: { processes: firstProcesses, ms: Math.round(firstMs) },
    processesPerCycle,
    meanMs: Math.round(times.reduce((a, c) => a + c, 0) / times.length),
    maxMs: Math.round(Math.max(...times)),
  };
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write('usage: node dist/benchmarks/sampling-bench.js --libvirt [--quick]\nSampling cost of the virsh backend on real libvirt with 1, 10, 50 idle TCG VMs (--quick: 1, 10).\n--libvirt: required; the bench defines and starts its own VMs (numaplace-test-bench-NN) on ${NUMAPLACE_TEST_URI:-qemu:///system}.\n');
    return 0;
  }
  // It starts VMs on a live libvirt: never without the operator saying so.
  if (!argv.includes('--libvirt')) {
    process.stdout.write(`sampling-bench: skipped: it defines and starts its own VMs on ${URI}; pass --libvirt to run it (npm run bench -- --libvirt)\n`);
    return 0;
  }
  const counts = argv.includes('--quick') ? [1, 10] : [1, 10, 50];
  let version: string;
  try {
    version = await virsh('version');
  } catch (e) {
    process.stdout.write(`sampling-bench: skipped, libvirt at ${URI} is not reachable (${(e as Error).message.split('\n')[0]}); run scripts/hypervisor-up.sh as root\n`);
    return 0;
  }
  const rows: Row[] = [];
  let stop = false;
  const onSignal = () => { stop = true; };
  process.on('SIGINT', onSignal);
  try {
    await teardown(); // leftovers of an interrupted run
    let have = 0;
    for (const n of counts) {
      if (stop) break;
      const t = performance.now();
      await addVms(have, n);
      process.stderr.write(`sampling-bench: ${n} bench VMs up (+${n - have} in ${((performance.now() - t) / 1000).toFixed(0)} s)\n`);
      have = n;
      rows.push(await measure(n));
    }
  } finally {
    await teardown();
    process.off('SIGINT', onSignal);
  }

  const steady = rows.map((r) => Math.max(...r.processesPerCycle));
  const constant = steady.every((p) => p === steady[0]);
  process.stdout.write('bench VMs | VMs on host (running) | first cycle: procs, ms | steady: procs/cycle | mean ms | max ms\n');
  process.stdout.write('----------|-----------------------|------------------------|---------------------|---------|-------\n');
  for (const r of rows) {
    process.stdout.write(`${String(r.benchVms).padStart(9)} | ${String(`${r.vmsOnHost} (${r.runningVms})`).padStart(21)} | ${String(`${r.firstCycle.processes}, ${r.firstCycle.ms}`).padStart(22)} | ${String(Math.max(...r.processesPerCycle)).padStart(19)} | ${String(r.meanMs).padStart(7)} | ${String(r.maxMs).padStart(6)}\n`);
  }
  process.stdout.write(`virsh processes per steady cycle ${constant ? 'do not grow' : 'GROW'} with the VM count (${steady.join(', ')}).\n`);

  const out = join(ROOT, 'benchmarks', 'results', 'sampling.json');
  mkdirSync(dirname(out), { recursive: true });
  const doc = {
    benchmark: 'sampling',
    date: new Date().toISOString(),
    uri: URI,
    libvirt: /Using library: (.*)/.exec(version)?.[1] ?? null,
    hypervisor: /Running hypervisor: (.*)/.exec(version)?.[1] ?? null,
    host: { cpus: cpus().length, loadavg1: loadavg()[0] },
    cyclesPerSize: CYCLES,
    processesPerCycleConstant: constant,
    rows,
  };
  writeFileSync(`${out}.tmp`, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(`${out}.tmp`, out);
  process.stdout.write(`wrote ${out}\n`);
  return constant ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`sampling-bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
