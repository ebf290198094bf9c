import { expect } from 'chai';
import { HostActionError, HostLimitationError } from '../../src/host/errors.js';
import { createSimulatedBackend, type SimulatedBackend } from '../../src/sim/index.js';

const LIVE = { live: true, config: false };
const TICK_NS = 10e9;

function host(vms: Record<string, unknown>[], top: Record<string, unknown> = {}): SimulatedBackend {
  return createSimulatedBackend({ seed: 7, topology: '2x8', tickSeconds: 10, vms, ...top });
}

/** Busy ns per online vCPU over the next tick. */
async function busyOverTick(b: SimulatedBackend, vm: string): Promise<number[]> {
  const before = (await b.sample()).vms.find((v) => v.name === vm)!.vcpuTimeNs;
  const after = (await b.sample()).vms.find((v) => v.name === vm)!.vcpuTimeNs;
  return after.filter((x): x is number => x !== null).map((x, i) => x - (before[i] ?? 0));
}

describe('simulated host: CPU', () => {
  it('pins move load: CPU use follows the vCPUs to the node they are pinned on', async () => {
    const b = host([{ name: 'a', vcpus: 4, memoryMiB: 1024, load: { kind: 'steady', level: 0.5 }, placement: { vcpuPins: '0-7', nodeset: '0', mode: 'restrictive' } }]);
    await b.sample();
    expect(b.hostMetrics().nodes.map((n) => n.cpuUse)).to.deep.equal([0.25, 0]);
    for (let v = 0; v < 4; v++) await b.pinVcpu('a', v, '8-15', LIVE);
    const s = await b.sample();
    expect(b.hostMetrics().nodes.map((n) => n.cpuUse)).to.deep.equal([0, 0.25]);
    expect(s.vms[0].vcpuPins).to.deep.equal(['8-15', '8-15', '8-15', '8-15']);
    for (const cpu of s.vms[0].vcpuLastCpu) expect(cpu).to.be.within(8, 15);
    expect(b.hostMetrics().vcpuMoves).to.equal(4);
    // Remote now: memory stayed on node 0, so the quality measure doubles (distance 21 vs 10).
    expect(b.hostMetrics().vms[0].localAccessShare).to.equal(0);
    expect(b.hostMetrics().quality.ratio).to.be.closeTo(2.1, 1e-9);
  });

  it('unpinned vCPUs spread over every node', async () => {
    const b = host([{ name: 'a', vcpus: 2, memoryMiB: 1024, load: { kind: 'steady', level: 0.8 } }]);
    await b.sample();
    const [n0, n1] = b.hostMetrics().nodes.map((n) => n.cpuUse);
    expect(n0).to.be.closeTo(0.1, 1e-9);
    expect(n1).to.be.closeTo(0.1, 1e-9);
    expect((await b.sample()).vms[0].vcpuPins[0]).to.equal('0-15');
  });

  it('contention caps busy time: 4 saturated vCPUs on 2 CPUs get half a CPU each', async () => {
    const b = host([{ name: 'a', vcpus: 4, memoryMiB: 1024, load: { kind: 'steady', level: 1 }, placement: { vcpuPins: '0-1' } }]);
    const busy = await busyOverTick(b, 'a');
    expect(busy).to.deep.equal([0.5, 0.5, 0.5, 0.5].map((f) => f * TICK_NS));
    expect(b.hostMetrics().unmetDemand).to.be.closeTo(2, 1e-9);
    // Spread over the node instead: no contention.
    for (let v = 0; v < 4; v++) await b.pinVcpu('a', v, '0-7', LIVE);
    expect(await busyOverTick(b, 'a')).to.deep.equal([TICK_NS, TICK_NS, TICK_NS, TICK_NS]);
  });

  it('light demand is met in full on a crowded CPU; cpu_shares split the rest', async () => {
    const b = host([
      { name: 'small', vcpus: 1, memoryMiB: 512, load: { kind: 'steady', level: 0.2 }, placement: { vcpuPins: '3' } },
      { name: 'gold', vcpus: 1, memoryMiB: 512, cpuShares: 3072, load: { kind: 'steady', level: 1 }, placement: { vcpuPins: '3' } },
      { name: 'plain', vcpus: 1, memoryMiB: 512, load: { kind: 'steady', level: 1 }, placement: { vcpuPins: '3' } },
    ]);
    await b.sample();
    const g = Object.fromEntries(b.hostMetrics().vms.map((v) => [v.name, v.granted]));
    expect(g.small).to.be.closeTo(0.2, 1e-9);
    expect(g.gold).to.be.closeTo(0.6, 1e-9);
    expect(g.plain).to.be.closeTo(0.2, 1e-9);
    await b.setShares('plain', 3072, LIVE);
    await b.sample();
    // Now 0.2 is more than small's fair share (1024 of 7168): all three split by weight.
    const g2 = Object.fromEntries(b.hostMetrics().vms.map((v) => [v.name, v.granted]));
    expect(g2.small).to.be.closeTo(1 / 7, 1e-9);
    expect(g2.gold).to.be.closeTo(3 / 7, 1e-9);
    expect(g2.plain).to.be.closeTo(3 / 7, 1e-9);
  });

  it('refuses pins to CPUs that are not online with virsh-like texts', async () => {
    const b = host([{ name: 'a', vcpus: 2, memoryMiB: 1024 }]);
    await expectRejects(b.pinVcpu('a', 0, '16', LIVE), HostActionError, /CPU 16 in cpulist '16' exceed the maxcpu 16/);
    await expectRejects(b.pinVcpu('a', 0, 'x', LIVE), HostActionError, /Invalid cpulist 'x'/);
    await expectRejects(b.pinVcpu('a', 2, '0', LIVE), HostActionError, /vcpu 2 is out of range of live cpu count 2/);
    await expectRejects(b.pinEmulator('a', '99', LIVE), HostActionError, /exceed the maxcpu 16/);
    await expectRejects(b.pinVcpu('nope', 0, '0', LIVE), HostActionError, /failed to get domain 'nope'/);
    await expectRejects(b.setShares('a', 262145, LIVE), HostActionError, /shares '262145' must be in range \[2, 262144\]/);
    expect(b.stats()).to.deep.equal({ calls: 6, errors: 6 });
    await b.pinEmulator('a', '0-1', LIVE);
    expect((await b.sample()).vms[0].emulatorPin).to.equal('0-1');
    expect(b.stats()).to.deep.equal({ calls: 8, errors: 6 });
  });
});

