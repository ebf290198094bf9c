/**
 * VirshBackend against a fake virsh (test/helpers/fake-virsh.ts) answering with outputs captured
 * from the real test VMs: sampling, process counts, a vanishing domain, truncated XML, a hang,
 * and the exact arguments of every action.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { InvalidRequestError, LimitationError, DomainGoneError, VirshOutputError } from '../../src/host/virsh-errors.js';
import { qemuPidFileNames, readQemuPid, VirshBackend } from '../../src/host/virsh-backend.js';
import { VirshError } from '../../src/host/virsh-exec.js';
import { errorFixture, FakeVirsh, fixture, type FakeResponse } from '../helpers/fake-virsh.js';

const ODD = `numaplace-test-it's "odd"; $(touch numaplace-pwned) x`;
const LIVE = { live: true, config: false };

function baseResponses(): Record<string, FakeResponse> {
  const r: Record<string, FakeResponse> = {
    capabilities: { stdout: fixture('capabilities.xml') },
    'freecell --cellno 0': { stdout: fixture('freecell-cellno-0.txt') },
    'domstats --raw --state --vcpu --cpu-total --balloon': { stdout: fixture('domstats-with-shutoff.txt') },
    'list --all --uuid --name': { stdout: fixture('list-uuid-name.txt') },
    'list --all --persistent --uuid': { stdout: fixture('list-persistent-uuid.txt') },
    'dumpxml --domain numaplace-test-busy': { stdout: fixture('dumpxml-busy-inactive.xml') },
    'dumpxml --domain numaplace-test-idle': { stdout: fixture('dumpxml-idle-live.xml') },
    'dumpxml --domain numaplace-test-numa': { stdout: fixture('dumpxml-numa-dimm-live.xml') },
    [`dumpxml --domain ${ODD}`]: { stdout: fixture('dumpxml-odd-live.xml') },
  };
  for (const vm of ['numaplace-test-idle', 'numaplace-test-numa', ODD]) {
    r[`vcpupin --domain ${vm}`] = { stdout: fixture(vm === 'numaplace-test-idle' ? 'vcpupin-idle-live.txt' : 'vcpupin-numa-live.txt') };
    r[`emulatorpin --domain ${vm}`] = { stdout: fixture(vm === ODD ? 'emulatorpin-pinned.txt' : 'emulatorpin-default.txt') };
    r[`numatune --domain ${vm}`] = { stdout: fixture(vm === 'numaplace-test-numa' ? 'numatune-restrictive.txt' : 'numatune-strict-default.txt') };
    r[`schedinfo --domain ${vm}`] = { stdout: fixture('schedinfo-live.txt') };
    r[`vcpuinfo --domain ${vm}`] = { stdout: fixture('vcpuinfo-numa.txt') };
    r[`domjobinfo --domain ${vm}`] = { stdout: fixture('domjobinfo-none.txt') };
  }
  return r;
}

describe('VirshBackend (fake virsh replaying real outputs)', function () {
  this.timeout(20000);
  let fake: FakeVirsh;
  const backend = (extra: Partial<ConstructorParameters<typeof VirshBackend>[0]> = {}) =>
    new VirshBackend({ uri: 'qemu:///system', binary: fake.binary, readNumaMaps: false, ...extra });
  afterEach(() => fake?.remove());

  it('samples every VM: running ones from live queries, the shut-off one from its XML', async () => {
    fake = new FakeVirsh({ responses: baseResponses() });
    const s = await backend().sample();
    expect(s.skipped).to.deep.equal([]);
    expect(s.topology.nodes.map((n) => n.id)).to.deep.equal([0]);
    const byName = new Map(s.vms.map((v) => [v.name, v]));
    expect([...byName.keys()]).to.have.members([ODD, 'numaplace-test-idle', 'numaplace-test-busy', 'numaplace-test-numa']);
    const idle = byName.get('numaplace-test-idle')!;
    expect(idle).to.deep.include({ state: 'running', running: true, persistent: true, vcpusCurrent: 1, vcpusMax: 4, cpuShares: 2048, memoryMiB: 128 });
    expect(idle.vcpuPins).to.deep.equal(['1', '0-1', '0-1', '0-1']);
    expect(idle.vcpuTimeNs[0]).to.be.a('number');
    expect(idle.vcpuTimeNs.slice(1)).to.deep.equal([null, null, null]);
    expect(idle.vcpuLastCpu).to.have.length(4);
    expect(idle.metadata).to.deep.equal({ exclude: 'true', weight: '2', class: 'gold' });
    expect(idle.numatune).to.deep.equal({ mode: 'strict', nodeset: '0' });
    const busy = byName.get('numaplace-test-busy')!;
    expect(busy).to.deep.include({ state: 'shutoff', running: false, vcpuPins: [null], cpuShares: null, vcpuTimeNs: [null] });
    const numa = byName.get('numaplace-test-numa')!;
    expect(numa).to.deep.include({ maxMemoryMiB: 1024, maxMemorySlots: 16, usedMemorySlots: 1, coresPerSocket: 2 });
    expect(numa.numatune).to.deep.equal({ mode: 'restrictive', nodeset: '0' });
    expect(numa.guestCells).to.have.length(2);
    expect(byName.get(ODD)!.emulatorPin).to.equal('0');
  });

  it('costs 2 virsh processes per cycle (3 on the first: capabilities), whatever the VM count', async () => {
    const perCycle: number[] = [];
    for (const n of [1, 25]) {
      const r = baseResponses();
      const names = Array.from({ length: n }, (_, i) => `vm ${i}; 'q'`);
      const idleBlock = fixture('domstats-with-shutoff.txt').split('\n\n').find((b) => b.includes("'numaplace-test-idle'"))!;
      r['domstats --raw --state --vcpu --cpu-total --balloon'] = {
        stdout: names.map((v) => idleBlock.replace("'numaplace-test-idle'", `'${v}'`)).join('\n\n') + '\n\n',
      };
      r['list --all --uuid --name'] = { stdout: names.map((v, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')} ${v}`).join('\n') + '\n' };
      for (const v of names) {
        for (const k of ['vcpupin', 'emulatorpin', 'numatune', 'schedinfo', 'vcpuinfo', 'domjobinfo']) {
          r[`${k} --domain ${v}`] = r[`${k} --domain numaplace-test-idle`];
        }
        r[`dumpxml --domain ${v}`] = { stdout: fixture('dumpxml-idle-live.xml').replace('<name>numaplace-test-idle</name>', `<name>${v.replace(/'/g, '&apos;')}</name>`) };
      }
      fake = new FakeVirsh({ responses: r });
      const b = backend();
      const first = await b.sample();
      expect(first.vms).to.have.length(n);
      expect(b.stats().calls).to.equal(3);
      await b.sample();
      perCycle.push(b.stats().calls - 3);
      // The second cycle asks no dumpxml (cached), the first asked one per VM, in the same process.
      const calls = fake.calls();
      expect(calls[2][2].match(/'dumpxml'/g)).to.have.length(n);
      expect(calls[4][2]).to.not.contain("'dumpxml'");
      expect(calls).to.have.length(5);
      fake.remove();
    }
    expect(perCycle).to.deep.equal([2, 2]);
  });

  it('a domain that disappears between the list and the per-VM batch is skipped with DomainGoneError', async () => {
    const r = baseResponses();
    for (const k of ['vcpupin', 'emulatorpin', 'numatune', 'schedinfo', 'vcpuinfo', 'domjobinfo', 'dumpxml']) {
      r[`${k} --domain numaplace-test-numa`] = { stderr: "error: failed to get domain 'numaplace-test-numa'\n", exit: 1 };
    }
    fake = new FakeVirsh({ responses: r });
    const s = await backend().sample();
    expect(s.vms.map((v) => v.name)).to.not.include('numaplace-test-numa');
    expect(s.vms).to.have.length(3);
    expect(s.skipped).to.have.length(1);
    expect(s.skipped[0].vm).to.equal('numaplace-test-numa');
    expect(s.skipped[0].error).to.be.instanceOf(DomainGoneError);
  });

  it('a domain in domstats but gone from the list just after is skipped with DomainGoneError', async () => {
    const r = baseResponses();
    r['list --all --uuid --name'] = { stdout: fixture('list-uuid-name.txt').split('\n').filter((l) => !l.includes('numaplace-test-busy')).join('\n') };
    fake = new FakeVirsh({ responses: r });
    const s = await backend().sample();
    expect(s.skipped.map((x) => [x.vm, x.error.constructor.name])).to.deep.equal([['numaplace-test-busy', 'DomainGoneError']]);
  });

  it('truncated XML for one VM: that VM is skipped with a VirshOutputError', async () => {
    const r = baseResponses();
    const xml = fixture('dumpxml-idle-live.xml');
    r['dumpxml --domain numaplace-test-idle'] = { stdout: xml.slice(0, 400) };
    fake = new FakeVirsh({ responses: r });
    const s = await backend().sample();
    expect(s.skipped).to.have.length(1);
    expect(s.skipped[0].error).to.be.instanceOf(VirshOutputError);
    expect(s.skipped[0].error.message).to.match(/dumpxml of "numaplace-test-idle": malformed XML/);
  });

  it('a virsh that dies part-way through the batch: VirshOutputError for the whole sample', async () => {
    fake = new FakeVirsh({ responses: baseResponses() });
    const b = backend();
    await b.sample();
    fake.configure({ responses: baseResponses(), dieAfter: 3 });
    try {
      await b.sample();
      expect.fail('should have thrown');
    } catch (e) {
      expect(e).to.be.instanceOf(VirshError); // exit status 1 of the dying process
    }
    fake.configure({ responses: { ...baseResponses(), 'freecell --cellno 0': { stdout: '' } } });
    try {
      await b.sample();
      expect.fail('should have thrown');
    } catch (e) {
      expect(e).to.be.instanceOf(VirshError);
      expect((e as VirshError).stderr).to.match(/empty output/);
    }
  });

  it('a hanging virsh is killed after timeoutMs: VirshError with timedOut', async () => {
    fake = new FakeVirsh({ responses: {}, hang: true });
    const t0 = Date.now();
    try {
      await backend({ timeoutMs: 500 }).sample();
      expect.fail('should have thrown');
    } catch (e) {
      expect(e).to.be.instanceOf(VirshError);
      expect((e as VirshError).timedOut).to.equal(true);
    }
    expect(Date.now() - t0).to.be.lessThan(10000);
  });

  it('stderr in the name-free batch (e.g. connection lost) fails the sample', async () => {
    const r = baseResponses();
    r['list --all --persistent --uuid'] = { stderr: 'error: Disconnected from qemu:///system due to end of file\n', exit: 1 };
    fake = new FakeVirsh({ responses: r });
    try {
      await backend().sample();
      expect.fail('should have thrown');
    } catch (e) {
      expect(e).to.be.instanceOf(VirshError);
      expect((e as Error).message).to.match(/Disconnected/);
    }
  });

  describe('actions', () => {
    it('pass the VM name as one argv element, with --live and --config as asked', async () => {
      fake = new FakeVirsh({ responses: {
        [`vcpupin --domain ${ODD} --vcpu 1 --cpulist 0,2-3 --live`]: {},
        [`emulatorpin --domain ${ODD} --cpulist 1 --live --config`]: {},
        [`metadata --domain ${ODD} --uri https://numaplace.dev/xmlns/written/1 --key npw --set <written tune="yes"/> --config`]: {},
        [`numatune --domain ${ODD} --nodeset 0 --live`]: {},
        [`schedinfo --domain ${ODD} --set cpu_shares=2048 --config`]: {},
        [`setvcpus --domain ${ODD} --count 2 --live --config`]: {},
      } });
      const b = backend();
      await b.pinVcpu(ODD, 1, '0-3,^1', LIVE);
      await b.pinEmulator(ODD, '1', { live: true, config: true });
      await b.setNodeset(ODD, '0', LIVE);
      await b.setShares(ODD, 2048, { live: false, config: true });
      await b.setVcpus(ODD, 2, { live: true, config: true });
      expect(fake.calls().map((c) => c.slice(2))).to.deep.equal([
        ['vcpupin', '--domain', ODD, '--vcpu', '1', '--cpulist', '0,2-3', '--live'],
        // A pin written to the persistent definition: numaplace marks the definition as its own first.
        ['metadata', '--domain', ODD, '--uri', 'https://numaplace.dev/xmlns/written/1', '--key', 'npw', '--set', '<written tune="yes"/>', '--config'],
        ['emulatorpin', '--domain', ODD, '--cpulist', '1', '--live', '--config'],
        ['numatune', '--domain', ODD, '--nodeset', '0', '--live'],
        ['schedinfo', '--domain', ODD, '--set', 'cpu_shares=2048', '--config'],
        ['setvcpus', '--domain', ODD, '--count', '2', '--live', '--config'],
      ]);
      expect(b.stats()).to.deep.equal({ calls: 6, errors: 0, numaMapsErrors: 0 });
      expect(existsSync('numaplace-pwned')).to.equal(false);
    });

    it('attachMemory writes the dimm XML to a private temp file and removes it', async () => {
      fake = new FakeVirsh({ responses: {} });
      const r: Record<string, FakeResponse> = {};
      fake.configure({ responses: r });
      // The file name is random: accept any attach-device call by answering from a catch-all below.
      const b = backend();
      try { await b.attachMemory('vm1', { MiB: 128, guestNode: 1, sourceNodes: '0' }, LIVE); } catch { /* no canned answer */ }
      const call = fake.calls()[0].slice(2);
      expect(call.slice(0, 4)).to.deep.equal(['attach-device', '--domain', 'vm1', '--file']);
      expect(call.slice(5)).to.deep.equal(['--live']);
      expect(existsSync(call[4])).to.equal(false);
      expect(fake.attachedFiles()).to.equal(
        "<memory model='dimm'>\n  <source>\n    <nodemask>0</nodemask>\n  </source>\n  <target>\n    <size unit='MiB'>128</size>\n    <node>1</node>\n  </target>\n</memory>\n",
      );
    });

    it('map libvirt refusals to typed errors: strict numatune -> LimitationError, not retryable', async () => {
      fake = new FakeVirsh({ responses: {
        'numatune --domain vm1 --nodeset 1 --live': { stderr: errorFixture('numatune-strict-live-nodeset.txt'), exit: 1 },
        'vcpupin --domain vm1 --vcpu 0 --cpulist 5 --live': { stderr: errorFixture('vcpupin-cpu-too-high.txt'), exit: 1 },
        'setvcpus --domain gone --count 2 --live': { stderr: errorFixture('domain-not-found.txt'), exit: 1 },
      } });
      const b = backend();
      const caught = async (p: Promise<unknown>) => p.then(() => expect.fail('should throw'), (e: unknown) => e as Error);
      const lim = await caught(b.setNodeset('vm1', '1', LIVE));
      expect(lim).to.be.instanceOf(LimitationError);
      expect(lim.message).to.match(/restrictive/).and.match(/limitation of this VM/);
      expect(await caught(b.pinVcpu('vm1', 0, '5', LIVE))).to.be.instanceOf(InvalidRequestError);
      expect(await caught(b.setVcpus('gone', 2, LIVE))).to.be.instanceOf(DomainGoneError);
      expect(b.stats()).to.deep.equal({ calls: 3, errors: 3, numaMapsErrors: 0 });
    });

    it('reject bad values before running virsh', async () => {
      fake = new FakeVirsh({ responses: {} });
      const b = backend();
      for (const p of [
        b.setShares('vm1', 1, LIVE), b.setShares('vm1', 262145, LIVE), b.setShares('vm1', 2.5, LIVE),
        b.pinVcpu('vm1', -1, '0', LIVE), b.pinVcpu('vm1', 0, '3-1', LIVE), b.setNodeset('vm1', '', LIVE),
        b.setVcpus('vm1', 0, LIVE), b.attachMemory('vm1', { MiB: 0, guestNode: 0 }, LIVE),
        b.pinEmulator('vm1', '0', { live: false, config: false }),
      ]) {
        await p.then(() => expect.fail('should throw'), (e: unknown) => expect(e).to.be.instanceOf(InvalidRequestError));
      }
      expect(fake.calls()).to.deep.equal([]);
      await b.setShares('vm1', 2, LIVE).catch(() => undefined);
      await b.setShares('vm1', 262144, LIVE).catch(() => undefined);
      expect(fake.calls().map((c) => c[6])).to.deep.equal(['cpu_shares=2', 'cpu_shares=262144']);
    });
  });
});

describe('QEMU pid files', () => {
  it('tries the plain and the XML-escaped name (libvirt 9.0 escapes it in the pid file name)', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    expect(qemuPidFileNames(ODD)).to.deep.equal([`${ODD}.pid`, 'numaplace-test-it&apos;s &quot;odd&quot;; $(touch numaplace-pwned) x.pid']);
    expect(qemuPidFileNames('plain')).to.deep.equal(['plain.pid']);
    const dir = mkdtempSync(join(tmpdir(), 'numaplace-pid-'));
    try {
      writeFileSync(join(dir, qemuPidFileNames(ODD)[1]), '4242\n');
      expect(await readQemuPid(dir, ODD)).to.equal(4242);
      expect(await readQemuPid(dir, 'absent')).to.equal(undefined);
      writeFileSync(join(dir, 'junk.pid'), 'not a pid');
      expect(await readQemuPid(dir, 'junk')).to.equal(undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
