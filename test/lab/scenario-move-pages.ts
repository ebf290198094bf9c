/**
 * Lab scenarios for live memory placement by page moves (issue 24): each takes a booted four-node lab,
 * starts its own VMs, checks from kernel facts only (numa_maps read by scripts/numa-lab/probe.mjs,
 * /proc/vmstat) and QEMU's own answer for which mapping is which cell (HMP gpa2hva: it taints the
 * lab VM, which does not matter here), then destroys its VMs. numaplace's side runs as the daemon
 * will call it: test/lab/pages-helper.ts -> src/host/guest-memory.ts.
 */
import { expect } from 'chai';
import { type NumaLab, REPO_ROOT } from './numa-lab.js';
import { note } from './lab-guard.js';
import { URI, probe, startVm, vmOf, type LabVmSpec, type Probe } from './lab-host.js';
import { join } from 'node:path';
import type { GuestMemoryOutcome, MemoryTarget } from '../../src/host/guest-memory.js';

const HELPER = join(REPO_ROOT, 'dist', 'test', 'lab', 'pages-helper.js');
const MiB = 1048576;

interface HelperBlock { backend: string; cell: number | null; start: string; end: string; pageSize: number }

async function helper<T>(lab: NumaLab, args: string[]): Promise<T> {
  return JSON.parse(await lab.run(['node', HELPER, ...args], { timeoutMs: 1_800_000 })) as T;
}

async function blocksOf(lab: NumaLab, vm: string): Promise<HelperBlock[]> {
  return (await helper<{ blocks: HelperBlock[] }>(lab, ['blocks', vm])).blocks;
}

async function place(lab: NumaLab, vm: string, targets: MemoryTarget[], budgetMiB: number): Promise<GuestMemoryOutcome> {
  return helper<GuestMemoryOutcome>(lab, ['place', vm, JSON.stringify({ targets, budgetMiB })]);
}

/** QEMU's own answer: the backend and host address of a guest-physical address. */
async function gpa2hva(lab: NumaLab, vm: string, gpa: number): Promise<{ backend: string; hva: bigint }> {
  const out = await lab.run(['virsh', '-c', URI, 'qemu-monitor-command', vm, '--hmp', `gpa2hva 0x${gpa.toString(16)}`]);
  const m = /\(([^)]+)\) is (0x[0-9a-f]+)/.exec(out);
  if (!m) throw new Error(`gpa2hva 0x${gpa.toString(16)} on ${vm}: ${out.trim()}`);
  return { backend: m[1], hva: BigInt(m[2]) };
}

/** Pages migrated by the kernel so far (/proc/vmstat pgmigrate_success). */
async function migratedPages(lab: NumaLab): Promise<number> {
  return Number(/pgmigrate_success (\d+)/.exec(await lab.run(['cat', '/proc/vmstat']))?.[1] ?? NaN);
}

/** Pages per node of the mapping that starts at `start`, read from numa_maps by the probe. */
function blockPages(p: Probe, vm: string, start: bigint): Record<string, number> {
  const vma = vmOf(p, vm).vmas.find((v) => BigInt(`0x${v.start}`) === start);
  if (!vma) throw new Error(`${vm}: no mapping at 0x${start.toString(16)} in numa_maps`);
  return vma.pagesByNode;
}

const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);

/**
 * The block's pages per node as before, within 1 % of the block: khugepaged may collapse small pages
 * into a huge page on the node holding most of them at any time, which is no migration by numaplace
 * or by a nodeset change.
 */
function expectSameNodes(now: Record<string, number>, before: Record<string, number>, what: string): void {
  const tol = 0.01 * total(before);
  for (const n of new Set([...Object.keys(now), ...Object.keys(before)])) {
    expect(Math.abs((now[n] ?? 0) - (before[n] ?? 0)), `${what}: pages on node ${n} (${JSON.stringify(before)} -> ${JSON.stringify(now)})`).to.be.at.most(tol);
  }
}
const share = (m: Record<string, number>, node: number) => (m[String(node)] ?? 0) / total(m);

async function numatune(lab: NumaLab, vm: string, nodeset: string): Promise<number> {
  const t = Date.now();
  await lab.run(['virsh', '-q', '-c', URI, 'numatune', vm, '--live', '--nodeset', nodeset], { timeoutMs: 900_000 });
  return (Date.now() - t) / 1000;
}

async function destroy(lab: NumaLab, vm: string): Promise<void> {
  await lab.exec(['virsh', '-q', '-c', URI, 'destroy', vm], { timeoutMs: 300_000 });
  await lab.exec(['virsh', '-q', '-c', URI, 'undefine', vm], { timeoutMs: 60_000 });
}

