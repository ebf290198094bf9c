/**
 * Which pages of a guest RAM block to move where, decided window by window (a window is one
 * move_pages(2) batch: a 1 TiB VM never needs a per-page array of its whole RAM).
 *
 * A target is pages per host node. Pages already on a node within its share stay (each page moves
 * at most once); the rest go, in address order, to the nodes still short of their share, until the
 * budget is spent. A single-node target (a guest cell) needs no counts first: every page off that
 * node moves. A split (a VM without cells over several nodes, a memory-only node's share) needs the
 * block's pages per node first (one query pass) to know which pages may stay.
 */

/** Pages per host node. */
export type NodePages = Map<number, number>;

/** A target's pages per node for `presentPages` resident pages, from MiB per node in the plan (scaled: the plan's MiB are the VM's, the block is part of it). */
export function targetPages(MiBByNode: Record<string, number>, presentPages: number): NodePages {
  const entries = Object.entries(MiBByNode).map(([n, m]) => [Number(n), m] as const).filter(([, m]) => m > 0).sort((a, b) => a[0] - b[0]);
  for (const [n, m] of entries) if (!Number.isInteger(n) || n < 0 || !Number.isFinite(m)) throw new RangeError(`target: node ${n} MiB ${m}`);
  const total = entries.reduce((s, [, m]) => s + m, 0);
  const out: NodePages = new Map();
  if (total === 0) throw new RangeError('target: no node has MiB > 0');
  let given = 0;
  for (const [i, [n, m]] of entries.entries()) {
    const pages = i === entries.length - 1 ? presentPages - given : Math.round((m / total) * presentPages);
    out.set(n, pages);
    given += pages;
  }
  return out;
}

/** The running state of one block's move: what may stay, what each node still needs, the budget. */
export class PagePlanner {
  /** Pages that may stay on each node (Infinity: all of them). */
  private readonly keepLeft: Map<number, number>;
  /** Pages each target node still takes, in node order. */
  private readonly needLeft: [number, number][];
  alreadyPlaced = 0;
  absent = 0;
  /** Pages that should move but were left for later (the budget ran out). */
  deferred = 0;
  /** Pages off target that no node has room for (the target holds fewer pages than the block). */
  unplaceable = 0;

  private constructor(
    keep: Map<number, number>,
    need: Map<number, number>,
    private budgetLeft: number,
  ) {
    this.keepLeft = keep;
    this.needLeft = [...need].sort((a, b) => a[0] - b[0]);
  }

  /**
   * Every resident page onto `node`. `room`: pages the node can take at most (free huge pages of
   * its pool); what does not fit stays where it is (unplaceable).
   */
  static toNode(node: number, budgetPages: number, room: NodePages = new Map()): PagePlanner {
    return new PagePlanner(new Map([[node, Infinity]]), new Map([[node, room.get(node) ?? Infinity]]), budgetPages);
  }

  /** Pages per node as `target` says, given where the block's pages are now (`current`, from a query pass). */
  static split(target: NodePages, current: NodePages, budgetPages: number, room: NodePages = new Map()): PagePlanner {
    const keep = new Map<number, number>();
    const need = new Map<number, number>();
    for (const [n, want] of target) {
      const stay = Math.min(want, current.get(n) ?? 0);
      keep.set(n, stay);
      const take = Math.min(want - stay, room.get(n) ?? Infinity);
      if (take > 0) need.set(n, take);
    }
    return new PagePlanner(keep, need, budgetPages);
  }

  get budgetSpent(): boolean {
    return this.budgetLeft <= 0;
  }

  /**
   * One window: `where[i]` is the node page i is on (or a negative errno: not resident, not counted).
   * Returns the window's page indexes to move and their target nodes, in address order.
   */
  window(where: Int32Array): { index: number[]; node: number[] } {
    const index: number[] = [];
    const node: number[] = [];
    let need = 0;
    for (let i = 0; i < where.length; i++) {
      const on = where[i];
      if (on < 0) {
        this.absent++;
        continue;
      }
      const keep = this.keepLeft.get(on) ?? 0;
      if (keep > 0) {
        this.keepLeft.set(on, keep - 1);
        this.alreadyPlaced++;
        continue;
      }
      while (need < this.needLeft.length && this.needLeft[need][1] <= 0) need++;
      if (need === this.needLeft.length) {
        this.unplaceable++;
        continue;
      }
      if (this.budgetLeft <= 0) {
        this.deferred++;
        continue;
      }
      this.needLeft[need][1]--;
      this.budgetLeft--;
      index.push(i);
      node.push(this.needLeft[need][0]);
    }
    return { index, node };
  }
}

/** Count resident pages per node of a query window into `into`. */
export function countNodes(where: Int32Array, into: NodePages): NodePages {
  for (const on of where) if (on >= 0) into.set(on, (into.get(on) ?? 0) + 1);
  return into;
}

/** Windows of at most `pagesPerWindow` pages over `pages` pages: [first, count]. */
export function* windows(pages: number, pagesPerWindow: number): Generator<[number, number]> {
  if (!(pagesPerWindow >= 1)) throw new RangeError(`window of ${pagesPerWindow} pages`);
  for (let first = 0; first < pages; first += pagesPerWindow) yield [first, Math.min(pagesPerWindow, pages - first)];
}
