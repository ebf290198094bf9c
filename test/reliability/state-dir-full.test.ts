/**
 * Issue 12 item 12: a full state directory used to leave the daemon applying with no journal and
 * reporting healthy. A real `numaplace run --mode apply` (simulated host) on a 512 KiB tmpfs that
 * is then filled: nothing is applied, /healthz says unhealthy and numaplace_journal_writable is 0;
 * once space is freed, applying resumes and health returns, by itself.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executePlan } from '../../src/apply/executor.js';
import { FileJournal } from '../../src/apply/journal.js';
import { journalWriteProblem } from '../../src/apply/journal-probe.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { FakeBackend, vmSample } from '../helpers/fake-host.js';
import { freePort, waitFor } from '../helpers/wait.js';
import { hardened, registerReport } from './counters.js';

registerReport();

const BIN = 'bin/numaplace.js';

describe('reliability: state directory full (issue 12 item 12)', function () {
  this.timeout(120_000);
  let dir: string;
  let mnt: string;
  let mounted = false;
  let child: ChildProcess | null = null;

  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: mounting a tmpfs needs root');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'np-full-'));
    mnt = join(dir, 'state');
    spawnSync('mkdir', [mnt]);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'tmpfs', mnt], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cannot mount a tmpfs for the test: ${r.stderr}`);
    mounted = true;
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
    if (mounted) spawnSync('umount', [mnt]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const fill = () => spawnSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=4k'], { encoding: 'utf8' });

  it('unit: the probe says ENOSPC naming the dir; the executor changes no VM whose begin could not be written', async () => {
    fill();
    try {
      expect(journalWriteProblem(mnt)).to.match(new RegExp(`cannot write the journal in ${mnt}: the file system is full; nothing is applied`));
      const h = new FakeBackend(syntheticTopology('2x8'), [vmSample({ name: 'a' }), vmSample({ name: 'b' })]);
      const journal = new FileJournal(mnt);
      // Big enough a begin entry that it cannot fit in what a last partial block might leave.
      const steps = [...Array(64).keys()].map(() => ({ vm: 'a', kind: 'setShares' as const, shares: 4096 })).concat([{ vm: 'b', kind: 'setShares', shares: 4096 }]);
      const origWrite = process.stderr.write;
      process.stderr.write = (() => true) as typeof process.stderr.write;
      let r;
      try {
        r = await executePlan(h, steps, await h.sample(), { persistConfig: false, journal });
      } finally {
        process.stderr.write = origWrite;
      }
      expect(journal.healthy()).to.equal(false);
      expect(h.calls).to.deep.equal([]);
      expect(r.notReached).to.deep.equal(['a', 'b']);
    } finally {
      unlinkSync(join(mnt, 'filler'));
    }
    expect(journalWriteProblem(mnt)).to.equal(null);
    hardened('state-dir-full', 3);
  });

  it('real daemon: stops applying, /healthz 503 + metric while full; resumes by itself when space is freed', async () => {
    const port = await freePort();
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ mode: 'apply', schedule: '*/2 * * * * *', churn: { holdCycles: 1, cooldownCycles: 0 }, metrics: { enabled: true, port } }));
    child = spawn(process.execPath, [BIN, 'run', '--simulate', 'steady-4x16', '--config', cfg, '--state-dir', mnt], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    await waitFor(() => `the daemon to start (log:\n${log})`, () => /numaplace started/.test(log), 30_000);
    fill(); // before its first apply (the first cycle only samples)
    await waitFor(() => `applying to stop (log:\n${log})`, () => /applying stopped: the journal cannot be written/.test(log), 60_000);
    expect(log).to.not.match(/result=applied/);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).to.equal(503);
    const body = (await health.json()) as { status: string; problem: string };
    expect(body.status).to.equal('unhealthy');
    expect(body.problem).to.match(/the file system is full/);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).to.match(/^numaplace_journal_writable 0$/m);
    expect(metrics).to.match(/^numaplace_journal_unwritable_total [1-9]/m);
    // Two more cycles: still nothing applied, said once.
    const cycles = () => (log.match(/cycle done/g) ?? []).length;
    const n = cycles();
    await waitFor(() => `two more cycles (log:\n${log})`, () => cycles() >= n + 2, 30_000);
    expect(log).to.not.match(/result=applied/);
    expect(log.match(/applying stopped/g)).to.have.length(1);

    unlinkSync(join(mnt, 'filler'));
    await waitFor(() => `applying to resume (log:\n${log})`, () => /applying resumes[\s\S]*result=applied/.test(log), 60_000);
    await waitFor('healthz 200', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200, 30_000);
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).to.match(/^numaplace_journal_writable 1$/m);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child!.once('exit', r)), log).to.equal(0);
    hardened('state-dir-full', 4);
  });
});
