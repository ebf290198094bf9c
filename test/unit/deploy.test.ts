import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { DEFAULT_CONFIG } from '../../src/daemon/config.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createHardeningMetrics } from '../../src/metrics/hardening.js';
import { needPromtool, promtool } from '../helpers/promtool.js';

/** [section, key, value] of a systemd unit file; throws on a line that is none of comment, section, key=value. */
function parseUnit(text: string): [string, string, string][] {
  const out: [string, string, string][] = [];
  let section = '';
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) return;
    const sec = /^\[(\w+)\]$/.exec(t);
    if (sec) {
      section = sec[1];
      return;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(t);
    if (!kv || section === '') throw new Error(`deploy/numaplace.service line ${i + 1}: ${JSON.stringify(line)}`);
    out.push([section, kv[1], kv[2]]);
  });
  return out;
}

describe('deploy files', () => {
  it('the README lists every exported metric, and no other', () => {
    const readme = readFileSync('README.md', 'utf8');
    const documented = [...readme.matchAll(/^\| `(numaplace_[a-z_]+)` \|/gm)].map((m) => m[1]).sort();
    const reg = new Registry();
    createMetrics(reg);
    createHardeningMetrics(reg);
    const exported = reg.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name).sort();
    expect(documented).to.deep.equal(exported);
  });

  const unit = parseUnit(readFileSync('deploy/numaplace.service', 'utf8'));
  const get = (section: string, key: string) => unit.filter(([s, k]) => s === section && k === key).map(([, , v]) => v);

  it('the systemd unit runs `numaplace run` with the packaged config path', () => {
    expect(get('Service', 'Type')).to.deep.equal(['notify']);
    expect(get('Service', 'NotifyAccess')).to.deep.equal(['all']);
    expect(get('Service', 'WatchdogSec')).to.deep.equal(['10min']);
    expect(get('Service', 'MemoryMax')).to.deep.equal(['512M']);
    expect(get('Service', 'ExecStart')).to.deep.equal(['/usr/bin/env numaplace run --config /etc/numaplace/numaplace.json']);
    expect(get('Service', 'Restart')).to.deep.equal(['on-failure']);
    expect(get('Service', 'ExecReload')).to.deep.equal(['/bin/kill -HUP $MAINPID']);
    expect(get('Service', 'RestartPreventExitStatus')).to.deep.equal(['2']);
    expect(get('Install', 'WantedBy')).to.deep.equal(['multi-user.target']);
  });

  it('its only writable directory is the default stateDir', () => {
    expect(get('Service', 'ProtectSystem')).to.deep.equal(['strict']);
    expect(get('Service', 'StateDirectory').map((d) => `/var/lib/${d}`)).to.deep.equal([DEFAULT_CONFIG.stateDir]);
    expect(get('Service', 'UMask')).to.deep.equal(['0077']);
    // Node's JIT needs writable+executable memory; the libvirt socket needs AF_UNIX.
    expect(get('Service', 'MemoryDenyWriteExecute')).to.deep.equal([]);
    expect(get('Service', 'RestrictAddressFamilies')[0].split(' ')).to.include('AF_UNIX');
    expect(get('Service', 'PrivateNetwork')).to.deep.equal([]);
  });

  it('capabilities: only CAP_SYS_PTRACE (numa_maps and move_pages(2) of QEMU processes run as another user) and CAP_SYS_NICE (move_pages(2) MPOL_MF_MOVE_ALL for shared guest RAM), none ambient; the host lock dir is /run/numaplace', () => {
    expect(get('Service', 'CapabilityBoundingSet')).to.deep.equal(['CAP_SYS_PTRACE CAP_SYS_NICE']);
    expect(get('Service', 'AmbientCapabilities')).to.deep.equal(['']);
    expect(get('Service', 'NoNewPrivileges')).to.deep.equal(['yes']);
    expect(get('Service', 'RuntimeDirectory').map((d) => `/run/${d}`)).to.deep.equal(['/run/numaplace']);
    expect(get('Service', 'RuntimeDirectoryPreserve')).to.deep.equal(['yes']);
  });

  it('the scrape example targets the default metrics address and port, and is valid Prometheus config', async function () {
    const scrape = readFileSync('deploy/prometheus-scrape.yml', 'utf8');
    expect(scrape).to.include(`targets: ['${DEFAULT_CONFIG.metrics.address}:${DEFAULT_CONFIG.metrics.port}']`);
    await needPromtool(this);
    const dir = mkdtempSync(join(tmpdir(), 'np-prom-'));
    try {
      const file = join(dir, 'prometheus.yml');
      writeFileSync(file, `global:\n  scrape_interval: 15s\n${scrape}`);
      const r = await promtool(['check', 'config', file]);
      expect(r.exitCode, r.output).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the alerting and recording rules and the dashboard use only metrics numaplace exports', async function () {
    const known = new Set<string>();
    const reg = new Registry();
    createMetrics(reg);
    createHardeningMetrics(reg);
    for (const metric of reg.getMetricsAsArray()) known.add((metric as unknown as { name: string }).name);
    for (const file of ['deploy/prometheus-rules.yml', 'deploy/prometheus-recording-rules.yml', 'deploy/grafana-dashboard.json']) {
      const used = [...readFileSync(file, 'utf8').matchAll(/\bnumaplace_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
      expect(used.length, file).to.be.greaterThan(5);
      for (const name of used) expect(known.has(name), `${name} in ${file} is not exported`).to.equal(true);
    }
    await needPromtool(this);
    const r = await promtool(['check', 'rules', 'deploy/prometheus-rules.yml', 'deploy/prometheus-recording-rules.yml']);
    expect(r.exitCode, r.output).to.equal(0);
  });

  it('the alert rules fire as their unit tests say (FarFromLocal only where plans are applied)', async function () {
    await needPromtool(this);
    const r = await promtool(['test', 'rules', 'deploy/prometheus-rules.test.yml']);
    expect(r.exitCode, r.output).to.equal(0);
    expect(r.output).to.include('SUCCESS');
  });

  it('the dashboard queries only what the recording rules record or numaplace exports', () => {
    const recorded = new Set([...readFileSync('deploy/prometheus-recording-rules.yml', 'utf8').matchAll(/^\s*- record: (\S+)$/gm)].map((m) => m[1]));
    const dashboard = JSON.parse(readFileSync('deploy/grafana-dashboard.json', 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const rulesUsed = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\bnumaplace:[a-z0-9_:]+/g)].map((m) => m[0])));
    expect(rulesUsed.length).to.be.greaterThan(5);
    for (const name of rulesUsed) expect(recorded.has(name), `${name} is not a recording rule`).to.equal(true);
  });
});