export interface CellsFigures { startS: number; widenS: number; widenMigratedMiB: number; movedMiB: number; moveS: number; MiBps: number; narrowS: number; narrowMigratedMiB: number; local: number[] }

/**
 * A 2-cell VM too big for one node (2 x 400 MiB, preallocated), its RAM spread by the kernel over
 * nodes 2-3. Widen the nodeset to 0-3 (nothing moves), move cell 0's block to node 0 and cell 1's
 * to node 1, narrow to 0-1 (only QEMU's own pages outside the blocks move). >= 95 % of each cell's
 * block on its node, by numa_maps, the cells told apart by QEMU's gpa2hva.
 */
export async function cellsFollowTheirNodes(lab: NumaLab): Promise<CellsFigures> {
  const vm = 'pages-cells';
  const spec: LabVmSpec = { name: vm, vcpus: 2, memMiB: 800, nodeset: '2-3', cpuset: '4-7', cells: [{ cpus: '0', memMiB: 400 }, { cpus: '1', memMiB: 400 }] };
  const startS = await startVm(lab, spec, 600_000);
  const blocks = await blocksOf(lab, vm);
  // Which mapping is which cell, by QEMU itself: guest-physical 0 is cell 0, 400 MiB is cell 1.
  for (const [cell, gpa] of [[0, 0x1000], [1, 400 * MiB + 0x1000]] as const) {
    const q = await gpa2hva(lab, vm, gpa);
    const b = blocks.find((x) => x.cell === cell)!;
    expect(q.backend, `cell ${cell} backend`).to.equal(b.backend);
    expect(q.hva - BigInt(b.start), `cell ${cell}: numaplace's block is where QEMU says`).to.equal(BigInt(gpa - cell * 400 * MiB));
  }
  const start = blocks.map((b) => BigInt(b.start));
  const p0 = await probe(lab, [vm]);
  const at0 = start.map((s) => blockPages(p0, vm, s));
  note(`${vm}: started in ${startS.toFixed(0)} s; cells' blocks at start: ${at0.map((m, i) => `cell ${i} ${JSON.stringify(m)}`).join(', ')} (4 KiB pages)`);
  for (const m of at0) expect(total(m), 'a preallocated 400 MiB block').to.equal(102400);
  // vCPUs to where their cells' memory goes (pins are numaplace's ordinary steps; here by virsh).
  await lab.run(['virsh', '-q', '-c', URI, 'vcpupin', vm, '0', '0-1', '--live']);
  await lab.run(['virsh', '-q', '-c', URI, 'vcpupin', vm, '1', '2-3', '--live']);

  let m0 = await migratedPages(lab);
  const widenS = await numatune(lab, vm, '0-3');
  const widenMigratedMiB = ((await migratedPages(lab)) - m0) * 4096 / MiB;
  const p1 = await probe(lab, [vm]);
  note(`${vm}: nodeset 2-3 -> 0-3 in ${widenS.toFixed(1)} s, kernel migrated ${widenMigratedMiB.toFixed(1)} MiB; blocks: ${start.map((s) => JSON.stringify(blockPages(p1, vm, s))).join(', ')}`);
  expect(widenMigratedMiB, 'widening forces no page to move').to.be.below(8);
  for (const [i, s] of start.entries()) expectSameNodes(blockPages(p1, vm, s), at0[i], `cell ${i}'s block after widening`);

  m0 = await migratedPages(lab);
  const t = Date.now();
  const out = await place(lab, vm, [{ cell: 0, MiBByNode: { 0: 400 } }, { cell: 1, MiBByNode: { 1: 400 } }], 4096);
  const moveS = (Date.now() - t) / 1000;
  const moveMs = out.blocks.reduce((s, b) => s + b.result.moveMs, 0);
  const MiBps = out.movedMiB / (moveMs / 1000);
  note(`${vm}: numaplace moved ${out.movedMiB.toFixed(0)} MiB in ${moveS.toFixed(1)} s (${(moveMs / 1000).toFixed(1)} s in move_pages: ${MiBps.toFixed(0)} MiB/s), kernel counted ${(((await migratedPages(lab)) - m0) * 4096 / MiB).toFixed(0)} MiB; failed pages ${out.failedPages}; per block: ${out.blocks.map((b) => `${b.backend} ${JSON.stringify(b.result.beforeMiB)} -> ${JSON.stringify(b.result.afterMiB)} in ${(b.result.ms / 1000).toFixed(1)} s, ${b.result.calls} calls`).join('; ')}`);
  expect(out.deferredMiB).to.equal(0);

  const moved = await probe(lab, [vm]);
  m0 = await migratedPages(lab);
  const narrowS = await numatune(lab, vm, '0-1');
  const narrowMigratedMiB = ((await migratedPages(lab)) - m0) * 4096 / MiB;
  const p2 = await probe(lab, [vm]);
  const local = start.map((s, i) => share(blockPages(p2, vm, s), i));
  note(`${vm}: nodeset 0-3 -> 0-1 in ${narrowS.toFixed(1)} s, kernel migrated ${narrowMigratedMiB.toFixed(1)} MiB (QEMU's own pages outside the blocks); cell 0 ${(local[0] * 100).toFixed(1)} % on node 0, cell 1 ${(local[1] * 100).toFixed(1)} % on node 1`);
  for (const [i, f] of local.entries()) expect(f, `cell ${i}'s block on node ${i}`).to.be.at.least(0.95);
  // Narrowing had nothing of the blocks left to remap: they are as the move left them.
  for (const [i, s] of start.entries()) expectSameNodes(blockPages(p2, vm, s), blockPages(moved, vm, s), `cell ${i}'s block after narrowing`);
  await destroy(lab, vm);
  return { startS, widenS, widenMigratedMiB, movedMiB: out.movedMiB, moveS, MiBps, narrowS, narrowMigratedMiB, local };
}

