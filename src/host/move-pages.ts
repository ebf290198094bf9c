/**
 * move_pages(2) on another process (the QEMU process of a VM): the only FFI in numaplace.
 *
 * Reached through koffi (its npm package carries prebuilt binaries: no compiler on the host) calling
 * libnuma's `move_pages` (libnuma1: a dependency of Debian's QEMU, so present on every hypervisor;
 * the documented C entry of the system call, with its real prototype on every architecture). Calls
 * run on koffi's worker threads (`.async`), so a batch that takes long under load never blocks the
 * daemon's event loop; koffi >= 3.2 hands the call's errno to the callback.
 *
 * Rights (measured on the lab kernel, README "Guest memory moved page by page"): another user's process needs
 * CAP_SYS_PTRACE (the kernel's ptrace read check, else EPERM for the whole call); MPOL_MF_MOVE_ALL,
 * which also moves pages another process maps (a vhost-user backend's view of guest RAM), needs
 * CAP_SYS_NICE. A target node outside the process's cpuset.mems fails the whole call with EACCES: set
 * the VM's nodeset to include it first.
 *
 * Above the single call: moveRange/queryRange (batches, budget, read-back), which take any
 * MovePagesCall, so they are unit-tested without a kernel; which pages go where is page-plan.ts.
 */
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { PagePlanner, countNodes, targetPages, windows } from './page-plan.js';

/** Move pages mapped only by this process (move_pages(2)). */
export const MPOL_MF_MOVE = 1 << 1;
/** Move pages whatever maps them; needs CAP_SYS_NICE. */
export const MPOL_MF_MOVE_ALL = 1 << 2;

/**
 * One move_pages(2) call: `pages` are page-aligned addresses in process `pid`; `nodes` the target node
 * of each (null: query only, the kernel writes where each page is); `status` receives per page the
 * node it is on or a negative errno. Resolves to the call's return value (0, or the number of pages it
 * could not move); rejects with MovePagesError when the whole call fails.
 */
export type MovePagesCall = (pid: number, pages: BigUint64Array, nodes: Int32Array | null, status: Int32Array, flags: number) => Promise<number>;

/** errno number -> name ("EACCES"), from Node's table; "E<n>" when unknown. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  for (const [name, v] of Object.entries(constants.errno)) if (v === n) return name;
  return `E${n}`;
}

const WHY: Record<string, string> = {
  EPERM: 'not permitted: moving another user\'s pages needs CAP_SYS_PTRACE, and MPOL_MF_MOVE_ALL needs CAP_SYS_NICE (deploy/numaplace.service grants both)',
  EACCES: 'a target node is outside the process\'s cpuset.mems: widen the VM\'s nodeset to include it first',
  ESRCH: 'no such process (the VM stopped?)',
  ENODEV: 'a target node is offline or has no memory',
  EINVAL: 'invalid flags or node',
};

/** The whole call failed (not one page): errno and what to do about it. */
export class MovePagesError extends Error {
  readonly code: string;
  constructor(
    readonly pid: number,
    readonly errno: number,
  ) {
    const code = errnoName(errno);
    super(`move_pages(2) on process ${pid} failed: ${code}${WHY[code] ? ` (${WHY[code]})` : ''}`);
    this.name = 'MovePagesError';
    this.code = code;
  }
}

/** libnuma.so.1 cannot be loaded (not installed): nothing can be moved. */
export class MovePagesUnavailableError extends Error {
  constructor(readonly detail: string) {
    super(`cannot call move_pages(2): ${detail}; install libnuma1 (Debian: apt install libnuma1)`);
    this.name = 'MovePagesUnavailableError';
  }
}

interface KoffiAsyncFunction {
  (...args: unknown[]): unknown;
  async(...args: unknown[]): void;
}
interface Koffi {
  load(path: string): { func(proto: string): KoffiAsyncFunction };
  errno(): number;
}

let bound: MovePagesCall | undefined;

/**
 * The real call, bound on first use (koffi and libnuma are loaded only by a daemon that moves memory).
 * Throws MovePagesUnavailableError when libnuma1 or koffi's binary is missing.
 */
export function libnumaMovePages(): MovePagesCall {
  if (bound) return bound;
  let koffi: Koffi;
  let fn: KoffiAsyncFunction;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
    fn = koffi.load('libnuma.so.1').func('long move_pages(int pid, unsigned long count, void *pages, void *nodes, void *status, int flags)');
  } catch (e) {
    throw new MovePagesUnavailableError((e as Error).message.split('\n')[0]);
  }
  bound = (pid, pages, nodes, status, flags) => {
    if (status.length < pages.length || (nodes && nodes.length < pages.length)) throw new RangeError('move_pages: nodes/status shorter than pages');
    return new Promise((resolve, reject) => {
      fn.async(pid, pages.length, pages, nodes, status, flags, (err: Error | null, ret: number | bigint) => {
        if (err) return reject(err);
        const r = Number(ret);
        if (r < 0) return reject(new MovePagesError(pid, koffi.errno()));
        resolve(r);
      });
    });
  };
  return bound;
}

