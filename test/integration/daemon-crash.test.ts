/**
 * `numaplace run` killed with SIGKILL in the middle of applying, on a real QEMU VM, then started
 * again: the VM it left half-applied goes back to its old settings before anything else, the log
 * and metrics say so, and the stale lock does not stop the restart. The kill point is exact: a
 * `virsh` first in the daemon's PATH (test/helpers/virsh-hold.ts) lets the first vcpupin take
 * effect and then never returns, and the daemon is killed while it waits.
 */
import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armVirshHold, installVirshHold } from '../helpers/virsh-hold.js';
import { freePort, waitFor } from '../helpers/wait.js';
import { counters, registerReport } from '../reliability/counters.js';
import { IDLE_VM, requireLibvirt, TEST_URI } from './libvirt-available.js';

registerReport();

const BIN = 'bin/numaplace.js';
const virsh = (...args: string[]) => execFileSync('virsh', ['-q', '-c', TEST_URI, ...args], { encoding: 'utf8', timeout: 60000 });


/** Kernel affinity of the VM's vCPU threads (by vCPU) and of its other threads, as "0-1" texts. */
function affinity(vm: string): { vcpus: Record<number, string>; emulator: string[] } {
  const pid = readFileSync(`/run/libvirt/qemu/${vm}.pid`, 'utf8').trim();
  const vcpus: Record<number, string> = {};
  const emulator: string[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    const cpus = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1];
    const m = /^CPU (\d+)\/TCG$/.exec(comm);
    if (m) vcpus[Number(m[1])] = cpus;
    else emulator.push(cpus);
  }
  return { vcpus, emulator };
}


function daemon(args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; log: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, log: () => log, exit };
}

describe('reliability: numaplace run killed (SIGKILL) mid-apply on a real VM, then restarted', function () {
  this.timeout(180_000);
  let dir: string;
  let saved: { pins: string[]; emulator: string } | null = null;

  before(async function () {
    await requireLibvirt(this, [IDLE_VM]);
    dir = mkdtempSync(join(tmpdir(), 'np-crash-'));
  });

  after(() => {
    if (saved) {
      saved.pins.forEach((p, i) => virsh('vcpupin', '--live', '--', IDLE_VM, String(i), p));
      virsh('emulatorpin', '--live', '--', IDLE_VM, saved.emulator);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the half-applied VM is rolled back first thing on restart; the log and metrics say so', async () => {
    const pins = virsh('vcpupin', '--live', '--', IDLE_VM).trim().split('\n').map((l) => l.trim().split(/\s+/)[1]);
    saved = { pins, emulator: virsh('emulatorpin', '--live', '--', IDLE_VM).trim().split(/\s+/).pop()! };
    const host = JSON.parse(execFileSync(process.execPath, [BIN, 'topology', '--connect', TEST_URI, '--json'], { encoding: 'utf8' })) as { nodes: { cpus: number[] }[] };
    const cpus = host.nodes.flatMap((n) => n.cpus).sort((a, b) => a - b);
    expect(cpus.length, 'the test needs 2 host CPUs or more').to.be.greaterThan(1);
    const others = virsh('list', '--all', '--name').split('\n').map((l) => l.trim()).filter((n) => n && n !== IDLE_VM);
    const port = await freePort();
    const config = (mode: string) => {
      const file = join(dir, `${mode}.json`);
      writeFileSync(file, JSON.stringify({
        mode, schedule: '* * * * * *', reservedCpus: String(cpus[0]),
        exclude: { names: [...others, 'numaplace-test-*-*'] },
        foreign: { manage: true }, // the shared test VM's definition has pins/numatune numaplace did not write
        churn: { holdCycles: 1 }, metrics: { enabled: true, port }, virsh: { timeoutMs: 60000 },
      }));
      return file;
    };
    const state = join(dir, 'state');
    const hold = join(dir, 'hold');
    // On the reserved CPU: a violation the daemon corrects in its first cycle, whatever else fits.
    virsh('vcpupin', '--live', '--', IDLE_VM, '0', String(cpus[0]));
    virsh('emulatorpin', '--live', '--', IDLE_VM, String(cpus[0]));
    const before = affinity(IDLE_VM);

    // 1. Killed while its first vcpupin (taken effect) has not returned.
    armVirshHold(hold);
    const first = daemon(['--connect', TEST_URI, '--config', config('apply'), '--state-dir', state], installVirshHold(dir, { on: `vcpupin .*--cpulist`, file: hold }));
    try {
      await waitFor(() => `the daemon's first action (log so far:\n${first.log()})`, () => existsSync(hold), 120_000);
    } finally {
      first.child.kill('SIGKILL');
    }
    await first.exit;
    const holder = Number(readFileSync(hold, 'utf8'));
    process.kill(holder, 'SIGKILL'); // the virsh it left behind
    counters.faultsInjected++;
    const half = affinity(IDLE_VM);
    const changed = Object.keys(half.vcpus).filter((v) => half.vcpus[Number(v)] !== before.vcpus[Number(v)]);
    expect(changed, 'exactly one vCPU moved before the kill').to.have.length(1);
    expect(readFileSync(join(state, 'journal.jsonl'), 'utf8')).to.match(/"begin":/).and.not.match(/"end":/);

    // 2. Started again (advisory, so nothing new is applied): the VM is put back first.
    const second = daemon(['--connect', TEST_URI, '--config', config('advisory'), '--state-dir', state]);
    try {
      await waitFor(() => `the rollback (log so far:\n${second.log()})`, () => /interrupted apply rolled back/.test(second.log()), 120_000);
      expect(second.log()).to.match(/stopped in the middle of applying/);
      expect(affinity(IDLE_VM).vcpus).to.deep.equal(before.vcpus);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).to.match(/^numaplace_interrupted_applies_total\{result="rolled-back"\} 1$/m);
      const journal = readFileSync(join(state, 'journal.jsonl'), 'utf8');
      expect(journal).to.match(/"result":"rolled-back"/).and.match(/"end":"recovered"/);
    } finally {
      second.child.kill('SIGTERM');
    }
    expect(await second.exit, second.log()).to.equal(0);
    counters.faultsSurvived++;
    counters.perFault['daemon SIGKILL mid-apply (real VM)'] = 'rolled back on restart';
  });
});
