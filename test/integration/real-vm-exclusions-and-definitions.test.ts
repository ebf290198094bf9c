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
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { withSettings, type Settings } from '../../src/daemon/settings.js';
import { VirshBackend } from '../../src/host/virsh-backend.js';
import { solveInProcess } from '../../solver/solve.js';
import { issue12Case, registerReport } from '../reliability/counters.js';
import { OnlyThese } from '../helpers/only-these.js';
import { requireLibvirt, TEST_URI } from './libvirt-available.js';
import { ownVmXml, removeStaleVms, removeVm, virsh } from './own-vms.js';

registerReport();

export const ACTIVE_VIRSH_DIR = resolve('test/helpers/virsh-active');
const PREFIX = 'numaplace-test-i12-';
const vmName = (what: string) => `${PREFIX}${process.pid}-${what}`;


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

function daemonOn(names: string[], over: Parameters<typeof withSettings>[0] = {}) {
  const logger = memoryLogger();
  const backend = new OnlyThese(new VirshBackend({ uri: TEST_URI, timeoutMs: 60_000, binary: join(ACTIVE_VIRSH_DIR, 'virsh') }), new Set(names));
  const settings: Settings = withSettings({ mode: 'apply', reservedCpus: '0', cpuOvercommit: 8, churn: { holdCycles: 1 }, ...over });
  const d = new Daemon({ backend, settings, solve: async (p) => solveInProcess(p, { timeLimitMs: 300 }), logger, stateDir: null });
  return { d, logger };
}

const NOVA_METADATA = `<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1"><nova:name>web-1</nova:name><nova:flavor name="m1.tiny"><nova:vcpus>1</nova:vcpus></nova:flavor></nova:instance>`;

