/**
 * Issue 12 on REAL QEMU (qemu:///system, TCG, 64 MiB, no disk, idle in SeaBIOS): each case on VMs of
 * its own, numaplace-test-i12-PID-*, removed in `after` (stale ones of dead runs in `before`). The
 * shared numaplace-test-* VMs are only ever planned for (nothing is applied to them: the daemons
 * here see our VMs only, the CLI runs `plan`).
 *
 * virsh is run through test/helpers/virsh-active (first on PATH): the sampling batch's domstats and
 * list see active domains only, so shut-off leftovers of other suites on a shared host cannot fail
 * the sample.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runVirsh } from '../../src/host/virsh-exec.js';
import { issue12Case, registerReport } from '../reliability/counters.js';
import { requireLibvirt, TEST_URI } from './libvirt-available.js';

registerReport();

export const ACTIVE_VIRSH_DIR = resolve('test/helpers/virsh-active');
const virsh = (...args: string[]) => runVirsh(args, { uri: TEST_URI, timeoutMs: 120_000 });
const PREFIX = 'numaplace-test-i12-';
const vmName = (what: string) => `${PREFIX}${process.pid}-${what}`;

function domainXml(n: string, extra = '', metadata = ''): string {
  return `<domain type='qemu'>
  <name>${n}</name>
  <memory unit='MiB'>64</memory>
  <vcpu placement='static'>1</vcpu>
  ${metadata ? `<metadata>${metadata}</metadata>` : ''}
  ${extra}
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='allow'>qemu64</model></cpu>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices><serial type='null'/><memballoon model='none'/></devices>
</domain>`;
}

async function exists(n: string): Promise<boolean> {
  return virsh('domuuid', '--domain', n).then(() => true, () => false);
}

async function remove(n: string): Promise<void> {
  if (!(await exists(n))) return;
  await virsh('destroy', '--domain', n).catch(() => undefined);
  await virsh('undefine', '--domain', n).catch(() => undefined);
}

/** Every QEMU thread's allowed CPUs, read from /proc (the kernel's view, not libvirt's). */
export function threadAffinity(n: string): Record<string, string> {
  const pid = readFileSync(`/run/libvirt/qemu/${n}.pid`, 'utf8').trim();
  const out: Record<string, string> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const allowed = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))![1];
      out[comm.startsWith('CPU ') ? comm : `${comm}#${tid}`] = allowed;
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}

describe('issue 12 on real QEMU (own VMs, virsh backend)', function () {
  this.timeout(240_000);
  let dir = '';
  const made = new Set<string>();

  async function define(n: string, opts: { persistent: boolean; extra?: string; metadata?: string }): Promise<void> {
    await remove(n);
    const file = join(dir, `${made.size}.xml`);
    writeFileSync(file, domainXml(n, opts.extra, opts.metadata));
    made.add(n);
    if (opts.persistent) {
      await virsh('define', '--file', file);
      await virsh('start', '--domain', n);
    } else {
      await virsh('create', '--file', file);
    }
  }

  function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, ['bin/numaplace.js', ...args], {
      encoding: 'utf8',
      timeout: 180_000,
      env: { ...process.env, PATH: `${ACTIVE_VIRSH_DIR}:${process.env.PATH}` },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  before(async function () {
    await requireLibvirt(this, []);
    const names = (await virsh('list', '--all', '--name')).split('\n').map((l) => l.trim()).filter((n) => n.startsWith(PREFIX));
    for (const n of names) {
      const pid = /^numaplace-test-i12-(\d+)-/.exec(n)?.[1];
      if (!pid || !existsSync(`/proc/${pid}`)) await remove(n);
    }
    dir = mkdtempSync(join(tmpdir(), 'numaplace-i12-'));
    chmodSync(dir, 0o755);
  });

  after(async function () {
    for (const n of made) await remove(n).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('item 1: plan --config with an exclude pattern -> a feasible plan for the others (was "no feasible placement")', async () => {
    const x = vmName('x1');
    const a = vmName('a');
    await define(x, { persistent: false });
    await define(a, { persistent: false });
    // `a` on the reserved CPU 0: a feasible plan moves it to CPU 1.
    await virsh('vcpupin', '--domain', a, '--vcpu', '0', '--cpulist', '0', '--live');
    const cfg = join(dir, 'exclude.json');
    writeFileSync(cfg, JSON.stringify({ exclude: { names: [`${PREFIX}${process.pid}-x*`] }, reservedCpus: '0', cpuOvercommit: 8 }));
    const r = cli(['plan', '--connect', TEST_URI, '--config', cfg]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.not.contain('no feasible placement');
    expect(r.stdout).to.contain(`left alone: ${x}: excluded by exclude.names pattern`);
    expect(r.stdout).to.contain(`${a}: pin vCPU 0 to 1`);
    // The excluded VM holds less than its configured 64 MiB (what made it infeasible).
    const pid = readFileSync(`/run/libvirt/qemu/${x}.pid`, 'utf8').trim();
    const resident = readFileSync(`/proc/${pid}/numa_maps`, 'utf8').split('\n').reduce((s, l) => s + Number(/ N0=(\d+)/.exec(l)?.[1] ?? 0), 0) * 4 / 1024;
    issue12Case('item 1: real QEMU, plan --config with exclude.names', `feasible; excluded VM resident ${resident.toFixed(0)} MiB of 64 in its guest RAM and QEMU`);
  });
});
