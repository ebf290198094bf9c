import { expect } from 'chai';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryNodesets, placeGuestMemory } from '../../src/host/guest-memory.js';
import { FakeProcessPages } from '../helpers/fake-process-pages.js';

const PID = 249;
const MiB = 1048576;
/** The lab capture of VM "wide" (two cells of 400 MiB): ram-node0 and ram-node1 where QEMU's gpa2hva put them. */
const CELL0 = 0x7f9ccc200000n;
const CELL1 = 0x7f9ca2e00000n;
const PAGES = (400 * MiB) / 4096;

describe('guest memory placement: cells\' blocks found in the process, moved under one budget', () => {
  let proc: string;
  before(() => {
    proc = mkdtempSync(join(tmpdir(), 'np-proc-'));
    mkdirSync(join(proc, String(PID)));
    const f = (w: string) => readFileSync(`test/fixtures/pages/numa-lab-four-node-wide-${w}.txt`, 'utf8');
    writeFileSync(join(proc, String(PID), 'cmdline'), f('cmdline').replace(/\n$/, '').split('\n').join('\0'));
    writeFileSync(join(proc, String(PID), 'maps'), f('maps'));
    writeFileSync(join(proc, String(PID), 'numa_maps'), f('numa_maps'));
  });
  after(() => rmSync(proc, { recursive: true, force: true }));

  /** As the lab kernel left it: cell 0 all on node 2, cell 1 half on 2 and half on 3. */
  function labProcess(): FakeProcessPages {
    const p = new FakeProcessPages(PID);
    p.fill(CELL0, 0, PAGES, 2);
    for (let i = 0; i < PAGES; i++) p.fill(CELL1, i, 1, i < PAGES / 2 ? 2 : 3);
    return p;
  }
  const cells = [{ id: 0, cpus: [0], memoryMiB: 400 }, { id: 1, cpus: [1], memoryMiB: 400 }];

  it('each cell\'s block onto its own node, the wrong cell\'s block untouched', async () => {
    const p = labProcess();
    const out = await placeGuestMemory({ vm: 'wide', pid: PID, guestCells: cells, budgetMiB: 1024, targets: [{ cell: 0, MiBByNode: { 0: 400 } }, { cell: 1, MiBByNode: { 1: 400 } }] }, { procDir: proc, call: p.call });
    expect(p.count(CELL0, CELL0 + 400n * BigInt(MiB))).to.deep.equal({ 0: PAGES });
    expect(p.count(CELL1, CELL1 + 400n * BigInt(MiB))).to.deep.equal({ 1: PAGES });
    expect([out.movedMiB, out.deferredMiB, out.failedPages, out.stoppedBy]).to.deep.equal([800, 0, 0, null]);
    expect(out.blocks.map((b) => [b.cell, b.backend, b.foundBy, b.result.afterMiB])).to.deep.equal([[0, 'ram-node0', 'order', { 0: 400 }], [1, 'ram-node1', 'order', { 1: 400 }]]);
  });

  it('one budget for the whole VM: cell 0 takes 400 MiB of 500, cell 1 the other 100, its other 300 are deferred', async () => {
    const p = labProcess();
    const out = await placeGuestMemory({ vm: 'wide', pid: PID, guestCells: cells, budgetMiB: 500, targets: [{ cell: 0, MiBByNode: { 0: 400 } }, { cell: 1, MiBByNode: { 1: 400 } }] }, { procDir: proc, call: p.call });
    expect([out.movedMiB, out.deferredMiB, out.stoppedBy]).to.deep.equal([500, 300, 'budget']);
    expect(out.blocks.map((b) => b.result.afterMiB)).to.deep.equal([{ 0: 400 }, { 1: 100, 2: 100, 3: 200 }]);
  });

  it('huge pages move only into free pages of the target node\'s pool; the rest stays (unplaceable), the pools unchanged', async () => {
    const vmDir = join(proc, '303');
    mkdirSync(vmDir, { recursive: true });
    const f = (w: string) => readFileSync(`test/fixtures/pages/numa-lab-four-node-huge-${w}.txt`, 'utf8');
    writeFileSync(join(vmDir, 'cmdline'), f('cmdline').replace(/\n$/, '').split('\n').join('\0'));
    writeFileSync(join(vmDir, 'maps'), f('maps'));
    writeFileSync(join(vmDir, 'numa_maps'), f('numa_maps'));
    const nodeDir = join(proc, 'node');
    mkdirSync(join(nodeDir, 'node0', 'hugepages', 'hugepages-2048kB'), { recursive: true });
    writeFileSync(join(nodeDir, 'node0', 'hugepages', 'hugepages-2048kB', 'free_hugepages'), '20\n');
    const p = new FakeProcessPages(303, 2 * MiB);
    const [huge0, huge1] = [0x7f72a5400000n, 0x7f72a1200000n];
    p.fill(huge0, 0, 32, 2);
    p.fill(huge1, 0, 32, 2);
    const out = await placeGuestMemory({ vm: 'huge', pid: 303, guestCells: [{ id: 0, cpus: [0], memoryMiB: 64 }, { id: 1, cpus: [1], memoryMiB: 64 }], budgetMiB: 1024, targets: [{ cell: 0, MiBByNode: { 0: 64 } }, { cell: 1, MiBByNode: { 1: 64 } }] }, { procDir: proc, nodeDir, call: p.call });
    expect(p.count(huge0, huge0 + 64n * BigInt(MiB))).to.deep.equal({ 0: 20, 2: 12 });
    expect(p.count(huge1, huge1 + 64n * BigInt(MiB))).to.deep.equal({ 2: 32 });
    expect([out.movedMiB, out.unplaceablePages, out.deferredMiB]).to.deep.equal([40, 12 + 32, 0]);
  });

  it('the nodesets around a move: widen to old + new (nothing moves), narrow to the new ones', () => {
    expect(memoryNodesets([2, 3], [{ cell: 0, MiBByNode: { 0: 400 } }, { cell: 1, MiBByNode: { 1: 400, 3: 0 } }])).to.deep.equal({ widen: [0, 1, 2, 3], narrow: [0, 1] });
  });
});
