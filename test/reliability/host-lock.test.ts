/**
 * Issue 12 item 6: one numaplace per libvirt host, whatever the state directory. Real libvirt: two
 * `numaplace run` with different state dirs (the second exits 2 naming the holder), `apply` while
 * `run` holds the lock (refused), the lock gone once the holder is SIGKILLed, a stale lock file (a
 * dead pid, or an unrelated live one) no obstacle, and one-shot `apply` running crash recovery first.
 */
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireHostLock, HostLockError, hostLockPath } from '../../src/host/host-lock.js';
import { acquireLock, LOCK_FILE, LockError } from '../../src/daemon/lock.js';
import { waitFor } from '../helpers/wait.js';
import { IDLE_VM, requireLibvirt, TEST_URI } from '../integration/libvirt-available.js';
import { hardened, registerReport } from './counters.js';

registerReport();

const BIN = 'bin/numaplace.js';
const virsh = (...args: string[]) => execFileSync('virsh', ['-q', '-c', TEST_URI, ...args], { encoding: 'utf8', timeout: 60000 });

describe('reliability: one numaplace per libvirt host (flock)', function () {
  this.timeout(120_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'np-hostlock-'));
    env = { ...process.env, NUMAPLACE_LOCK_DIR: join(dir, 'locks') };
  });
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function config(name: string, extra: object = {}): string {
    const file = join(dir, `${name}.json`);
    // Advisory, every VM excluded: these tests are about the lock, not about moving the shared test VMs.
    writeFileSync(file, JSON.stringify({ mode: 'advisory', schedule: '*/2 * * * * *', exclude: { names: ['*'] }, metrics: { enabled: false }, stateDir: join(dir, name), ...extra }));
    return file;
  }
  function start(args: string[]): { child: ChildProcess; log: () => string; exit: Promise<number | null> } {
    const child = spawn(process.execPath, [BIN, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    children.push(child);
    let log = '';
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    return { child, log: () => log, exit: new Promise((r) => child.on('exit', (code) => r(code))) };
  }
  const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });

  it('unit: the lock is exclusive across processes, survives its flock child, vanishes on SIGKILL; a stale file is no obstacle', async () => {
    const locks = join(dir, 'unit-locks');
    const path = hostLockPath('test:///x', locks);
    // A stale file: an unrelated live pid (1) written in it.
    execFileSync('mkdir', ['-p', locks]);
    writeFileSync(path, 'pid 1, run, connect test:///x\n');
    const l = acquireHostLock('test:///x', 'unit', { dir: locks });
    expect(readFileSync(path, 'utf8')).to.match(new RegExp(`^pid ${process.pid}, unit`));
    // Another process cannot take it.
    const other = spawnSync('flock', ['--exclusive', '--nonblock', path, 'true']);
    expect(other.status, 'flock(1) from another process').to.equal(1);
    l.release();
    expect(spawnSync('flock', ['--exclusive', '--nonblock', path, 'true']).status).to.equal(0);
    // Held by a process that is then SIGKILLed: free again.
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `import { acquireHostLock } from '${process.cwd()}/dist/src/host/host-lock.js'; acquireHostLock('test:///x', 'child', { dir: ${JSON.stringify(locks)} }); console.log('held'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(holder);
    await new Promise((r) => holder.stdout!.once('data', r));
    expect(() => acquireHostLock('test:///x', 'unit', { dir: locks })).to.throw(HostLockError, new RegExp(`pid ${holder.pid}, child`));
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    acquireHostLock('test:///x', 'unit', { dir: locks }).release();
    // Another URI is another host.
    const a = acquireHostLock('test:///x', 'unit', { dir: locks });
    const b = acquireHostLock('test:///y', 'unit', { dir: locks });
    a.release();
    b.release();
    hardened('host-lock', 5);
  });

  it('the state-dir lock is an flock too: a lock file naming an unrelated live pid (1) is no obstacle; a live holder is', () => {
    const sd = join(dir, 'sd');
    execFileSync('mkdir', ['-p', sd]);
    writeFileSync(join(sd, LOCK_FILE), '1\n');
    const l = acquireLock(sd);
    expect(readFileSync(join(sd, LOCK_FILE), 'utf8')).to.equal(`${process.pid}\n`);
    expect(() => acquireLock(sd)).to.throw(LockError, new RegExp(`another numaplace \\(pid ${process.pid}\\)`));
    l.release();
    acquireLock(sd).release();
    hardened('host-lock', 3);
  });

  it('real libvirt: a second run (other state dir) exits 2 naming the holder; apply is refused; the lock goes with a SIGKILLed holder', async function () {
    await requireLibvirt(this, [IDLE_VM]);
    const first = start(['--connect', TEST_URI, '--config', config('a')]);
    await waitFor(() => `the first daemon to start (log:\n${first.log()})`, () => /numaplace started/.test(first.log()), 60_000);
    const second = cli(['run', '--connect', TEST_URI, '--config', config('b')]);
    expect(second.status, second.stderr).to.equal(2);
    expect(second.stderr.trim().split('\n')).to.have.length(1);
    expect(second.stderr).to.match(new RegExp(`another numaplace manages qemu:///system on this host \\(pid ${first.child.pid}, run, state directory ${join(dir, 'a')}`));
    const apply = cli(['apply', '--connect', TEST_URI, '--config', config('c')]);
    expect(apply.status, apply.stderr).to.equal(2);
    expect(apply.stderr).to.match(/^numaplace apply: another numaplace manages qemu:\/\/\/system/);
    first.child.kill('SIGKILL');
    await first.exit;
    // The lock file stays (with the dead pid in it): no obstacle.
    const third = start(['--connect', TEST_URI, '--config', config('b')]);
    await waitFor(() => `the third daemon to start (log:\n${third.log()})`, () => /numaplace started/.test(third.log()), 60_000);
    third.child.kill('SIGTERM');
    expect(await third.exit, third.log()).to.equal(0);
    hardened('host-lock', 4);
  });

  it('real libvirt: one-shot apply runs crash recovery first (a half-applied VM is put back)', async function () {
    await requireLibvirt(this, [IDLE_VM]);
    const before = /cpu_shares\s*:\s*(\d+)/.exec(virsh('schedinfo', '--live', '--', IDLE_VM))![1];
    const half = before === '1030' ? '1031' : '1030';
    const uuid = virsh('domuuid', '--', IDLE_VM).trim();
    const state = join(dir, 'd');
    execFileSync('mkdir', ['-p', state]);
    // A predecessor died after setting cpu_shares: begin + applied, no end.
    const step = { vm: IDLE_VM, kind: 'setShares', shares: Number(half) };
    const flags = { live: true, config: false };
    writeFileSync(join(state, 'journal.jsonl'), [
      { at: new Date().toISOString(), vm: IDLE_VM, uuid, begin: [{ step, flags, undo: { ...step, shares: Number(before) } }] },
      { at: new Date().toISOString(), vm: IDLE_VM, step, flags, result: 'applied' },
    ].map((e) => JSON.stringify(e)).join('\n') + '\n');
    virsh('schedinfo', '--live', '--', IDLE_VM, `cpu_shares=${half}`);
    try {
      const r = cli(['apply', '--connect', TEST_URI, '--config', config('d')]);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stderr).to.match(/interrupted apply of "numaplace-test-idle" .*: rolled-back, 1 step\(s\) undone/);
      expect(virsh('schedinfo', '--live', '--', IDLE_VM)).to.match(new RegExp(`cpu_shares\\s*:\\s*${before}\\b`));
      expect(readFileSync(join(state, 'journal.jsonl'), 'utf8')).to.match(/"end":"recovered"/);
    } finally {
      virsh('schedinfo', '--live', '--', IDLE_VM, `cpu_shares=${before}`);
    }
    hardened('host-lock', 1);
  });
});