/**
 * A MiB budget: 24 MiB of a 64 MiB cell move now, the rest is left and a second call finishes it
 * without moving any page twice.
 */
export async function boundedMove(lab: NumaLab): Promise<{ first: number; second: number }> {
  const vm = 'pages-budget';
  await startVm(lab, { name: vm, vcpus: 2, memMiB: 128, nodeset: '3', cpuset: '6-7', cells: [{ cpus: '0', memMiB: 64 }, { cpus: '1', memMiB: 64 }] });
  await numatune(lab, vm, '2-3');
  const [cell0] = (await blocksOf(lab, vm)).filter((b) => b.cell === 0);
  const first = await place(lab, vm, [{ cell: 0, MiBByNode: { 2: 64 } }], 24);
  const mid = blockPages(await probe(lab, [vm]), vm, BigInt(cell0.start));
  note(`${vm}: budget 24 MiB: moved ${first.movedMiB.toFixed(1)} MiB, deferred ${first.deferredMiB.toFixed(1)} MiB (${first.stoppedBy}); block by numa_maps: ${JSON.stringify(mid)}`);
  expect(first.movedMiB).to.be.at.most(24);
  expect(first.movedMiB).to.be.at.least(23);
  expect(first.stoppedBy).to.equal('budget');
  expect(((mid['2'] ?? 0) * 4096) / MiB, 'MiB on node 2 after the bounded move').to.be.within(23, 25);
  const second = await place(lab, vm, [{ cell: 0, MiBByNode: { 2: 64 } }], 1024);
  const end = blockPages(await probe(lab, [vm]), vm, BigInt(cell0.start));
  note(`${vm}: second call moved ${second.movedMiB.toFixed(1)} MiB, ${((second.blocks[0].result.alreadyPlaced * 4096) / MiB).toFixed(1)} MiB already there; block: ${JSON.stringify(end)}`);
  expect(first.movedMiB + second.movedMiB, 'each page moved once').to.be.at.most(64);
  expect(share(end, 2)).to.be.at.least(0.95);
  await destroy(lab, vm);
  return { first: first.movedMiB, second: second.movedMiB };
}

/** A VM without cells split as planned (192 MiB on node 2, 128 on node 3): MiB per node within 5 % of the plan. */
export async function splitWithoutCells(lab: NumaLab): Promise<{ plan: Record<string, number>; got: Record<string, number> }> {
  const vm = 'pages-split';
  await startVm(lab, { name: vm, vcpus: 1, memMiB: 320, nodeset: '3', cpuset: '6-7' });
  await numatune(lab, vm, '2-3');
  const [b] = await blocksOf(lab, vm);
  expect([b.backend, b.cell]).to.deep.equal(['pc.ram', null]);
  const plan = { 2: 192, 3: 128 };
  const out = await place(lab, vm, [{ cell: null, MiBByNode: plan }], 4096);
  const pages = blockPages(await probe(lab, [vm]), vm, BigInt(b.start));
  const got = Object.fromEntries(Object.entries(pages).map(([n, p]) => [n, (p * 4096) / MiB]));
  note(`${vm}: plan ${JSON.stringify(plan)} MiB; moved ${out.movedMiB.toFixed(1)} MiB; block by numa_maps: ${JSON.stringify(got)} MiB`);
  for (const [n, want] of Object.entries(plan)) expect(got[n] ?? 0, `MiB on node ${n}`).to.be.within(want * 0.95, want * 1.05);
  await destroy(lab, vm);
  return { plan, got };
}
