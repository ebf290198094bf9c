/**
 * Issue 12 item 15: node-cron's own (coloured) warnings went around log.format=json; `run --simulate`
 * left its temp state directory behind; the metrics server kept any number of idle sockets (3,000).
 * (Control characters in VM names: odd-vm-name.test.ts.)
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { startMetricsServer } from '../../src/metrics/server.js';
import { waitFor } from '../helpers/wait.js';
import { hardened, registerReport } from './counters.js';

registerReport();

const BIN = 'bin/numaplace.js';

function daemon(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { child, out: () => out, err: () => err, exit };
}

describe('reliability: daemon hygiene (issue 12 item 15)', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'np-hygiene-'))));
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('log.format=json: node-cron\'s warnings (missed executions after a stall) are JSON lines too, no ANSI colours', async () => {
    const cfg = join(dir, 'json.json');
    writeFileSync(cfg, JSON.stringify({ schedule: '* * * * * *', log: { format: 'json', level: 'debug' }, metrics: { enabled: false } }));
    const d = daemon(['--simulate', '2x8', '--config', cfg, '--state-dir', join(dir, 'json-state')]);
    await waitFor(() => `the daemon to cycle (stderr:\n${d.err()})`, () => /cycle done/.test(d.err()), 30_000);
    // Stall it for 3 s: node-cron then reports missed executions.
    d.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 3000));
    d.child.kill('SIGCONT');
    await waitFor(() => `more cycles (stderr:\n${d.err()})`, () => (d.err().match(/cycle done/g) ?? []).length >= 3, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    d.child.kill('SIGTERM');
    expect(await d.exit).to.equal(0);
    const all = d.out() + d.err();
    expect(all).to.not.include('\x1b[');
    const lines = all.split('\n').filter(Boolean);
    for (const l of lines) expect(() => JSON.parse(l), l).to.not.throw();
    const cronLines = lines.map((l) => JSON.parse(l) as { source?: string; msg: string }).filter((l) => l.source === 'node-cron');
    expect(cronLines.map((l) => l.msg).join('\n'), 'node-cron said something about the stall').to.match(/missed execution/);
    hardened('hygiene', 2);
  });

  it('run --simulate without --state-dir removes its temp state directory when it stops', async () => {
    const tmp = join(dir, 'tmp');
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const cfg = join(dir, 'sim.json');
    writeFileSync(cfg, JSON.stringify({ schedule: '* * * * * *', metrics: { enabled: false } }));
    const d = daemon(['--simulate', '2x8', '--config', cfg], { ...process.env, TMPDIR: tmp });
    await waitFor(() => `the daemon to cycle (stderr:\n${d.err()})`, () => /cycle done/.test(d.err()), 30_000);
    expect(readdirSync(tmp).filter((n) => n.startsWith('numaplace-simulated-'))).to.have.length(1);
    d.child.kill('SIGTERM');
    expect(await d.exit).to.equal(0);
    expect(readdirSync(tmp).filter((n) => n.startsWith('numaplace-simulated-'))).to.deep.equal([]);
    hardened('hygiene');
  });

  it('the metrics server holds at most maxConnections and closes idle sockets; it answers again after', async () => {
    const srv = await startMetricsServer({ registry: new Registry(), port: 0, lastSuccessAtMs: () => Date.now(), staleAfterSeconds: 30, maxConnections: 20, idleTimeoutMs: 1000 });
    const sockets: Socket[] = [];
    try {
      const port = srv.address().port;
      // 300 idle sockets on loopback, opened at once.
      await Promise.all(Array.from({ length: 300 }, () => new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port }, () => resolve());
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        sockets.push(s);
      })));
      await new Promise((r) => setTimeout(r, 300));
      const open = await new Promise<number>((r) => srv.server.getConnections((_, n) => r(n)));
      expect(open).to.be.at.most(20);
      // Idle ones are cut off.
      await waitFor('idle sockets closed', async () => (await new Promise<number>((r) => srv.server.getConnections((_, n) => r(n)))) === 0, 10_000);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).to.equal(200);
    } finally {
      for (const s of sockets) s.destroy();
      await srv.close();
    }
    hardened('hygiene', 2);
  });
});
