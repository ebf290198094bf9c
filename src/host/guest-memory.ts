/**
 * Live memory placement of a VM, per guest cell and per planned split, by moving pages (what the
 * executor calls for a memory step). libvirt cannot change a cell's `<memnode>` live, and a VM-wide
 * nodeset change lets the kernel remap nodes by position, so a cell's memory would never follow its
 * vCPUs. The order that moves each page once (measured on the lab kernel, README "Guest memory moved page by page"):
 *   1. the VM-wide nodeset := old nodes + new nodes (memoryNodesets().widen): the kernel moves no page
 *      that sits on an allowed node, so nothing moves, and the new nodes become allowed targets;
 *   2. placeGuestMemory(): each cell's block onto its node, a split's block to its MiB per node, up
 *      to the cycle's MiB budget;
 *   3. only when nothing was deferred, the nodeset := the new nodes (memoryNodesets().narrow): the
 *      blocks are already there, so only QEMU's own few MiB outside them remap. With pages deferred
 *      by the budget, keep the wide nodeset: narrowing would force every remaining page to move at
 *      once (by position, to the wrong cell's node), whatever the budget.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GuestCell } from '../core/sample.js';
import { readGuestRamBlocks, type GuestRamBlock } from './guest-ram-blocks.js';
import { MPOL_MF_MOVE, MPOL_MF_MOVE_ALL, moveRange, type MovePagesCall, type PageMoveResult } from './move-pages.js';

/** Where one block goes: MiB per host node (one node for a cell placed whole). cell null: a VM without cells. */
export interface MemoryTarget {
  cell: number | null;
  MiBByNode: Record<string, number>;
}

export interface GuestMemoryRequest {
  vm: string;
  /** The VM's QEMU process (/run/libvirt/qemu/NAME.pid). */
  pid: number;
  /** Guest cells as libvirt reports them (VmSample.guestCells); [] for a VM without cells. */
  guestCells: readonly GuestCell[];
  targets: readonly MemoryTarget[];
  /** MiB this call may move in all (what is left of churn.memoryMigrationMiBPerCycle). */
  budgetMiB: number;
}

export interface GuestMemoryOutcome {
  vm: string;
  blocks: { cell: number | null; backend: string; foundBy: GuestRamBlock['foundBy']; result: PageMoveResult }[];
  movedMiB: number;
  /** MiB that should move and were left for a later cycle (budget or stop): keep the wide nodeset meanwhile. */
  deferredMiB: number;
  failedPages: number;
  /** Huge pages left where they are: the target node's pool had no free page for them. */
  unplaceablePages: number;
  stoppedBy: PageMoveResult['stoppedBy'];
}

export interface GuestMemoryOptions {
  batchMiB?: number;
  shouldStop?: () => boolean;
  call?: MovePagesCall;
  procDir?: string;
  /** /sys/devices/system/node: the free huge pages of each node's pool. */
  nodeDir?: string;
}

/** Free huge pages of `pageSize` bytes in each node's pool (0 when the node has no such pool). */
export async function freeHugePages(nodes: readonly number[], pageSize: number, nodeDir = '/sys/devices/system/node'): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of nodes) {
    try {
      out[String(n)] = Number((await readFile(join(nodeDir, `node${n}`, 'hugepages', `hugepages-${pageSize / 1024}kB`, 'free_hugepages'), 'utf8')).trim());
    } catch {
      out[String(n)] = 0;
    }
  }
  return out;
}

const MiB = 1024 * 1024;

/** The nodesets around a move: widen to old + new before it, narrow to the new nodes after it (when nothing is deferred). */
export function memoryNodesets(currentNodes: readonly number[], targets: readonly MemoryTarget[]): { widen: number[]; narrow: number[] } {
  const narrow = [...new Set(targets.flatMap((t) => Object.entries(t.MiBByNode).filter(([, m]) => m > 0).map(([n]) => Number(n))))].sort((a, b) => a - b);
  const widen = [...new Set([...currentNodes, ...narrow])].sort((a, b) => a - b);
  return { widen, narrow };
}

/**
 * Move each target's block (found exactly: guest-ram-blocks.ts) to its nodes, sharing one MiB budget
 * in target order. Private RAM moves with MPOL_MF_MOVE (pages another process maps, such as a KSM page
 * shared with another VM, stay: EACCES); shared RAM (memfd, vhost-user) with MPOL_MF_MOVE_ALL, which
 * needs CAP_SYS_NICE. Throws GuestRamLayoutError (blocks not found exactly: nothing moved) or
 * MovePagesError (no right, node not allowed, process gone).
 */
export async function placeGuestMemory(req: GuestMemoryRequest, opts: GuestMemoryOptions = {}): Promise<GuestMemoryOutcome> {
  const blocks = await readGuestRamBlocks(req.pid, req.guestCells, opts.procDir);
  const out: GuestMemoryOutcome = { vm: req.vm, blocks: [], movedMiB: 0, deferredMiB: 0, failedPages: 0, unplaceablePages: 0, stoppedBy: null };
  let budgetMiB = req.budgetMiB;
  for (const t of req.targets) {
    const block = blocks.find((b) => b.cell === t.cell);
    if (!block) throw new RangeError(`${req.vm}: no RAM block for ${t.cell === null ? 'the VM without cells' : `guest cell ${t.cell}`}`);
    const nodes = Object.entries(t.MiBByNode).filter(([, m]) => m > 0);
    // Huge pages move only into free pages of the target's pool (read again per block: the kernel's count after the last move).
    const roomPages = block.hugetlb ? await freeHugePages(nodes.map(([n]) => Number(n)), block.pageSize, opts.nodeDir) : undefined;
    const result = await moveRange(req.pid, block, nodes.length === 1 ? { node: Number(nodes[0][0]) } : { MiBByNode: t.MiBByNode }, {
      pageSize: block.pageSize,
      budgetMiB: Math.max(0, budgetMiB),
      ...(roomPages ? { roomPages } : {}),
      flags: block.shared ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE,
      ...(opts.batchMiB !== undefined ? { batchMiB: opts.batchMiB } : {}),
      ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}),
      ...(opts.call ? { call: opts.call } : {}),
    });
    const moved = (result.moved * block.pageSize) / MiB;
    budgetMiB -= moved;
    out.movedMiB += moved;
    out.deferredMiB += (result.deferred * block.pageSize) / MiB;
    out.failedPages += Object.values(result.failed).reduce((s, n) => s + n, 0);
    out.unplaceablePages += result.unplaceable;
    out.stoppedBy ??= result.stoppedBy;
    out.blocks.push({ cell: t.cell, backend: block.backend, foundBy: block.foundBy, result });
    if (result.stoppedBy === 'stop') break;
  }
  return out;
}
