import { expect } from 'chai';
import { MovePagesError, errnoName, moveRange, queryRange, MPOL_MF_MOVE } from '../../src/host/move-pages.js';
import { PagePlanner, countNodes, targetPages, windows } from '../../src/host/page-plan.js';
import { FakeProcessPages } from '../helpers/fake-process-pages.js';

const MiB = 1024 * 1024;
const BASE = 0x7f0000000000n;
const PID = 4242;

/** A 64 MiB block (16384 pages) spread half and half over nodes 2 and 3, interleaved like the kernel leaves a VM with nodeset 2-3. */
function spreadBlock(): { p: FakeProcessPages; range: { start: bigint; end: bigint } } {
  const p = new FakeProcessPages(PID);
  for (let i = 0; i < 16384; i++) p.fill(BASE, i, 1, i % 2 === 0 ? 2 : 3);
  return { p, range: { start: BASE, end: BASE + 64n * BigInt(MiB) } };
}

describe('page-plan: which pages move where', () => {
  it('targetPages scales the plan\'s MiB to the resident pages and gives the rounding to the last node', () => {
    expect([...targetPages({ 0: 300, 1: 100 }, 1001)]).to.deep.equal([[0, 751], [1, 250]]);
    expect([...targetPages({ 1: 0, 3: 64 }, 10)]).to.deep.equal([[3, 10]]);
    expect(() => targetPages({ 0: 0 }, 10)).to.throw(RangeError);
  });

  it('toNode moves every page off the node, each once, in address order, within the budget', () => {
    const pl = PagePlanner.toNode(1, 3);
    const w = pl.window(Int32Array.from([1, 2, -2, 3, 1, 2, 2]));
    expect(w).to.deep.equal({ index: [1, 3, 5], node: [1, 1, 1] });
    expect([pl.alreadyPlaced, pl.absent, pl.deferred, pl.budgetSpent]).to.deep.equal([2, 1, 1, true]);
  });

  it('split keeps pages already within a node\'s share and moves only the surplus to the nodes short of theirs', () => {
    // 6 pages: 4 on node 2, 2 on node 3; target 3 on node 0, 3 on node 3: keep 2 on node 3, move 3 of node 2's to node 0, 1 to node 3.
    const where = Int32Array.from([2, 3, 2, 2, 3, 2]);
    const pl = PagePlanner.split(new Map([[0, 3], [3, 3]]), countNodes(where, new Map()), Infinity);
    const w = pl.window(where);
    expect(w).to.deep.equal({ index: [0, 2, 3, 5], node: [0, 0, 0, 3] });
    expect(pl.alreadyPlaced).to.equal(2);
  });

  it('windows cover the range in batches', () => {
    expect([...windows(10, 4)]).to.deep.equal([[0, 4], [4, 4], [8, 2]]);
    expect(() => [...windows(10, 0)]).to.throw(RangeError);
  });
});

