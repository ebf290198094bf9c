/**
 * A process's pages as move_pages(2) sees them, for unit tests of src/host/move-pages.ts: each page
 * on a node (or absent), nodes the process's cpuset allows, pages the kernel refuses (busy) and the
 * kernel's per-call behaviour that the module must not trust (subpages of a huge page reported EBUSY
 * though they moved; a call that gives up part-way and leaves the rest of `status` unwritten).
 */
import type { MovePagesCall } from '../../src/host/move-pages.js';
import { MovePagesError } from '../../src/host/move-pages.js';

const ENOENT = 2;
const EBUSY = 16;
const EACCES = 13;
const ESRCH = 3;

export class FakeProcessPages {
  readonly where = new Map<bigint, number>();
  /** Pages that never move (pinned by someone): EBUSY. */
  readonly busy = new Set<bigint>();
  /** Pages that move but are reported EBUSY (the other subpages of a huge page moved along with its head). */
  readonly reportedBusy = new Set<bigint>();
  allowed = new Set<number>([0, 1, 2, 3]);
  /** After this many pages of a moving call the kernel gives up: returns the count left, status unwritten. */
  giveUpAfter = Infinity;
  gone = false;
  readonly calls: { pages: number; move: boolean }[] = [];

  constructor(
    readonly pid: number,
    readonly pageSize = 4096,
  ) {}

  /** Pages [first, first+count) of a block at `base`, on `node` (-1: absent). */
  fill(base: bigint, first: number, count: number, node: number): void {
    for (let i = first; i < first + count; i++) {
      const a = base + BigInt(i * this.pageSize);
      if (node < 0) this.where.delete(a);
      else this.where.set(a, node);
    }
  }

  /** Pages per node in [start, end). */
  count(start: bigint, end: bigint): Record<number, number> {
    const out: Record<number, number> = {};
    for (const [a, n] of this.where) if (a >= start && a < end) out[n] = (out[n] ?? 0) + 1;
    return out;
  }

  readonly call: MovePagesCall = async (pid, pages, nodes, status) => {
    this.calls.push({ pages: pages.length, move: nodes !== null });
    if (this.gone || pid !== this.pid) throw new MovePagesError(pid, ESRCH);
    if (nodes) for (const n of nodes) if (!this.allowed.has(n)) throw new MovePagesError(pid, EACCES);
    let done = 0;
    for (let i = 0; i < pages.length; i++) {
      const a = pages[i];
      const on = this.where.get(a);
      if (!nodes) {
        status[i] = on ?? -ENOENT;
        continue;
      }
      if (done >= this.giveUpAfter) return pages.length - i;
      if (on === undefined) status[i] = -ENOENT;
      else if (this.busy.has(a)) status[i] = -EBUSY;
      else {
        this.where.set(a, nodes[i]);
        status[i] = this.reportedBusy.has(a) ? -EBUSY : nodes[i];
        done++;
      }
    }
    return 0;
  };
}