const MiB = 1024 * 1024;
/** Marks a status the kernel did not write (it gave up on the rest of a batch). */
const UNWRITTEN = -0x7fffffff;

/** [start, end) host virtual addresses in the process, aligned to the block's page size. */
export interface HostRange {
  start: bigint;
  end: bigint;
}

/** Where a range's pages go: all onto one node (a guest cell), or MiB per node as planned (a split). */
export type PageTarget = { node: number } | { MiBByNode: Record<string, number> };

export interface PageMoveOptions {
  /** The block's page size in bytes: 4096, or the huge page size of a hugetlbfs block. */
  pageSize: number;
  /** Move at most this many MiB (churn.memoryMigrationMiBPerCycle); the rest is left for a later call. */
  budgetMiB?: number;
  /** Pages per move_pages(2) call, in MiB (default 64): a stop or the budget takes effect between calls. */
  batchMiB?: number;
  /** Default MPOL_MF_MOVE_ALL (needs CAP_SYS_NICE); MPOL_MF_MOVE leaves pages another process maps. */
  flags?: number;
  /** Asked between batches: true stops the move there (daemon shutting down). */
  shouldStop?: () => boolean;
  /**
   * Pages each target node can take at most: for a huge-page block, the free pages of that node's
   * pool. Measured: a huge page moved to a node without a free one in its pool is allocated there
   * fresh and the source page is dissolved, so the operator's pools change; with room given, what
   * does not fit stays (counted unplaceable).
   */
  roomPages?: Record<string, number>;
  /** The system call (default: libnuma's, through koffi); tests pass their own. */
  call?: MovePagesCall;
}

export interface PageMoveResult {
  pageSize: number;
  /** Pages in the range. */
  pages: number;
  /** Pages not resident (never touched, or the zero page): nothing to move; they fault in where policy says. */
  absent: number;
  /** Resident pages already where the target wants them: left alone. */
  alreadyPlaced: number;
  /** Pages this call moved (read back: on their target node afterwards). */
  moved: number;
  /** Pages that should have moved and did not, by errno name (EBUSY, ENOMEM, ...; "unreported": the kernel gave up on the rest of a batch). */
  failed: Record<string, number>;
  /** Pages that should move but were left for later by the budget. */
  deferred: number;
  /** Pages off target with no room on any target node (a huge-page pool without free pages, or a split whose target holds less than the block). */
  unplaceable: number;
  /** Why the move ended before the range was done: the budget, or shouldStop. null: the whole range was handled. */
  stoppedBy: 'budget' | 'stop' | null;
  /** Resident MiB per node before and after (read back with move_pages(2) in query mode). */
  beforeMiB: Record<string, number>;
  afterMiB: Record<string, number>;
  /** move_pages(2) calls (queries and moves), wall time, and time spent in moving calls. */
  calls: number;
  ms: number;
  moveMs: number;
}

function checkRange(range: HostRange, pageSize: number): number {
  const ps = BigInt(pageSize);
  if (!(pageSize >= 4096) || (pageSize & (pageSize - 1)) !== 0) throw new RangeError(`page size ${pageSize} is not a power of two >= 4096`);
  if (range.start % ps !== 0n || range.end % ps !== 0n || range.end <= range.start) {
    throw new RangeError(`range 0x${range.start.toString(16)}-0x${range.end.toString(16)} is empty or not aligned to ${pageSize} bytes`);
  }
  return Number((range.end - range.start) / ps);
}

function addresses(range: HostRange, pageSize: number, first: number, indexes: Iterable<number>, count: number): BigUint64Array {
  const out = new BigUint64Array(count);
  let k = 0;
  for (const i of indexes) out[k++] = range.start + BigInt(first + i) * BigInt(pageSize);
  return out;
}

function toMiB(pages: Map<number, number>, pageSize: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [n, p] of [...pages].sort((a, b) => a[0] - b[0])) out[String(n)] = Math.round(((p * pageSize) / MiB) * 100) / 100;
  return out;
}

/** A range's resident pages per node, window by window (move_pages(2) with nodes = NULL). */
async function queryPass(call: MovePagesCall, pid: number, range: HostRange, pageSize: number, perWindow: number, stats: { calls: number }): Promise<{ perNode: Map<number, number>; absent: number }> {
  const perNode = new Map<number, number>();
  let absent = 0;
  for (const [first, count] of windows(checkRange(range, pageSize), perWindow)) {
    const where = await queryWindow(call, pid, addresses(range, pageSize, first, seq(count), count), stats);
    countNodes(where, perNode);
    for (const on of where) if (on < 0) absent++;
  }
  return { perNode, absent };
}

async function queryWindow(call: MovePagesCall, pid: number, pages: BigUint64Array, stats: { calls: number }): Promise<Int32Array> {
  const where = new Int32Array(pages.length);
  stats.calls++;
  await call(pid, pages, null, where, 0);
  return where;
}