async function expectRejects(p: Promise<unknown>, type: new (...a: never[]) => Error, re: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(type);
    expect((e as Error).message).to.match(re);
    return e as Error;
  }
  throw new Error(`expected a rejection matching ${re}`);
}

describe('simulated host: memory', () => {
  it('memory migrates toward a new nodeset at the configured rate, partial moves visible', async () => {
    const b = host([{ name: 'a', vcpus: 1, memoryMiB: 4096, placement: { nodeset: '0', mode: 'restrictive' } }], { memoryMigrationMiBPerSecond: 100 });
    expect((await b.sample()).vms[0].memoryByNode).to.deep.equal({ 0: 4096 });
    await b.setNodeset('a', '1', LIVE);
    const s = await b.sample();
    expect(s.vms[0].memoryByNode).to.deep.equal({ 0: 3096, 1: 1000 });
    expect(s.vms[0].numatune).to.deep.equal({ mode: 'restrictive', nodeset: '1' });
    b.advance(30);
    expect((await b.sample()).vms[0].memoryByNode).to.deep.equal({ 1: 4096 });
    expect(b.hostMetrics().memoryMigratedMiB).to.equal(4096);
    // Free memory follows: node 0 got its 4096 MiB back (2x8 nodes have 32 GiB, 512 MiB host use by default).
    expect((await b.topology()).nodes.map((n) => n.freeMemoryMiB)).to.deep.equal([32768 - 512, 32768 - 512 - 4096]);
  });

  it('strict mode cannot change the nodeset live; no numatune takes one nodeset, then is strict (libvirt 9.0)', async () => {
    const b = host([
      { name: 's', vcpus: 1, memoryMiB: 1024, placement: { nodeset: '0', mode: 'strict' } },
      { name: 'none', vcpus: 1, memoryMiB: 1024 },
    ]);
    const e = await expectRejects(b.setNodeset('s', '1', LIVE), HostLimitationError, /requires restrictive numa mode/);
    expect((e as HostLimitationError).vm).to.equal('s');
    expect((await b.sample()).vms[1].numatune).to.deep.equal({ mode: 'strict', nodeset: null });
    await b.setNodeset('none', '1', LIVE);
    expect((await b.sample()).vms[1].numatune).to.deep.equal({ mode: 'strict', nodeset: '1' });
    await expectRejects(b.setNodeset('none', '0', LIVE), HostLimitationError, /requires restrictive numa mode/);
    await expectRejects(b.setNodeset('s', '5', LIVE), HostActionError, /NUMA node 5 is unavailable/);
    // Config-only changes are accepted and leave the running VM alone.
    await b.setNodeset('s', '1', { live: false, config: true });
    expect((await b.sample()).vms[0].numatune).to.deep.equal({ mode: 'strict', nodeset: '0' });
  });

  it('memory with nowhere to go stays put', async () => {
    const b = host([
      { name: 'big', vcpus: 1, memoryMiB: 31000, placement: { nodeset: '1', mode: 'restrictive' } },
      { name: 'a', vcpus: 1, memoryMiB: 2048, placement: { nodeset: '0', mode: 'restrictive' } },
    ], { memoryMigrationMiBPerSecond: 1000 });
    await b.setNodeset('a', '1', LIVE);
    b.advance(60);
    const a = (await b.sample()).vms.find((v) => v.name === 'a')!;
    expect(a.memoryByNode).to.deep.equal({ 0: 2048 - 1256, 1: 1256 });
  });

  it('attachMemory adds a dimm, checking guest nodes, maxMemory and slots with libvirt texts', async () => {
    const b = host([{
      name: 'h', vcpus: 2, memoryMiB: 1024, maxMemoryMiB: 2048, memorySlots: 2,
      guestCells: [{ id: 0, cpus: '0-1', memoryMiB: 1024 }], placement: { memoryByNode: { 1: 1024 } },
    }]);
    await expectRejects(b.attachMemory('h', { MiB: 128, guestNode: 3 }, LIVE), HostActionError, /guest node '3' as the guest has only '1' NUMA nodes configured/);
    await expectRejects(b.attachMemory('h', { MiB: 2048, guestNode: 0 }, LIVE), HostActionError, /Attaching memory device with size '2097152' would exceed domain's maxMemory config size '2097152'/);
    await b.attachMemory('h', { MiB: 256, guestNode: 0, sourceNodes: '1' }, LIVE);
    await b.attachMemory('h', { MiB: 256, guestNode: 0, sourceNodes: '0' }, LIVE);
    await expectRejects(b.attachMemory('h', { MiB: 256, guestNode: 0 }, LIVE), HostActionError, /memory device count '3' exceeds slots count '2'/);
    const s = (await b.sample()).vms[0];
    expect(s.memoryMiB).to.equal(1536);
    expect(s.usedMemorySlots).to.equal(2);
    expect(s.guestCells[0].memoryMiB).to.equal(1536);
    expect(s.memoryByNode).to.deep.equal({ 0: 256, 1: 1280 });
    const plain = host([{ name: 'p', vcpus: 1, memoryMiB: 1024 }]);
    await expectRejects(plain.attachMemory('p', { MiB: 128, guestNode: 0 }, LIVE), HostActionError, /'maxMemory' is not defined/);
  });

  it('balloon figures show a VM running short of memory, and a dimm relieves it', async () => {
    const b = host([{
      name: 'm', vcpus: 1, memoryMiB: 4096, maxMemoryMiB: 8192, memorySlots: 4, guestCells: [{ id: 0, cpus: '0', memoryMiB: 4096 }],
      memoryUse: { kind: 'steady', level: 1.1 },
    }]);
    const s = (await b.sample()).vms[0];
    expect(s.balloon?.availableKiB).to.equal(4096 * 1024);
    expect(s.balloon?.usableKiB).to.equal(0);
    await b.attachMemory('m', { MiB: 1024, guestNode: 0 }, LIVE);
    const s2 = (await b.sample()).vms[0];
    expect(s2.balloon?.usableKiB).to.equal(Math.round((5120 - 4096 * 1.1) * 1024));
    const none = host([{ name: 'n', vcpus: 1, memoryMiB: 1024 }]);
    expect((await none.sample()).vms[0].balloon?.usableKiB).to.equal(undefined);
  });
});

describe('simulated host: vCPU hot-plug and jobs', () => {
  it('hot-plugged vCPUs appear, get load from the trace and honour pins set while offline', async () => {
    const b = host([{ name: 'g', vcpus: { current: 2, max: 4 }, memoryMiB: 1024, load: { kind: 'saturating', from: 1, rampSeconds: 0 }, placement: { vcpuPins: '0-7' } }]);
    let s = (await b.sample()).vms[0];
    expect(s.vcpuTimeNs).to.deep.equal([TICK_NS, TICK_NS, null, null]);
    expect(s.vcpuLastCpu[3]).to.equal(null);
    await b.pinVcpu('g', 3, '12', LIVE);
    await b.setVcpus('g', 4, LIVE);
    s = (await b.sample()).vms[0];
    expect(s.vcpusCurrent).to.equal(4);
    expect(s.vcpuTimeNs).to.deep.equal([2 * TICK_NS, 2 * TICK_NS, TICK_NS, TICK_NS]);
    expect(s.vcpuLastCpu[3]).to.equal(12);
    expect(s.vcpuPins[3]).to.equal('12');
    await expectRejects(b.setVcpus('g', 5, LIVE), HostActionError, /requested vcpus is greater than max allowable vcpus for the live domain: 5 > 4/);
    await expectRejects(b.setVcpus('g', 2, LIVE), HostLimitationError, /device_del.*not supported device type/);
  });

  it('refuses hot-plug during a migration job, and an old machine type', async () => {
    const b = host([
      { name: 'mig', vcpus: { current: 1, max: 2 }, memoryMiB: 1024, jobs: [{ kind: 'migration', fromSeconds: 0, toSeconds: 25 }] },
      { name: 'old', vcpus: { current: 1, max: 2 }, memoryMiB: 1024, machine: 'pc-i440fx-1.4' },
    ]);
    expect((await b.sample()).vms[0].job).to.equal('migration');
    await expectRejects(b.setVcpus('mig', 2, LIVE), HostActionError, /cannot acquire state change lock/);
    await expectRejects(b.setVcpus('old', 2, LIVE), HostLimitationError, /pc-i440fx-1.4/);
    b.advance(20);
    expect((await b.sample()).vms[0].job).to.equal(undefined);
    await b.setVcpus('mig', 2, LIVE);
  });

  it('VMs arrive and depart on schedule', async () => {
    const b = host([
      { name: 'stay', vcpus: 1, memoryMiB: 1024 },
      { name: 'visit', vcpus: 1, memoryMiB: 4096, arriveAtSeconds: 20, departAtSeconds: 40, placement: { nodeset: '1' } },
    ]);
    const names = async () => (await b.sample()).vms.map((v) => v.name);
    expect(await names()).to.deep.equal(['stay']); // t=10
    expect(await names()).to.deep.equal(['stay', 'visit']); // t=20
    expect((await b.topology()).nodes[1].freeMemoryMiB).to.equal(32768 - 512 - 512 - 4096);
    expect(await names()).to.deep.equal(['stay', 'visit']); // t=30
    expect(await names()).to.deep.equal(['stay']); // t=40
    await expectRejects(b.setShares('visit', 100, LIVE), HostActionError, /failed to get domain 'visit'/);
  });
});

describe('simulated host: determinism', () => {
  async function run(seed?: number): Promise<unknown[]> {
    const b = createSimulatedBackend('overcommit-2x8', seed === undefined ? {} : { seed });
    const out: unknown[] = [];
    for (let i = 0; i < 30; i++) out.push(await b.sample());
    out.push(b.hostMetrics());
    return out;
  }

  it('the same seed gives the same trace twice', async () => {
    expect(await run()).to.deep.equal(await run());
  });

  it('another seed gives another trace (bursty loads are seeded)', async () => {
    expect(await run(99)).to.not.deep.equal(await run());
  });

  it('sample() advances one tick of simulated time', async () => {
    const b = createSimulatedBackend('steady-4x16');
    expect((await b.sample()).atMs).to.equal(10_000);
    b.advance(25);
    expect(b.now()).to.equal(35);
    expect((await b.sample()).atMs).to.equal(45_000);
  });
});

describe('simulated host: automatic NUMA balancing', () => {
  const vm = { name: 'a', vcpus: 2, memoryMiB: 4096, load: { kind: 'steady', level: 0.5 },
    placement: { nodeset: '0-1', mode: 'restrictive', memoryByNode: { 0: 1024, 1: 3072 } } };

  it('is off by default: unpinned vCPUs spread and memory stays where it is', async () => {
    const b = host([vm]);
    await b.sample();
    await b.sample();
    expect(b.hostMetrics().nodes.map((n) => n.cpuUse)).to.deep.equal([1 / 16, 1 / 16]);
    expect(b.hostMetrics().vms[0].memoryByNode).to.deep.equal({ 0: 1024, 1: 3072 });
  });

  it('runs the vCPUs on the node with most of the memory and pulls the rest there slowly', async () => {
    const b = host([vm], { numaBalancingMiBPerSecond: 16 });
    await b.sample();
    expect(b.hostMetrics().nodes.map((n) => n.cpuUse)).to.deep.equal([0, 1 / 8]);
    expect(b.hostMetrics().vms[0].memoryByNode).to.deep.equal({ 0: 864, 1: 3232 });
    expect(b.hostMetrics().memoryMigratedMiB).to.equal(160);
    for (let i = 0; i < 6; i++) await b.sample();
    expect(b.hostMetrics().vms[0].memoryByNode).to.deep.equal({ 1: 4096 });
    expect(b.hostMetrics().vms[0].localAccessShare).to.equal(1);
    expect(b.hostMetrics().memoryMigratedMiB).to.equal(1024);
  });

  it('spreads a vCPU whose preferred node has no CPU to spare, and leaves pinned vCPUs alone', async () => {
    const busy = { name: 'busy', vcpus: 8, memoryMiB: 1024, load: { kind: 'steady', level: 1 }, placement: { vcpuPins: '8-15', nodeset: '1', mode: 'restrictive' } };
    const b = host([busy, vm], { numaBalancingMiBPerSecond: 16 });
    await b.sample();
    const m = b.hostMetrics();
    expect(m.vms.find((v) => v.name === 'busy')!.memoryByNode).to.deep.equal({ 1: 1024 });
    // 'a' prefers node 1 (3 GiB there) but node 1 is full: it spreads, half of its load on node 0.
    expect(m.nodes[0].cpuUse).to.be.closeTo(0.5 / 8, 1e-9);
    // Its pages follow where it ran: half and half.
    expect(m.vms.find((v) => v.name === 'a')!.memoryByNode[0]).to.equal(1024 + 160);
  });
});

describe('simulated host: the guest side', () => {
  it('a guest that does not online hot-plugged vCPUs leaves them idle; the agent shows it', async () => {
    const b = host([
      { name: 'ignore', vcpus: { current: 1, max: 2 }, memoryMiB: 1024, guestAgent: true, guestOnlinesHotplug: false, load: { kind: 'steady', level: 1 } },
      { name: 'udev', vcpus: { current: 1, max: 2 }, memoryMiB: 1024, guestAgent: true, load: { kind: 'steady', level: 1 } },
      { name: 'noagent', vcpus: 1, memoryMiB: 1024 },
    ]);
    await b.setVcpus('ignore', 2, LIVE);
    await b.setVcpus('udev', 2, LIVE);
    const s = await b.sample();
    const by = Object.fromEntries(s.vms.map((v) => [v.name, v]));
    expect(by.ignore.vcpuTimeNs).to.deep.equal([TICK_NS, 0]);
    expect(by.ignore.guestVcpusOnline).to.deep.equal([0]);
    expect(by.udev.vcpuTimeNs).to.deep.equal([TICK_NS, TICK_NS]);
    expect(by.udev.guestVcpusOnline).to.deep.equal([0, 1]);
    expect(by.noagent.guestVcpusOnline).to.equal(undefined);
    expect(by.udev.hypervisorMaxVcpus).to.equal(255);
    expect(by.udev.threadsPerCore).to.equal(1);
  });

  it('virtio-net interfaces take memory slots', async () => {
    const b = host([{ name: 'n', vcpus: 1, memoryMiB: 1024, maxMemoryMiB: 4096, memorySlots: 16, virtioNetDevices: 63, guestCells: [{ id: 0, cpus: '0', memoryMiB: 1024 }] }]);
    await b.attachMemory('n', { MiB: 128, guestNode: 0 }, LIVE);
    await expectRejects(b.attachMemory('n', { MiB: 128, guestNode: 0 }, LIVE), HostActionError, /memory device count '2' exceeds slots count '1'/);
    expect((await b.sample()).vms[0].virtioNetDevices).to.equal(63);
  });

  it('refuses more vCPUs than the machine type allows', () => {
    expect(() => host([{ name: 'x', vcpus: 300, memoryMiB: 1024 }])).to.throw(/vms\[0\]\.vcpus: Maximum CPUs greater than specified machine type limit 255/);
  });
});

describe('simulated host: placement pays off', () => {
  it('steady-4x16: pinning every VM next to its memory brings the quality measure to all-local', async () => {
    const b = createSimulatedBackend('steady-4x16');
    const s = await b.sample();
    const before = b.hostMetrics();
    expect(before.quality.ratio).to.be.greaterThan(1.5);
    for (const vm of s.vms) {
      const node = Number(vm.numatune!.nodeset);
      const cpuset = s.topology.nodes[node].cpus;
      for (let v = 0; v < vm.vcpusMax; v++) await b.pinVcpu(vm.name, v, `${cpuset[0]}-${cpuset[cpuset.length - 1]}`, LIVE);
    }
    await b.sample();
    const after = b.hostMetrics();
    expect(after.quality.ratio).to.be.closeTo(1, 1e-9);
    expect(after.vms.every((v) => v.localAccessShare === 1 || v.granted === 0)).to.equal(true);
    expect(after.unmetDemand).to.be.closeTo(0, 1e-9);
    expect(after.vcpuMoves).to.be.greaterThan(50);
  });
});
