/**
 * Security: loopback-only metrics by default and a validated address; no shell anywhere (source
 * grep, and an odd-named VM through every action creating nothing); checkpoint, journal and lock
 * written 0600 even under umask 0; a second daemon refused while another holds the lock.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ConfigError, DEFAULT_CONFIG, parseConfig } from '../../src/daemon/config.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { freshState, saveState, STATE_FILE } from '../../src/daemon/state.js';
import { FileJournal, JOURNAL_FILE } from '../../src/apply/journal.js';
import { acquireLock, LOCK_FILE } from '../../src/daemon/lock.js';
import { createSimulatedBackend, generatedScenario } from '../../src/sim/index.js';
import { VirshBackend } from '../../src/host/virsh-backend.js';
import { ODD_VM, requireLibvirt, TEST_URI } from '../integration/libvirt-available.js';
import { counters, registerReport } from './counters.js';

registerReport();

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'results' ? [] : sourceFiles(p);
    return /\.(ts|js|mjs|cjs)$/.test(e.name) ? [p] : [];
  });
}

describe('reliability: security', function () {
  this.timeout(60_000);

  it('no source file runs a shell: no child_process exec/execSync/execFile-with-shell, no shell: true', () => {
    const files = ['src', 'solver', 'bin', 'benchmarks', 'scripts'].flatMap(sourceFiles);
    expect(files.length).to.be.greaterThan(20);
    const bad: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      counters.securityChecks++;
      if (/import\s*\{[^}]*\bexec(Sync)?\b[^}]*\}\s*from\s*['"](node:)?child_process['"]/.test(text)) bad.push(`${f}: imports exec/execSync`);
      if (/\bchild_process['"]\)?\s*\.\s*exec(Sync)?\b|\bcp\.exec(Sync)?\(/.test(text)) bad.push(`${f}: calls exec`);
      if (/\bshell\s*:\s*(true|['"`])/.test(text)) bad.push(`${f}: shell option`);
      if (/execaCommand|\$`|execa\s*\(\s*['"`][^'"`]*\s[^'"`]*['"`]\s*[,)]/.test(text)) bad.push(`${f}: execa with a command string`);
    }
    expect(bad).to.deep.equal([]);
  });

  it('metrics default to loopback; a configured address must be an IP literal (named in the error)', async () => {
    expect(DEFAULT_CONFIG.metrics.address).to.equal('127.0.0.1');
    for (const bad of ['0.0.0.0.0', 'localhost', 'example.com', '127.0.0.1; rm -rf /', '', '::g', 42]) {
      counters.securityChecks++;
      expect(() => parseConfig({ metrics: { address: bad } }), String(bad)).to.throw(ConfigError, /metrics\.address/);
    }
    expect(parseConfig({ metrics: { address: '::1' } }).metrics.address).to.equal('::1');
    const srv = await startMetricsServer({ registry: new Registry(), port: 0, lastSuccessAtMs: () => null, staleAfterSeconds: 30 });
    try {
      counters.securityChecks++;
      expect(srv.address().address).to.equal('127.0.0.1');
    } finally {
      await srv.close();
    }
  });

  it('checkpoint, journal and lock are 0600 even under umask 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-perm-'));
    const old = process.umask(0);
    try {
      saveState(dir, freshState());
      saveState(dir, freshState()); // second write replaces via rename: still 0600
      new FileJournal(dir).record({ vm: 'a', step: { vm: 'a', kind: 'setShares', shares: 1024 }, flags: { live: true, config: false }, result: 'applied' });
      const lock = acquireLock(dir);
      for (const f of [STATE_FILE, JOURNAL_FILE, LOCK_FILE]) {
        counters.securityChecks++;
        expect((statSync(join(dir, f)).mode & 0o777).toString(8), f).to.equal('600');
      }
      lock.release();
    } finally {
      process.umask(old);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a second process is refused while another holds the lock: exits non-zero naming the pid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-lock-'));
    const holderCode = `const m = await import(${JSON.stringify(join(process.cwd(), 'dist/src/daemon/lock.js'))}); m.acquireLock(${JSON.stringify(dir)}); console.log('held'); setTimeout(() => {}, 60000);`;
    const holder = spawn(process.execPath, ['--input-type=module', '-e', holderCode], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((res, rej) => {
        holder.stdout.on('data', (d) => String(d).includes('held') && res());
        holder.on('exit', (c) => rej(new Error(`lock holder exited ${c}`)));
      });
      const second = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(process.cwd(), 'dist/src/daemon/lock.js'))}); try { m.acquireLock(${JSON.stringify(dir)}); } catch (e) { console.error(e.message); process.exit(1); }`], { encoding: 'utf8' });
      counters.securityChecks++;
      expect(second.status).to.not.equal(0);
      expect(second.stderr).to.include(`pid ${holder.pid}`);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    // The holder was killed: its stale lock is taken over.
    acquireLock(dir).release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an odd VM name ($(...), quotes, ;) goes through every simulated action as one literal name', async () => {
    const name = '$(touch /tmp/numaplace-x); x';
    const sc = generatedScenario('2x8', 2) as { vms: { name: string }[] };
    sc.vms[0].name = name;
    const b = createSimulatedBackend(sc as unknown as Record<string, unknown>);
    const s = await b.sample();
    expect(s.vms.map((v) => v.name)).to.include(name);
    const L = { live: true, config: false };
    await b.pinVcpu(name, 0, '1', L);
    await b.pinEmulator(name, '1', L);
    await b.setShares(name, 2048, L);
    const after = (await b.sample()).vms.find((v) => v.name === name)!;
    expect(after.vcpuPins[0]).to.equal('1');
    expect(existsSync('/tmp/numaplace-x')).to.equal(false);
    counters.securityChecks++;
  });

  describe('odd VM name on real libvirt', function () {
    before(async function () {
      await requireLibvirt(this, [ODD_VM]);
    });
    it('every action on the odd-named real VM works on that VM and creates nothing', async () => {
      const cwdPwned = join(process.cwd(), 'numaplace-pwned');
      const b = new VirshBackend({ uri: TEST_URI, timeoutMs: 60_000 });
      const s = await b.sample();
      const vm = s.vms.find((v) => v.name === ODD_VM);
      expect(vm, 'odd VM sampled').to.not.equal(undefined);
      expect(vm!.running, 'odd VM running (scripts/hypervisor-up.sh starts it)').to.equal(true);
      const L = { live: true, config: false };
      const all = s.topology.nodes.flatMap((n) => n.cpus).join(',');
      // Re-apply what it has (or all CPUs): harmless, but runs each command with the name.
      await b.pinVcpu(ODD_VM, 0, vm!.vcpuPins[0] ?? all, L);
      await b.pinEmulator(ODD_VM, vm!.emulatorPin ?? all, L);
      await b.setShares(ODD_VM, vm!.cpuShares ?? 1024, L);
      if (vm!.numatune?.mode === 'restrictive' && vm!.numatune.nodeset) await b.setNodeset(ODD_VM, vm!.numatune.nodeset, L);
      const again = (await b.sample()).vms.find((v) => v.name === ODD_VM)!;
      expect(again.cpuShares).to.equal(vm!.cpuShares ?? 1024);
      for (const p of [cwdPwned, '/numaplace-pwned', '/root/numaplace-pwned', '/tmp/numaplace-pwned']) expect(existsSync(p), p).to.equal(false);
      counters.securityChecks++;
    });
  });
});
