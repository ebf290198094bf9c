/**
 * Type=notify for real: `numaplace run` under a NOTIFY_SOCKET (a datagram socket this test binds,
 * through python3, as systemd would) sends READY=1 through systemd's own systemd-notify, then
 * WATCHDOG=1 pings while its cycles complete; a cycle that hangs stops the pings.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { watchdogPingDue } from '../../src/daemon/watchdog.js';
import { systemdNotifier } from '../../src/host/systemd-notify.js';
import { requireOrSkip } from '../helpers/skip.js';
import { waitFor } from '../helpers/wait.js';

/** Prints each datagram received on the socket at argv[1], one per line. */
const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    print(s.recv(4096).decode().replace("\\n", " "), flush=True)
`;

function missing(): string | null {
  for (const cmd of ['systemd-notify', 'python3']) {
    const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
    if (r.error) return `${cmd} not runnable (${r.error.message})`;
  }
  return null;
}

describe('systemd notification (Type=notify, watchdog)', function () {
  this.timeout(60_000);
  let dir: string;
  let listener: ChildProcess;
  let received: string[];
  let socketPath: string;

  before(function () {
    requireOrSkip(this, missing(), 'apt-get install systemd python3');
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'np-notify-'));
    socketPath = join(dir, 'notify.sock');
    received = [];
    listener = spawn('python3', ['-c', LISTENER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    listener.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      received.push(...lines);
    });
    await waitFor('the listener to bind', () => received.includes('bound'), 10_000);
  });

  afterEach(() => {
    listener.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a notifier sends through systemd-notify; without NOTIFY_SOCKET there is none', async () => {
    expect(systemdNotifier({})).to.equal(null);
    const n = systemdNotifier({ NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '4000000' })!;
    expect(n.watchdogMs).to.equal(4000);
    expect(systemdNotifier({ NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '4000000', WATCHDOG_PID: '1' }, 99)!.watchdogMs).to.equal(null);
    await n.notify('READY=1');
    await waitFor(() => `READY=1 in ${JSON.stringify(received)}`, () => received.some((l) => l.includes('READY=1')), 10_000);
  });

  it('numaplace run says READY=1 and feeds the watchdog while cycles complete', async () => {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ schedule: '* * * * * *', metrics: { enabled: false } }));
    const d = spawn(process.execPath, [resolve('bin/numaplace.js'), 'run', '--simulate', 'steady-4x16', '--config', cfg, '--state-dir', join(dir, 'state')], {
      env: { ...process.env, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '2000000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    d.stderr!.on('data', (x: Buffer) => (log += x.toString()));
    const exited = new Promise((r) => d.on('exit', r));
    try {
      await waitFor(() => `READY=1 and three WATCHDOG=1 in ${JSON.stringify(received)}; log:\n${log}`,
        () => received.some((l) => l.includes('READY=1')) && received.filter((l) => l.includes('WATCHDOG=1')).length >= 3, 30_000);
    } finally {
      d.kill('SIGTERM');
      await exited; // its state directory is removed after this test
    }
  });

  it('the watchdog is fed only while no cycle has run for half its interval', () => {
    expect(watchdogPingDue(0, 600_000)).to.equal(true);
    expect(watchdogPingDue(299_999, 600_000)).to.equal(true);
    expect(watchdogPingDue(300_000, 600_000)).to.equal(false);
  });
});
