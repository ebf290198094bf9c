import { expect } from 'chai';
import { DEFAULT_HOTPLUG_CONFIG } from '../../../src/hotplug/config.js';
import type { NodeRoom } from '../../../src/hotplug/host-room.js';
import { cellHostNodes, decideMemoryGrowth, memoryShortRatio, memoryUnitMiB, type MemoryDecision, type MemoryRequest } from '../../../src/hotplug/memory-decision.js';
import type { VmSample } from '../../../src/host/backend.js';
import { syntheticTopology } from '../../../src/topology/synthetic.js';
import { vm } from './fixtures.js';
import { viewOf } from '../../helpers/fake-host.js';

const CFG = DEFAULT_HOTPLUG_CONFIG.memory;
const TOPO = syntheticTopology('2x8');
const ROOMY: NodeRoom[] = [
  { node: 0, capacity: 8, used: 0, freeMemoryMiB: 20000 },
  { node: 1, capacity: 8, used: 0, freeMemoryMiB: 30000 },
];

/** A 2-cell VM: cell 0 on host node 0, cell 1 on host node 1 (memnodes). */
function twoCell(over: Partial<VmSample> = {}): VmSample {
  return vm({
    guestCells: [
      { id: 0, cpus: [0, 1, 2, 3], memoryMiB: 2048 },
      { id: 1, cpus: [4, 5, 6, 7], memoryMiB: 2048 },
    ],
    memnodes: [
      { cellid: 0, mode: 'strict', nodeset: '0' },
      { cellid: 1, mode: 'strict', nodeset: '1' },
    ],
    ...over,
  });
}

function decide(v: VmSample, rooms = ROOMY, cfg = CFG, req: MemoryRequest = {}): MemoryDecision {
  return decideMemoryGrowth(v, viewOf({ topology: TOPO }), rooms, cfg, req);
}

function refused(d: MemoryDecision): { code: string; message: string } {
  if (d.ok) throw new Error(`expected a refusal, got ${d.MiB} MiB on guest node ${d.guestNode}`);
  return d;
}

