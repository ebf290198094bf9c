/** The plan / apply / run commands end to end on the simulated host (built CLI, separate processes). */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';

const BIN = 'bin/numaplace.js';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Start `numaplace run`, collect its log, resolve when `until` matches a line. */
function daemon(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (d: Buffer) => {
    log += d.toString();
    for (const w of [...waiters]) if (w.re.test(log)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    log: () => log,
    exited,
    until: (re: RegExp, ms = 20000) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(log)) return resolve();
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${log}`)), ms);
        waiters.push({ re, resolve: () => { clearTimeout(t); resolve(); } });
      }),
  };
}

describe('CLI on the simulated host', function () {
  this.timeout(60000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'np-cli-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('plan --json follows the plan/apply contract and applies nothing', () => {
    const r = cli(['plan', '--simulate', 'steady-4x16', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).to.deep.equal(['steps', 'applied', 'failed', 'refused', 'quality']);
    expect(Object.keys(out.quality)).to.deep.equal(['now', 'planned', 'allLocal']);
    expect(out.steps.length).to.be.greaterThan(0);
    expect(out.applied).to.deep.equal([]);
    expect(out.quality.planned).to.be.lessThan(out.quality.now);
    expect(out.steps.every((s: { vm: string }) => s.vm !== 'api-10')).to.equal(true); // excluded by metadata
  });

  it('plan prints each step with the gain it brings', () => {
    const r = cli(['plan', '--simulate', 'steady-4x16']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^quality .*now [\d.]+, planned [\d.]+, all-local [\d.]+/);
    expect(r.stdout).to.match(/: pin vCPU \d+ to [\d,-]+ {2}\(gain [\d.]+\)/);
  });

  it('apply --json applies the steps it plans', () => {
    const r = cli(['apply', '--simulate', 'steady-4x16', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out.failed).to.deep.equal([]);
    expect(out.applied).to.deep.equal(out.steps);
  });

  it('bad input exits 2 with one line', () => {
    for (const args of [['plan', '--simulate', 'no-such-scenario'], ['apply', '--frobnicate'], ['run', '--mode', 'sometimes', '--simulate', 'steady-4x16'], ['plan', '--simulate', 'steady-4x16', '--connect', 'qemu:///system']]) {
      const r = cli(args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
    }
  });

  it('run: cycles in apply mode, refuses a second instance on the same state dir, exits cleanly on SIGTERM', async () => {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ schedule: '* * * * * *', mode: 'apply', metrics: { enabled: false }, churn: { holdCycles: 1 } }));
    const state = join(dir, 'state');
    const d = daemon(['--simulate', 'steady-4x16', '--config', cfg, '--state-dir', state]);
    await d.until(/pin vCPU \d+ to .* result=applied/);
    const second = cli(['run', '--simulate', 'steady-4x16', '--config', cfg, '--state-dir', state]);
    expect(second.code).to.equal(2);
    expect(second.stderr).to.match(/another numaplace \(pid \d+\) is running/);
    d.child.kill('SIGTERM');
    expect(await d.exited).to.equal(0);
    expect(d.log()).to.match(/stopping why=SIGTERM[\s\S]*stopped/);
    expect(existsSync(join(state, 'numaplace.lock'))).to.equal(false);
    const saved = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8'));
    expect(Object.keys(saved.applied).length).to.be.greaterThan(0);
    expect(readFileSync(join(state, 'journal.jsonl'), 'utf8')).to.match(/"result":"applied"/);
  });

  it('run: a metrics port in use stops the daemon at start with one line and exit 1 (not running blind)', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const cfg = join(dir, 'config.json');
      writeFileSync(cfg, JSON.stringify({ schedule: '* * * * * *', metrics: { enabled: true, address: '127.0.0.1', port } }));
      const r = cli(['run', '--simulate', 'steady-4x16', '--config', cfg, '--state-dir', join(dir, 'state')]);
      expect(r.code).to.equal(1);
      const errLines = r.stderr.trim().split('\n').filter((l) => l.startsWith('numaplace run:'));
      expect(errLines).to.deep.equal([`numaplace run: metrics endpoint: cannot listen on 127.0.0.1:${port}: the port is in use (choose another metrics.port)`]);
      expect(existsSync(join(dir, 'state', 'numaplace.lock'))).to.equal(false);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('status: what the running daemon does, from its state directory; exit 1 once it stopped', async () => {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ schedule: '* * * * * *', mode: 'apply', metrics: { enabled: false }, churn: { holdCycles: 2 } }));
    const state = join(dir, 'state');
    const d = daemon(['--simulate', 'steady-4x16', '--config', cfg, '--state-dir', state]);
    await d.until(/cycle done/);
    const text = cli(['status', '--state-dir', state]);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(new RegExp(`^numaplace: running \\(pid ${d.child.pid}\\), mode apply`));
    expect(text.stdout).to.match(/quality \(load-weighted NUMA distance, lower is better\): now [\d.]+, planned [\d.]+, all-local [\d.]+/);
    expect(text.stdout).to.match(/left alone \(1\):\n {2}api-10: excluded by its domain metadata/);
    const json = JSON.parse(cli(['status', '--state-dir', state, '--json']).stdout);
    expect(json).to.include({ running: true, pid: d.child.pid, mode: 'apply' });
    expect(json.lastCycle.outcome).to.equal('ok');
    d.child.kill('SIGTERM');
    expect(await d.exited).to.equal(0);
    const after = cli(['status', '--state-dir', state]);
    expect(after.code).to.equal(1);
    expect(after.stdout).to.match(/^numaplace: NOT running/);
    const none = cli(['status', '--state-dir', join(dir, 'nothing-here')]);
    expect(none.code).to.equal(1);
    expect(none.stderr.trim().split('\n')).to.have.length(1);
  });

  it('run: SIGHUP reloads the config, keeping the running one when the new is invalid', async () => {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ schedule: '* * * * * *', metrics: { enabled: false } }));
    const d = daemon(['--simulate', 'steady-4x16', '--config', cfg, '--state-dir', join(dir, 'state')]);
    await d.until(/numaplace started/);
    writeFileSync(cfg, JSON.stringify({ schedule: '* * * * * *', metrics: { enabled: false }, churn: { maxVmsPerCyle: 2 } }));
    d.child.kill('SIGHUP');
    await d.until(/reload failed; keeping the running configuration .*maxVmsPerCyle/);
    writeFileSync(cfg, JSON.stringify({ schedule: '* * * * * *', metrics: { enabled: false }, mode: 'apply' }));
    d.child.kill('SIGHUP');
    await d.until(/configuration reloaded mode=apply/);
    d.child.kill('SIGINT');
    expect(await d.exited).to.equal(0);
  });

  it('run: a corrupt checkpoint is reported and set aside; the daemon starts fresh', async () => {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ schedule: '* * * * * *', metrics: { enabled: false } }));
    const state = join(dir, 'state');
    rmSync(state, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', state]);
    writeFileSync(join(state, 'state.json'), '{"version":1,"appl');
    const d = daemon(['--simulate', 'steady-4x16', '--config', cfg, '--state-dir', state]);
    await d.until(/cycle done/);
    expect(d.log()).to.match(/checkpoint .*state\.json is unreadable .*moved it to .*state\.json\.corrupt-/);
    d.child.kill('SIGTERM');
    expect(await d.exited).to.equal(0);
  });
});