describe('exclusions, foreign VMs, persistConfig and guest cells on real QEMU (own VMs, virsh backend; issue 12)', function () {
  this.timeout(240_000);
  let dir = '';
  const made = new Set<string>();

  async function define(n: string, opts: { persistent: boolean; extra?: string; metadata?: string }): Promise<void> {
    await removeVm(n);
    const file = join(dir, `${made.size}.xml`);
    writeFileSync(file, ownVmXml(n, opts.extra, opts.metadata));
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
    await removeStaleVms(PREFIX);
    dir = mkdtempSync(join(tmpdir(), 'numaplace-i12-'));
    chmodSync(dir, 0o755);
  });

  after(async function () {
    for (const n of made) await removeVm(n).catch(() => undefined);
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

  it('item 2: a VM with Nova metadata and one with a persistent <vcpupin> numaplace did not write are left as they are, said once; the others are placed', async () => {
    const nova = vmName('nova');
    const pinned = vmName('pinned');
    const mine = vmName('mine');
    await define(nova, { persistent: false, metadata: NOVA_METADATA });
    await define(pinned, { persistent: true, extra: "<cputune><vcpupin vcpu='0' cpuset='0'/><emulatorpin cpuset='0'/></cputune>" });
    await define(mine, { persistent: false });
    for (const n of [nova, mine]) {
      await virsh('vcpupin', '--domain', n, '--vcpu', '0', '--cpulist', '0', '--live');
      await virsh('emulatorpin', '--domain', n, '--cpulist', '0', '--live');
    }
    const xmlBefore = { nova: await virsh('dumpxml', '--domain', nova), pinned: await virsh('dumpxml', '--inactive', '--domain', pinned) };
    const affBefore = { nova: threadAffinity(nova), pinned: threadAffinity(pinned) };
    expect(Object.values(affBefore.pinned).every((c) => c === '0'), JSON.stringify(affBefore.pinned)).to.equal(true);
    const { d, logger } = daemonOn([nova, pinned, mine]);
    for (let c = 0; c < 4; c++) {
      const r = await d.runCycle();
      expect(r.outcome, r.error).to.be.oneOf(['ok', 'warming-up']);
      expect(r.steps.filter((s) => s.vm !== mine), JSON.stringify(r.steps)).to.deep.equal([]);
    }
    // Untouched: the kernel's affinity of every thread, the XML (pins, shares; live for the transient one, persistent for the other).
    expect(threadAffinity(nova)).to.deep.equal(affBefore.nova);
    expect(threadAffinity(pinned)).to.deep.equal(affBefore.pinned);
    const strip = (x: string) => x.replace(/<vcpu[^>]*>\d+<\/vcpu>/, '');
    expect(strip(await virsh('dumpxml', '--domain', nova))).to.equal(strip(xmlBefore.nova));
    expect(await virsh('dumpxml', '--inactive', '--domain', pinned)).to.equal(xmlBefore.pinned);
    // Ours was placed: off the reserved CPU 0.
    expect(threadAffinity(mine)['CPU 0/TCG']).to.equal('1');
    // Said once per VM over 4 cycles.
    const said = (vm: string) => logger.lines.map((l) => JSON.parse(l)).filter((j) => j.msg === 'left alone' && j.vm === vm);
    expect(said(nova)).to.have.length(1);
    expect(said(nova)[0].reason).to.contain('managed by OpenStack Nova (domain metadata namespace http://openstack.org/xmlns/libvirt/nova/1.1)');
    expect(said(pinned)).to.have.length(1);
    expect(said(pinned)[0].reason).to.contain('persistent definition has <vcpupin> for vCPU 0, <emulatorpin> that numaplace did not write');
    // foreign.manage hands them over.
    const over = daemonOn([nova, pinned, mine], { foreign: { manage: true } });
    await over.d.runCycle();
    const r = await over.d.runCycle();
    expect(r.applied.filter((s) => s.vm === nova && s.kind === 'pinVcpu')).to.have.length(1);
    expect(r.applied.filter((s) => s.vm === pinned && s.kind === 'pinVcpu')).to.have.length(1);
    expect(threadAffinity(nova)['CPU 0/TCG']).to.equal('1');
    issue12Case('item 2: real QEMU, Nova metadata and foreign persistent pins', `4 cycles: 0 steps on the 2 foreign VMs, /proc affinity and XML unchanged, logged once each; ours placed; foreign.manage=true places them`);
  });

  it('item 4: persistConfig writes a setting that is live already but not in the persistent definition, once', async () => {
    const vm = vmName('persist');
    await define(vm, { persistent: true });
    // Live already where numaplace puts it (CPU 0 reserved -> CPU 1); the definition has no pins.
    await virsh('vcpupin', '--domain', vm, '--vcpu', '0', '--cpulist', '1', '--live');
    await virsh('emulatorpin', '--domain', vm, '--cpulist', '1', '--live');
    expect(await virsh('dumpxml', '--inactive', '--domain', vm)).to.not.contain('<vcpupin');
    const { d } = daemonOn([vm], { persistConfig: true, shares: { enabled: false } });
    const reports = [];
    for (let c = 0; c < 4; c++) reports.push(await d.runCycle());
    const applied = reports.flatMap((r) => r.applied).filter((s) => s.vm === vm);
    expect(applied.map((s) => s.kind).sort()).to.deep.equal(['pinEmulator', 'pinVcpu']);
    const inactive = await virsh('dumpxml', '--inactive', '--domain', vm);
    expect(inactive).to.match(/<vcpupin vcpu='0' cpuset='1'\/>/);
    expect(inactive).to.match(/<emulatorpin cpuset='1'\/>/);
    expect(inactive).to.contain('https://numaplace.dev/xmlns/written/1');
    // Not foreign afterwards (its marker), and converged: the last cycles plan nothing.
    expect(reports[3].steps.filter((s) => s.vm === vm)).to.deep.equal([]);
    expect(reports[3].excludedVms).to.equal(0);
    expect(threadAffinity(vm)['CPU 0/TCG']).to.equal('1');
    issue12Case('item 4: real QEMU, persistConfig with live already as planned', 'vcpupin and emulatorpin written to the persistent definition (--config alone), then no further steps');
  });

  it('item 3: guest cells placed cell by cell, each cell\'s memnode written to the persistent definition (libvirt 9.0 has no live path)', async () => {
    const vm = vmName('cells');
    // Two cells with one online vCPU each, numatune restrictive (numaplace moves memory live only then), no memnodes yet.
    const cellsXml = ownVmXml(vm, "<numatune><memory mode='restrictive' nodeset='0'/></numatune>")
      .replace('<memory unit=\'MiB\'>64</memory>', "<memory unit='MiB'>128</memory>")
      .replace("<vcpu placement='static'>1</vcpu>", "<vcpu placement='static' current='2'>4</vcpu>")
      .replace('</model></cpu>', "</model><numa><cell id='0' cpus='0,2' memory='64' unit='MiB'/><cell id='1' cpus='1,3' memory='64' unit='MiB'/></numa></cpu>");
    await removeVm(vm);
    const file = join(dir, 'cells.xml');
    writeFileSync(file, cellsXml);
    made.add(vm);
    await virsh('define', '--file', file);
    await virsh('start', '--domain', vm);
    // What libvirt 9.0 allows (measured): `virsh numatune` knows the VM-wide nodeset only.
    expect(await virsh('help', 'numatune')).to.not.match(/memnode|cellid/);
    const { d } = daemonOn([vm], { persistConfig: true, shares: { enabled: false } });
    const reports = [];
    for (let c = 0; c < 4; c++) reports.push(await d.runCycle());
    const memnodeSteps = reports.flatMap((r) => r.applied).filter((s) => s.vm === vm && s.kind === 'setMemnode');
    expect(memnodeSteps).to.deep.equal([{ vm, kind: 'setMemnode', cellid: 0, nodeset: '0' }, { vm, kind: 'setMemnode', cellid: 1, nodeset: '0' }]);
    expect(reports.flatMap((r) => r.failed)).to.deep.equal([]);
    const inactive = await virsh('dumpxml', '--inactive', '--domain', vm);
    expect(inactive).to.contain("<memnode cellid='0' mode='restrictive' nodeset='0'/>").and.to.contain("<memnode cellid='1' mode='restrictive' nodeset='0'/>");
    expect(await virsh('dumpxml', '--domain', vm), 'the running VM keeps its own (no live path)').to.not.contain('<memnode');
    expect((await virsh('domstate', '--domain', vm)).trim()).to.equal('running');
    expect(reports[3].steps.filter((s) => s.vm === vm), 'converged: nothing more to write').to.deep.equal([]);
    expect(reports[3].excludedVms, 'its own memnodes do not make it foreign').to.equal(0);
    // A live request is refused by numaplace before libvirt is asked.
    const backend = new VirshBackend({ uri: TEST_URI, timeoutMs: 60_000 });
    const live = await backend.setMemnode(vm, 1, '0', { live: true, config: false }).then(() => null, (e: Error) => e);
    expect(live?.name).to.equal('LimitationError');
    // And the rule memnode-xml.ts follows: a restrictive VM needs restrictive memnodes (define refuses a strict one).
    const strict = join(dir, 'cells-strict.xml');
    writeFileSync(strict, inactive.replace("<memnode cellid='1' mode='restrictive' nodeset='0'/>", "<memnode cellid='1' mode='strict' nodeset='0'/>"));
    const refused = await virsh('define', '--file', strict).then(() => '', (e: Error & { stderr?: string }) => e.stderr ?? e.message);
    expect(refused).to.contain("'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element");
    issue12Case('item 3: guest cells on real QEMU', 'each cell\'s memnode written to the persistent definition by define while the VM runs (libvirt 9.0: no live memnode change), then converged, not foreign');
  });
});