describe('hotplug: memory growth decision', () => {
  it('trigger ratio: usable / available from the balloon; unknown without guest stats', () => {
    expect(memoryShortRatio(vm({ balloon: { availableKiB: 1000, usableKiB: 50 } }))).to.equal(0.05);
    expect(memoryShortRatio(vm({ balloon: { currentKiB: 1000 } }))).to.equal(null);
    expect(memoryShortRatio(vm({ balloon: undefined }))).to.equal(null);
  });

  it('adds stepMiB on the guest cell whose host node has the most free memory, nodemask = that node', () => {
    const d = decide(twoCell());
    expect(d).to.deep.include({ ok: true, MiB: 1024, guestNode: 1, hostNode: 1, sourceNodes: '1' });
  });

  it('a cell without memnode sits where its vCPUs run', () => {
    const v = twoCell({ memnodes: [], vcpuPins: [...Array(4).fill('0-7'), ...Array(4).fill('8-15')], vcpusCurrent: 8 });
    expect([...cellHostNodes(v, viewOf({ topology: TOPO }))]).to.deep.equal([
      [0, 0],
      [1, 1],
    ]);
  });

  describe('size', () => {
    it('rounded up to a multiple of the guest block size', () => {
      const d = decide(twoCell(), ROOMY, { ...CFG, stepMiB: 1000, blockSizeMiB: 128 });
      expect(d.ok && d.MiB).to.equal(1024);
    });
    it('and of the huge page size when huge pages are used (1 GiB pages)', () => {
      expect(memoryUnitMiB(vm({ hugepageKiB: 1048576 }), 128)).to.equal(1024);
      const d = decide(twoCell({ hugepageKiB: 1048576 }), ROOMY, { ...CFG, stepMiB: 512 });
      expect(d.ok && d.MiB).to.equal(1024);
    });
    it('2 MiB huge pages do not change a 128 MiB block multiple', () => {
      expect(memoryUnitMiB(vm({ hugepageKiB: 2048 }), 128)).to.equal(128);
    });
    it('an explicit size that is not a block multiple is refused: block-size', () => {
      const r = refused(decide(twoCell(), ROOMY, CFG, { MiB: 100 }));
      expect(r.code).to.equal('block-size');
      expect(r.message).to.contain('128 MiB');
    });
    it('an explicit size that is not a huge page multiple is refused: hugepage-size', () => {
      const r = refused(decide(twoCell({ hugepageKiB: 1048576 }), ROOMY, CFG, { MiB: 512 }));
      expect(r.code).to.equal('hugepage-size');
      expect(r.message).to.contain('1024 MiB');
    });
  });

  describe("the seed's constraints, one refusal each", () => {
    it('machine-too-old', () => {
      expect(refused(decide(twoCell({ machine: 'pc-i440fx-1.4' }))).code).to.equal('machine-too-old');
    });
    it('no-guest-numa: memory hot-plug needs guest NUMA', () => {
      const r = refused(decide(vm({ guestCells: [] })));
      expect(r.code).to.equal('no-guest-numa');
      expect(r.message).to.contain('<cell>');
    });
    it('no-memory-hotplug: no <maxMemory slots>', () => {
      expect(refused(decide(twoCell({ maxMemorySlots: undefined }))).code).to.equal('no-memory-hotplug');
    });
    it('no-free-slots: every slot used', () => {
      expect(refused(decide(twoCell({ maxMemorySlots: 4, usedMemorySlots: 4 }))).code).to.equal('no-free-slots');
    });
    it('no-free-slots: n virtio-net devices leave min(slots, 64 - n)', () => {
      const v = twoCell({ maxMemorySlots: 256, usedMemorySlots: 60, virtioNetDevices: 4 });
      const r = refused(decide(v));
      expect(r.code).to.equal('no-free-slots');
      expect(r.message).to.contain('64 - 4');
      expect(decide(twoCell({ maxMemorySlots: 256, usedMemorySlots: 59, virtioNetDevices: 4 })).ok).to.equal(true);
    });
    it('max-memory: less than one block left below maxMemory', () => {
      const r = refused(decide(twoCell({ memoryMiB: 4096, maxMemoryMiB: 4096 + 64 })));
      expect(r.code).to.equal('max-memory');
      expect(r.message).to.contain('64 MiB left');
    });
    it('max-memory shrinks the step to what is left, in whole blocks', () => {
      const d = decide(twoCell({ memoryMiB: 4096, maxMemoryMiB: 4096 + 300 }));
      expect(d.ok && d.MiB).to.equal(256);
    });
    it('hugepage-size: room for blocks but not for one huge page', () => {
      const r = refused(decide(twoCell({ hugepageKiB: 1048576, memoryMiB: 4096, maxMemoryMiB: 4096 + 512 })));
      expect(r.code).to.equal('hugepage-size');
    });
    it('ratio-1-32: the guest needs 1/32 of the added memory available', () => {
      // 16 MiB usable -> at most 512 MiB; a 1024 MiB explicit request is refused...
      const v = twoCell({ balloon: { availableKiB: 4096 * 1024, usableKiB: 16 * 1024 } });
      const r = refused(decide(v, ROOMY, CFG, { MiB: 1024 }));
      expect(r.code).to.equal('ratio-1-32');
      expect(r.message).to.contain('1:32');
      // ...the automatic step shrinks to 512 MiB, and below one block it is refused.
      expect((decide(v) as { MiB: number }).MiB).to.equal(512);
      const tiny = twoCell({ balloon: { availableKiB: 4096 * 1024, usableKiB: 2 * 1024 } });
      expect(refused(decide(tiny)).code).to.equal('ratio-1-32');
    });
    it('an explicit request for a guest without balloon stats is not refused by the 1:32 rule, but warns', () => {
      const d = decide(twoCell({ balloon: undefined }), ROOMY, CFG, { MiB: 256 });
      expect(d.ok).to.equal(true);
      if (d.ok) expect(d.warnings.join()).to.contain('1:32 rule could not be checked');
    });
    it("windows-first-dimm-node0: a Windows guest's first dimm goes to guest node 0", () => {
      const win = twoCell({ osType: 'windows' });
      const d = decide(win);
      expect(d.ok && d.guestNode).to.equal(0);
      const r = refused(decide(win, ROOMY, CFG, { guestNode: 1 }));
      expect(r.code).to.equal('windows-first-dimm-node0');
      // Once it has a dimm, any node goes.
      expect((decide(twoCell({ osType: 'windows', usedMemorySlots: 1 })) as { guestNode: number }).guestNode).to.equal(1);
    });
    it('vhost-user: excluded', () => {
      const r = refused(decide(twoCell({ hasVhostUser: true })));
      expect(r.code).to.equal('vhost-user');
      expect(r.message).to.contain('vhost-user');
    });
    it('host-memory: no host node under the guest cells has room', () => {
      const tight: NodeRoom[] = [
        { node: 0, capacity: 8, used: 0, freeMemoryMiB: 100 },
        { node: 1, capacity: 8, used: 0, freeMemoryMiB: 64 },
      ];
      const r = refused(decide(twoCell(), tight));
      expect(r.code).to.equal('host-memory');
      expect(r.message).to.contain('host node 1: 64 MiB free');
    });
    it('host free memory shrinks the step to what the node has', () => {
      const some: NodeRoom[] = [
        { node: 0, capacity: 8, used: 0, freeMemoryMiB: 700 },
        { node: 1, capacity: 8, used: 0, freeMemoryMiB: 64 },
      ];
      expect(decide(twoCell(), some)).to.deep.include({ ok: true, MiB: 640, guestNode: 0, sourceNodes: '0' });
    });
    it('job-running', () => {
      expect(refused(decide(twoCell({ job: 'migration' }))).code).to.equal('job-running');
    });
    it('no-such-guest-node: an explicit guest node the VM does not have', () => {
      expect(refused(decide(twoCell(), ROOMY, CFG, { guestNode: 5 })).code).to.equal('no-such-guest-node');
    });
    it('Linux with initial memory under 4 GiB: a warning, not a refusal (documented decision)', () => {
      const small = twoCell({
        osType: 'linux',
        memoryMiB: 2048,
        guestCells: [
          { id: 0, cpus: [0, 1, 2, 3], memoryMiB: 1024 },
          { id: 1, cpus: [4, 5, 6, 7], memoryMiB: 1024 },
        ],
      });
      const d = decide(small);
      expect(d.ok).to.equal(true);
      if (d.ok) expect(d.warnings.join()).to.contain('2048 MiB initial memory').and.to.contain('4096 MiB');
      const big = twoCell({ osType: 'linux', guestCells: [{ id: 0, cpus: [0, 1, 2, 3, 4, 5, 6, 7], memoryMiB: 4096 }] });
      const d2 = decide(big);
      expect(d2.ok && d2.warnings).to.deep.equal([]);
    });
  });
});