describe('move-pages: moving a host address range (move_pages(2) through a fake kernel)', () => {
  it('moves a range onto one node in batches of at most batchMiB, reads it back, and reports what was already there', async () => {
    const { p, range } = spreadBlock();
    const r = await moveRange(PID, range, { node: 3 }, { pageSize: 4096, batchMiB: 16, call: p.call });
    expect(p.count(range.start, range.end)).to.deep.equal({ 3: 16384 });
    expect([r.moved, r.alreadyPlaced, r.absent, r.deferred, r.stoppedBy]).to.deep.equal([8192, 8192, 0, 0, null]);
    expect(r.beforeMiB).to.deep.equal({ 2: 32, 3: 32 });
    expect(r.afterMiB).to.deep.equal({ 3: 64 });
    expect(r.failed).to.deep.equal({});
    const moves = p.calls.filter((c) => c.move);
    expect(moves).to.have.length(4);
    expect(Math.max(...p.calls.map((c) => c.pages))).to.be.at.most((16 * MiB) / 4096);
  });

  it('a MiB budget moves that much and leaves the rest for a later call, which finishes without moving a page twice', async () => {
    const { p, range } = spreadBlock();
    const first = await moveRange(PID, range, { node: 0 }, { pageSize: 4096, batchMiB: 16, budgetMiB: 20, call: p.call });
    expect(first.moved * 4096).to.equal(20 * MiB);
    expect(first.stoppedBy).to.equal('budget');
    expect(first.deferred * 4096).to.equal(44 * MiB);
    expect(first.afterMiB['0']).to.equal(20);
    const second = await moveRange(PID, range, { node: 0 }, { pageSize: 4096, batchMiB: 16, call: p.call });
    expect([second.moved * 4096, second.alreadyPlaced * 4096, second.stoppedBy]).to.deep.equal([44 * MiB, 20 * MiB, null]);
    expect(p.count(range.start, range.end)).to.deep.equal({ 0: 16384 });
  });

  it('a split: MiB per node as planned, moving only the surplus', async () => {
    const { p, range } = spreadBlock();
    const r = await moveRange(PID, range, { MiBByNode: { 0: 48, 3: 16 } }, { pageSize: 4096, call: p.call });
    expect(r.afterMiB).to.deep.equal({ 0: 48, 3: 16 });
    // Node 3 keeps 16 of its 32 MiB; 32 MiB of node 2's and 16 of node 3's go to node 0.
    expect([r.alreadyPlaced * 4096, r.moved * 4096]).to.deep.equal([16 * MiB, 48 * MiB]);
  });

  it('reads back instead of trusting the kernel\'s status: huge-page subpages reported EBUSY that moved count as moved; pages that stayed are failures by errno', async () => {
    const { p, range } = spreadBlock();
    for (let i = 1; i < 512; i++) p.reportedBusy.add(BASE + BigInt(i * 4096));
    p.busy.add(BASE + BigInt(1000 * 4096));
    const r = await moveRange(PID, range, { node: 3 }, { pageSize: 4096, call: p.call });
    expect(r.failed).to.deep.equal({ EBUSY: 1 });
    expect(r.moved).to.equal(8192 - 1);
  });

  it('a call that gives up part-way leaves statuses unwritten: those pages are "unreported" failures, not moves', async () => {
    const { p, range } = spreadBlock();
    p.giveUpAfter = 100;
    const r = await moveRange(PID, range, { node: 3 }, { pageSize: 4096, batchMiB: 64, call: p.call });
    expect(r.moved).to.equal(100);
    expect(r.failed).to.deep.equal({ unreported: 8192 - 100 });
  });

  it('absent pages are neither moved nor failures; a stop between batches ends the move there', async () => {
    const { p, range } = spreadBlock();
    p.fill(BASE, 0, 4096, -1);
    let batches = 0;
    const r = await moveRange(PID, range, { node: 3 }, { pageSize: 4096, batchMiB: 16, call: p.call, shouldStop: () => batches++ >= 2 });
    expect(r.stoppedBy).to.equal('stop');
    expect(r.absent).to.equal(4096 + 0);
    expect(r.moved).to.equal(2048);
    expect(r.afterMiB).to.deep.equal({ 2: 16, 3: 32 });
  });

  it('a node outside the process\'s cpuset fails the whole call: MovePagesError EACCES says to widen the nodeset', async () => {
    const { p, range } = spreadBlock();
    p.allowed = new Set([2, 3]);
    const err = await moveRange(PID, range, { node: 0 }, { pageSize: 4096, call: p.call, flags: MPOL_MF_MOVE }).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(MovePagesError);
    expect((err as MovePagesError).code).to.equal('EACCES');
    expect((err as Error).message).to.match(/widen the VM's nodeset/);
    expect(p.count(range.start, range.end)).to.deep.equal({ 2: 8192, 3: 8192 });
  });

  it('queryRange reports MiB per node and absent pages; ranges must be page-aligned', async () => {
    const { p, range } = spreadBlock();
    p.fill(BASE, 0, 256, -1);
    expect(await queryRange(PID, range, { pageSize: 4096, call: p.call })).to.deep.equal({ MiBByNode: { 2: 31.5, 3: 31.5 }, absent: 256, pages: 16384 });
    await moveRange(PID, { start: BASE + 1n, end: range.end }, { node: 0 }, { pageSize: 4096, call: p.call }).then(
      () => expect.fail('accepted an unaligned range'),
      (e: unknown) => expect((e as Error).message).to.match(/not aligned to 4096/),
    );
  });

  it('errnoName names errno values', () => {
    expect([errnoName(13), errnoName(-16), errnoName(1), errnoName(9999)]).to.deep.equal(['EACCES', 'EBUSY', 'EPERM', 'E9999']);
  });
});
