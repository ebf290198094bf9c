/**
 * The daemon survives libvirt going away mid-run: it keeps running, reports the outage in its
 * logs and metrics (numaplace_libvirt_up 0, failed cycles), backs off, and resumes when libvirt is
 * back. Leaves the machine as it found it.
 *
 * Under CI=true (or NUMAPLACE_TEST_RESTART_LIBVIRTD=1) the outage is real: libvirtd is killed
 * (SIGKILL) while a cycle waits on its sampling virsh, and restarted with `libvirtd -d`. Elsewhere libvirtd may be shared with other work, so the daemon is
 * pointed at a socket proxy to libvirtd that the test closes and reopens: the daemon sees the same
 * "cannot connect" failure without anyone else losing libvirt.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armVirshHold, installVirshHold } from '../helpers/virsh-hold.js';
import { freePort, waitFor } from '../helpers/wait.js';
import { counters, registerReport } from '../reliability/counters.js';
import { libvirtAvailable } from './libvirt-guard.js';
import { requireOrSkip } from '../helpers/skip.js';

registerReport();

const URI = 'qemu:///system';
const SOCKET = '/run/libvirt/libvirt-sock';
const BIN = 'bin/numaplace.js';
const REAL = process.env.CI === 'true' || process.env.NUMAPLACE_TEST_RESTART_LIBVIRTD === '1';

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

function libvirtAnswers(): boolean {
  return spawnSync('virsh', ['-q', '-c', URI, 'list', '--name'], { timeout: 15000 }).status === 0;
}


function libvirtdPid(): number | null {
  const r = spawnSync('pgrep', ['-x', 'libvirtd'], { encoding: 'utf8' });
  const pid = Number.parseInt(r.stdout.trim().split('\n')[0], 10);
  return Number.isInteger(pid) ? pid : null;
}

async function startLibvirtd(): Promise<void> {
  if (libvirtdPid() === null) spawnSync('libvirtd', ['-d'], { timeout: 30000 });
  await waitFor('libvirtd to answer', libvirtAnswers, 90000);
}

/** A Unix socket that forwards to libvirtd's; `down()` closes it and every connection through it. */
class Proxy {
  private server: Server | null = null;
  private conns = new Set<Socket>();
  constructor(readonly path: string) {}
  async up(): Promise<void> {
    if (existsSync(this.path)) rmSync(this.path);
    this.server = createServer((c) => {
      const upstream = createConnection(SOCKET);
      this.conns.add(c).add(upstream);
      c.pipe(upstream).pipe(c);
      const drop = () => {
        c.destroy();
        upstream.destroy();
        this.conns.delete(c);
        this.conns.delete(upstream);
      };
      c.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => this.server!.listen(this.path, r));
  }
  async down(): Promise<void> {
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    if (this.server) await new Promise((r) => this.server!.close(r));
    this.server = null;
    if (existsSync(this.path)) rmSync(this.path);
  }
}


async function metric(port: number, name: string): Promise<number | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const m = new RegExp(`^${name.replace(/[{}"=]/g, (c) => '\\' + c)} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

describe('daemon and a libvirt outage (real libvirt)', function () {
  this.timeout(240000);
  let dir: string;
  let proxy: Proxy | null = null;

  before(function () {
    const why = libvirtAvailable(URI);
    requireOrSkip(this, why, 'run scripts/hypervisor-up.sh as root');
    dir = mkdtempSync(join(tmpdir(), 'np-outage-'));
  });

  after(async () => {
    await proxy?.down();
    if (REAL) await startLibvirtd(); // leave the machine as it was found
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps running, reports the outage in logs and metrics, and resumes when libvirt is back', async () => {
    let uri = URI;
    if (!REAL) {
      proxy = new Proxy(join(dir, 'libvirt-sock'));
      await proxy.up();
      uri = `qemu+unix:///system?socket=${proxy.path}`;
      console.log('      outage simulated by closing a socket proxy (set CI=true or NUMAPLACE_TEST_RESTART_LIBVIRTD=1 to stop libvirtd itself)');
    }
    const port = await freePort();
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ schedule: '* * * * * *', mode: 'advisory', metrics: { enabled: true, port }, backoff: { initialMs: 1000, maxMs: 2000 }, virsh: { timeoutMs: 20000 } }));
    // The outage starts in the middle of a cycle: its sampling virsh is held until libvirt is gone.
    const hold = join(dir, 'hold');
    const env = installVirshHold(dir, { on: 'domstats', file: hold, mode: 'before' });
    const child = spawn(process.execPath, [BIN, 'run', '--connect', uri, '--config', cfg, '--state-dir', join(dir, 'state')], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    let exited = false;
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => ((exited = true), r(code))));
    try {
      await waitFor(`a first cycle (log so far:\n${log})`, () => /cycle done/.test(log), 120000);
      expect(await metric(port, 'numaplace_libvirt_up')).to.equal(1);

      // libvirt goes away (killed) while a cycle waits on its sampling virsh
      armVirshHold(hold);
      await waitFor('a cycle to start sampling', () => existsSync(hold), 30000);
      const mark = log.length;
      if (REAL) {
        const pid = libvirtdPid();
        expect(pid, 'libvirtd pid').to.not.equal(null);
        process.kill(pid!, 'SIGKILL');
        await waitFor('libvirtd to stop', () => libvirtdPid() === null, 30000);
      } else {
        await proxy!.down();
      }
      rmSync(hold);
      counters.faultsInjected++;
      await waitFor('the daemon to report the outage', () => /cannot sample the host; backing off/.test(log.slice(mark)), 90000);
      await waitFor('numaplace_libvirt_up 0', async () => (await metric(port, 'numaplace_libvirt_up')) === 0, 30000);
      expect(await metric(port, 'numaplace_cycles_total{outcome="failure"}')).to.be.greaterThan(0);
      await sleep(3000); // a few ticks while down: the daemon must stay up
      expect(exited, `daemon exited during the outage:\n${log}`).to.equal(false);

      // libvirt comes back
      if (REAL) await startLibvirtd();
      else await proxy!.up();
      const back = log.length;
      await waitFor('the daemon to resume', () => /host reachable again/.test(log.slice(back)) && /cycle done/.test(log.slice(back)), 120000);
      await waitFor('numaplace_libvirt_up 1', async () => (await metric(port, 'numaplace_libvirt_up')) === 1, 30000);
    } finally {
      if (!exited) child.kill('SIGTERM');
    }
    expect(await exit).to.equal(0);
    expect(readFileSync(join(dir, 'state', 'state.json'), 'utf8')).to.match(/"version": 1/);
    counters.faultsSurvived++;
    counters.perFault[REAL ? 'libvirtd SIGKILL mid-cycle, restarted' : 'libvirt connection cut mid-cycle (socket proxy)'] = 'survived, resumed';
  });
});