function* seq(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** Where a range's resident pages are: MiB per node, and how many pages are not resident. */
export async function queryRange(pid: number, range: HostRange, opts: Pick<PageMoveOptions, 'pageSize' | 'batchMiB' | 'call'>): Promise<{ MiBByNode: Record<string, number>; absent: number; pages: number }> {
  const pages = checkRange(range, opts.pageSize);
  const { perNode, absent } = await queryPass(opts.call ?? libnumaMovePages(), pid, range, opts.pageSize, pagesPerBatch(opts), { calls: 0 });
  return { MiBByNode: toMiB(perNode, opts.pageSize), absent, pages };
}

function pagesPerBatch(opts: Pick<PageMoveOptions, 'pageSize' | 'batchMiB'>): number {
  const batchMiB = opts.batchMiB ?? 64;
  if (!(batchMiB > 0)) throw new RangeError(`batchMiB ${batchMiB} must be > 0`);
  return Math.max(1, Math.floor((batchMiB * MiB) / opts.pageSize));
}

/**
 * Move the resident pages of `range` in process `pid` to `target`, in batches, at most budgetMiB.
 * Each page moves at most once. After each batch the pages whose status is not their target are read
 * back (the kernel's status errs only that way: subpages of a transparent huge page report EBUSY
 * though the huge page moved with its head, and a call that gives up part-way leaves the rest
 * unwritten), and the whole range at the end.
 * A whole-call failure (no right, node not allowed, process gone) throws MovePagesError.
 */
export async function moveRange(pid: number, range: HostRange, target: PageTarget, opts: PageMoveOptions): Promise<PageMoveResult> {
  const t0 = performance.now();
  const { pageSize } = opts;
  const pages = checkRange(range, pageSize);
  const call = opts.call ?? libnumaMovePages();
  const flags = opts.flags ?? MPOL_MF_MOVE_ALL;
  const perWindow = pagesPerBatch(opts);
  const budgetPages = opts.budgetMiB === undefined ? Infinity : Math.floor((opts.budgetMiB * MiB) / pageSize);
  const stats = { calls: 0 };
  const room = new Map(Object.entries(opts.roomPages ?? {}).map(([n, p]) => [Number(n), p]));
  let before: Map<number, number>;
  let planner: PagePlanner;
  if ('node' in target) {
    before = new Map();
    planner = PagePlanner.toNode(target.node, budgetPages, room);
  } else {
    const q = await queryPass(call, pid, range, pageSize, perWindow, stats);
    before = q.perNode;
    const present = pages - q.absent;
    planner = PagePlanner.split(targetPages(target.MiBByNode, present), before, budgetPages, room);
  }
  let moved = 0;
  let moveMs = 0;
  let stoppedBy: PageMoveResult['stoppedBy'] = null;
  const failed: Record<string, number> = {};
  for (const [first, count] of windows(pages, perWindow)) {
    if (opts.shouldStop?.()) {
      stoppedBy = 'stop';
      break;
    }
    const where = await queryWindow(call, pid, addresses(range, pageSize, first, seq(count), count), stats);
    if ('node' in target) countNodes(where, before);
    const plan = planner.window(where);
    if (plan.index.length === 0) continue;
    const addrs = addresses(range, pageSize, first, plan.index, plan.index.length);
    const status = new Int32Array(addrs.length).fill(UNWRITTEN);
    const tm = performance.now();
    stats.calls++;
    await call(pid, addrs, Int32Array.from(plan.node), status, flags);
    moveMs += performance.now() - tm;
    // A status equal to its target is the kernel's word that the page is there; the others are read back.
    const doubt = plan.index.flatMap((_, k) => (status[k] === plan.node[k] ? [] : [k]));
    moved += plan.index.length - doubt.length;
    if (doubt.length === 0) continue;
    const now = await queryWindow(call, pid, BigUint64Array.from(doubt, (k) => addrs[k]), stats);
    for (const [j, k] of doubt.entries()) {
      if (now[j] === plan.node[k]) moved++;
      else if (now[j] >= 0) {
        const why = status[k] === UNWRITTEN ? 'unreported' : status[k] < 0 ? errnoName(status[k]) : 'EAGAIN';
        failed[why] = (failed[why] ?? 0) + 1;
      }
    }
  }
  if (stoppedBy === null && planner.deferred > 0) stoppedBy = 'budget';
  const after = await queryPass(call, pid, range, pageSize, perWindow, stats);
  return {
    pageSize,
    pages,
    absent: planner.absent,
    alreadyPlaced: planner.alreadyPlaced,
    moved,
    failed,
    deferred: planner.deferred,
    unplaceable: planner.unplaceable,
    stoppedBy,
    beforeMiB: toMiB(before, pageSize),
    afterMiB: toMiB(after.perNode, pageSize),
    calls: stats.calls,
    ms: Math.round(performance.now() - t0),
    moveMs: Math.round(moveMs),
  };
}
