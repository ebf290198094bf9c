/**
 * The shipped Prometheus rules and Grafana dashboard, evaluated by a real Prometheus server (Debian's
 * package, on loopback) that scrapes a real `numaplace run` on the simulated host: every recording
 * rule and every dashboard query must return data, and the alert rules must load and evaluate.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor } from '../helpers/wait.js';
import { requireOrSkip } from '../helpers/skip.js';

const BIN = resolve('bin/numaplace.js');
const RECORDING = resolve('deploy/prometheus-recording-rules.yml');
const ALERTS = resolve('deploy/prometheus-rules.yml');
const DASHBOARD = resolve('deploy/grafana-dashboard.json');

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

/** Grafana's template variables as a query against one Prometheus would see them. */
function expand(expr: string): string {
  return expr.replaceAll('$instance', '.*').replaceAll('$__rate_interval', '1m');
}

function recordNames(yaml: string): string[] {
  return [...yaml.matchAll(/^\s*- record: (\S+)$/gm)].map((m) => m[1]);
}

function prometheusAvailable(): string | null {
  const r = spawnSync('prometheus', ['--version'], { encoding: 'utf8' });
  return r.error ? `prometheus not runnable (${r.error.message})` : null;
}

describe('Prometheus rules and Grafana dashboard on a real Prometheus server', function () {
  this.timeout(120_000);
  let dir: string;
  let daemon: ChildProcess | undefined;
  let prom: ChildProcess | undefined;
  let promUrl: string;
  let promLog = '';
  let daemonLog = '';

  before(async function () {
    requireOrSkip(this, prometheusAvailable(), 'apt-get install prometheus (scripts/hypervisor-up.sh installs it)');
    dir = mkdtempSync(join(tmpdir(), 'np-prom-'));
    const metricsPort = await freePort();
    writeFileSync(join(dir, 'numaplace.json'), JSON.stringify({
      schedule: '* * * * * *', mode: 'apply', load: { windowCycles: 2 }, churn: { holdCycles: 1 },
      metrics: { enabled: true, address: '127.0.0.1', port: metricsPort },
    }));
    daemon = spawn(process.execPath, [BIN, 'run', '--simulate', 'steady-4x16', '--config', join(dir, 'numaplace.json'), '--state-dir', join(dir, 'state')], { stdio: ['ignore', 'pipe', 'pipe'] });
    daemon.stdout!.on('data', (d: Buffer) => (daemonLog += d.toString()));
    daemon.stderr!.on('data', (d: Buffer) => (daemonLog += d.toString()));

    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s',
      'rule_files:', `  - ${JSON.stringify(RECORDING)}`, `  - ${JSON.stringify(ALERTS)}`,
      'scrape_configs:', '  - job_name: numaplace', '    static_configs:', `      - targets: ['127.0.0.1:${metricsPort}']`, '',
    ].join('\n'));
    prom = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (d: Buffer) => (promLog += d.toString()));
    prom.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
    await waitFor(() => `Prometheus ready at ${promUrl}; its log:\n${promLog}`, async () => {
      try { return (await fetch(`${promUrl}/-/ready`)).ok; } catch { return false; }
    }, 30_000);
  });

  after(async () => {
    const stop = (c: ChildProcess | undefined) =>
      c && c.exitCode === null && c.signalCode === null ? new Promise((r) => { c.once('exit', r); c.kill('SIGTERM'); }) : undefined;
    await Promise.all([stop(daemon), stop(prom)]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<unknown[]> {
    const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } };
    if (body.status !== 'success') throw new Error(`Prometheus refused ${expr}: ${body.error}`);
    return body.data!.result;
  }

  it('the target is up and numaplace_build_info names the version', async () => {
    await waitFor(() => `numaplace scraped; daemon log:\n${daemonLog}`, async () => (await query('up{job="numaplace"} == 1')).length === 1, 30_000);
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect(await query(`numaplace_build_info{version="${version}"}`)).to.have.length(1);
  });

  it('every recording rule and every dashboard query returns data', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
    const exprs = [
      ...recordNames(readFileSync(RECORDING, 'utf8')),
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => expand(t.expr))),
    ];
    expect(exprs.length).to.be.greaterThan(20);
    const empty = new Set(exprs);
    // Rates need two scrapes and the rules an evaluation after them; the daemon needs a few cycles to move VMs.
    await waitFor(() => `data for: ${[...empty].join(' | ')}\ndaemon log tail:\n${daemonLog.slice(-2000)}`, async () => {
      for (const e of [...empty]) if ((await query(e)).length > 0) empty.delete(e);
      return empty.size === 0;
    }, 60_000);
  });

  it('the alert rules load and evaluate, and FarFromLocal is for hosts that apply plans', async () => {
    const r = await fetch(`${promUrl}/api/v1/rules?type=alert`);
    const body = (await r.json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string; query: string }[] }[] } };
    const rules = body.data.groups.flatMap((g) => g.rules);
    expect(rules.map((x) => x.name)).to.include.members(['NumaplaceInterruptedApply', 'NumaplaceCyclesFailing', 'NumaplaceHotplugRefused', 'NumaplaceFarFromLocal']);
    await waitFor('every alert rule evaluated', async () => {
      const b = (await (await fetch(`${promUrl}/api/v1/rules?type=alert`)).json()) as typeof body;
      return b.data.groups.flatMap((g) => g.rules).every((x) => x.health === 'ok');
    }, 20_000);
    const far = rules.find((x) => x.name === 'NumaplaceFarFromLocal')!;
    expect(far.query).to.include('numaplace_mode{mode="apply"} == 1');
  });
});
