/**
 * Each guest cell's RAM block inside its QEMU process: the host address range that move_pages(2)
 * moves, found without QEMU's monitor (a `virsh qemu-monitor-command` marks the domain tainted
 * "custom-monitor" for good).
 *
 * From three files the host already lets numaplace read (CAP_SYS_PTRACE):
 * - /proc/PID/cmdline: the memory backends libvirt gave QEMU, in order (`-object
 *   {"qom-type":"memory-backend-ram","id":"ram-node0","size":...}`), and which guest cell uses which
 *   (`-numa node,nodeid=0,...,memdev=ram-node0`); a VM without cells has one backend
 *   (`-machine ...,memory-backend=pc.ram`).
 * - /proc/PID/maps: each backend is one mapping of exactly its size followed by QEMU's guard page
 *   (qemu_ram_mmap: the block, then one PROT_NONE page). A file backend (huge pages on hugetlbfs)
 *   carries its id in the file name (`qemu_back_mem.ram-node0.XXXXXX` or
 *   `qemu_back_mem._objects_ram-node0.XXXXXX`): found by name. Anonymous RAM has no name in QEMU 7.2,
 *   and every memfd is named `memory-backend-memfd`: those are found by order. QEMU creates the
 *   backends in command-line order before any other guest RAM, and the kernel places each new
 *   mapping below the previous one (top-down), so the k-th backend is the k-th such mapping from the
 *   top. Shown against QEMU's own answer (HMP gpa2hva) on the lab kernel (test/lab).
 * - /proc/PID/numa_maps: the page size of each mapping (4 KiB, or the huge page size).
 * Anything that does not fit (a size that differs, a backend with no mapping) is an error: no guess.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GuestCell } from '../core/sample.js';

const MiB = 1024 * 1024;

/** One memory backend object from QEMU's command line. */
export interface QemuMemoryBackend {
  id: string;
  /** memory-backend-ram | memory-backend-memfd | memory-backend-file */
  type: string;
  size: number;
  /** memory-backend-file: the file or directory (hugetlbfs mount) it maps. */
  memPath?: string;
  share?: boolean;
}

export interface QemuMemoryLayout {
  /** In command-line order (the order QEMU creates them in). */
  backends: QemuMemoryBackend[];
  /** Guest cell (-numa node,nodeid=N) -> backend id. */
  cellBackend: Map<number, string>;
  /** -machine memory-backend=ID: the RAM of a VM without cells. */
  machineBackend?: string;
}

export interface MapsEntry {
  start: bigint;
  end: bigint;
  perms: string;
  /** Path or pseudo-name ("[heap]", "/memfd:memory-backend-memfd (deleted)"); "" for anonymous. */
  path: string;
}

export interface GuestRamBlock {
  /** The backend's id, e.g. "ram-node0", "pc.ram". */
  backend: string;
  /** libvirt's guest cell id; null for the RAM of a VM without cells. */
  cell: number | null;
  start: bigint;
  end: bigint;
  pageSize: number;
  /** hugetlbfs pages (numa_maps "huge"): they move only as far as the target node's pool has free pages. */
  hugetlb: boolean;
  kind: 'ram' | 'memfd' | 'file';
  /** Mapped shared (memfd, share=on): other processes (vhost-user, virtiofsd) may map its pages too. */
  shared: boolean;
  /** How the mapping was told apart: its file name, or its place among equal mappings. */
  foundBy: 'name' | 'order';
}

/** The RAM blocks cannot be told apart exactly: nothing should be moved. */
export class GuestRamLayoutError extends Error {
  constructor(
    readonly pid: number,
    readonly why: string,
  ) {
    super(`cannot find the guest RAM blocks of QEMU process ${pid}: ${why}; its memory is not moved page by page`);
    this.name = 'GuestRamLayoutError';
  }
}

/** QEMU's "key=value,key=value" option syntax (",," is a literal comma). */
function parseKeyValues(s: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ',' && s[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (s[i] === ',') {
      parts.push(cur);
      cur = '';
    } else cur += s[i];
  }
  parts.push(cur);
  for (const [i, p] of parts.entries()) {
    const eq = p.indexOf('=');
    // The first part without "=" is the implied key (the type of -object, "node" of -numa).
    if (eq < 0) out.set(i === 0 ? '' : p, i === 0 ? p : 'on');
    else if (!out.has(p.slice(0, eq))) out.set(p.slice(0, eq), p.slice(eq + 1));
  }
  return out;
}

/** A QEMU size: a byte count, or with a suffix (k, M, G, T: powers of 1024). */
function parseSize(v: unknown): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)([kKmMgGtT]?)[bB]?$/.exec(String(v));
  if (!m) return NaN;
  const mult = { '': 1, k: 1024, m: MiB, g: 1024 * MiB, t: 1024 * 1024 * MiB }[m[2].toLowerCase()] ?? NaN;
  return Number(m[1]) * mult;
}

/** The memory backends and cells of a QEMU command line (/proc/PID/cmdline: NUL-separated). */
export function parseQemuCmdline(cmdline: string): QemuMemoryLayout {
  const args = cmdline.split('\0');
  const backends: QemuMemoryBackend[] = [];
  const cellBackend = new Map<number, string>();
  let machineBackend: string | undefined;
  for (let i = 0; i + 1 < args.length; i++) {
    const opt = args[i];
    const val = args[i + 1];
    if (opt === '-object') {
      let o: Record<string, unknown>;
      if (val.startsWith('{')) o = JSON.parse(val) as Record<string, unknown>;
      else {
        const kv = parseKeyValues(val);
        o = Object.fromEntries(kv);
        o['qom-type'] = kv.get('qom-type') ?? kv.get('');
      }
      const type = String(o['qom-type']);
      if (!type.startsWith('memory-backend-')) continue;
      const size = parseSize(o.size);
      if (typeof o.id !== 'string' || !Number.isFinite(size)) throw new Error(`-object ${val}: a memory backend without an id or a size`);
      const share = o.share === true || o.share === 'on' || o.share === 'yes';
      backends.push({ id: o.id, type, size, ...(typeof o['mem-path'] === 'string' ? { memPath: o['mem-path'] } : {}), ...(share || type === 'memory-backend-memfd' ? { share: true } : {}) });
    } else if (opt === '-numa') {
      const kv = parseKeyValues(val);
      const memdev = kv.get('memdev');
      if (kv.get('') === 'node' && memdev !== undefined) cellBackend.set(Number(kv.get('nodeid') ?? cellBackend.size), memdev);
    } else if (opt === '-machine') {
      machineBackend = parseKeyValues(val).get('memory-backend') ?? machineBackend;
    }
  }
  return { backends, cellBackend, ...(machineBackend ? { machineBackend } : {}) };
}

/** /proc/PID/maps lines. */
export function parseMaps(text: string): MapsEntry[] {
  const out: MapsEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+ ?\s*(.*)$/.exec(line);
    if (!m) throw new Error(`maps: cannot read ${JSON.stringify(line.slice(0, 80))}`);
    out.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), perms: m[3], path: m[4] });
  }
  return out;
}

/** Page size in bytes of each mapping by start address (numa_maps' kernelpagesize_kB), and whether it is hugetlb ("huge"). */
export function pageSizes(numaMaps: string): Map<bigint, { pageSize: number; hugetlb: boolean }> {
  const out = new Map<bigint, { pageSize: number; hugetlb: boolean }>();
  for (const line of numaMaps.split('\n')) {
    const m = /^([0-9a-f]+) .*\bkernelpagesize_kB=(\d+)/.exec(line);
    if (m) out.set(BigInt(`0x${m[1]}`), { pageSize: Number(m[2]) * 1024, hugetlb: / huge( |$)/.test(line) });
  }
  return out;
}

function kindOf(b: QemuMemoryBackend): GuestRamBlock['kind'] {
  return b.type === 'memory-backend-file' ? 'file' : b.type === 'memory-backend-memfd' ? 'memfd' : 'ram';
}

/**
 * A file backend's mapping: its own file, or the file QEMU made in the directory it was given, named
 * after the backend (matched by file name: the directory part of a path in maps depends on the
 * reader's and QEMU's mount namespaces: libvirt gives QEMU its own /dev).
 */
function fileMatches(e: MapsEntry, b: QemuMemoryBackend): boolean {
  if (!b.memPath) return false;
  const path = e.path.replace(/ \(deleted\)$/, '');
  if (path === b.memPath || path.endsWith(b.memPath)) return true;
  const name = path.slice(path.lastIndexOf('/') + 1);
  return [b.id, `_objects_${b.id}`].some((id) => name.startsWith(`qemu_back_mem.${id}.`) && name.length === `qemu_back_mem.${id}.`.length + 6);
}

/** A mapping shaped as qemu_ram_mmap leaves it for `b`: its exact size, writable, then a PROT_NONE guard page. */
function orderCandidate(e: MapsEntry, next: MapsEntry | undefined, kind: GuestRamBlock['kind']): boolean {
  if (!e.perms.startsWith('rw') || next === undefined || next.start !== e.end || next.perms !== '---p') return false;
  return kind === 'memfd' ? /^\/memfd:memory-backend-memfd( \(deleted\))?$/.test(e.path) : e.path === '';
}

/**
 * The RAM block of each guest cell (or, for a VM without cells, of its one RAM backend), from the
 * process's cmdline, maps and numa_maps texts. `cells` are the guest cells libvirt reports.
 */
export function findGuestRamBlocks(pid: number, files: { cmdline: string; maps: string; numaMaps: string }, cells: readonly GuestCell[]): GuestRamBlock[] {
  let layout: QemuMemoryLayout;
  let maps: MapsEntry[];
  try {
    layout = parseQemuCmdline(files.cmdline);
    maps = parseMaps(files.maps).sort((a, b) => (a.start < b.start ? -1 : 1));
  } catch (e) {
    throw new GuestRamLayoutError(pid, (e as Error).message);
  }
  const byId = new Map(layout.backends.map((b) => [b.id, b]));
  // The backends to find: one per cell, or the machine's RAM.
  const wanted: { backend: QemuMemoryBackend; cell: number | null }[] = [];
  if (cells.length > 0) {
    for (const c of cells) {
      const id = layout.cellBackend.get(c.id);
      const b = id === undefined ? undefined : byId.get(id);
      if (!b) throw new GuestRamLayoutError(pid, `guest cell ${c.id} has no memory backend on QEMU's command line (-numa node,nodeid=${c.id},memdev=...)`);
      if (Math.abs(b.size - c.memoryMiB * MiB) >= MiB) throw new GuestRamLayoutError(pid, `guest cell ${c.id} has ${c.memoryMiB} MiB in libvirt but its backend ${b.id} has ${b.size / MiB} MiB`);
      wanted.push({ backend: b, cell: c.id });
    }
  } else {
    const b = layout.machineBackend === undefined ? undefined : byId.get(layout.machineBackend);
    if (!b) throw new GuestRamLayoutError(pid, 'no guest cells and no -machine memory-backend=ID on QEMU\'s command line');
    wanted.push({ backend: b, cell: null });
  }
  const sizes = pageSizes(files.numaMaps);
  const found = new Map<string, { e: MapsEntry; foundBy: GuestRamBlock['foundBy'] }>();
  // By name: file backends.
  for (const b of layout.backends.filter((x) => kindOf(x) === 'file')) {
    const hits = maps.filter((e) => fileMatches(e, b) && e.end - e.start === BigInt(b.size));
    if (hits.length !== 1) throw new GuestRamLayoutError(pid, `backend ${b.id} (${b.memPath}) has ${hits.length} mappings of ${b.size} bytes named after it, expected 1`);
    found.set(b.id, { e: hits[0], foundBy: 'name' });
  }
  // By order: anonymous and memfd backends, k-th backend = k-th qemu_ram_mmap-shaped mapping from the top.
  for (const kind of ['ram', 'memfd'] as const) {
    const backends = layout.backends.filter((b) => kindOf(b) === kind);
    if (backends.length === 0) continue;
    const candidates = maps.filter((e, i) => orderCandidate(e, maps[i + 1], kind)).reverse();
    let next = 0;
    for (const b of backends) {
      while (next < candidates.length && candidates[next].end - candidates[next].start !== BigInt(b.size)) next++;
      if (next === candidates.length) throw new GuestRamLayoutError(pid, `backend ${b.id} (${kindOf(b)}, ${b.size} bytes): no mapping of that size followed by QEMU's guard page below the backends created before it`);
      found.set(b.id, { e: candidates[next++], foundBy: 'order' });
    }
  }
  return wanted.map(({ backend, cell }) => {
    const f = found.get(backend.id)!;
    const page = sizes.get(f.e.start);
    if (page === undefined) throw new GuestRamLayoutError(pid, `backend ${backend.id}: its mapping at 0x${f.e.start.toString(16)} is not in numa_maps`);
    return { backend: backend.id, cell, start: f.e.start, end: f.e.end, ...page, kind: kindOf(backend), shared: backend.share === true, foundBy: f.foundBy };
  });
}

/** findGuestRamBlocks on a running QEMU process (reading another user's maps needs CAP_SYS_PTRACE). */
export async function readGuestRamBlocks(pid: number, cells: readonly GuestCell[], procDir = '/proc'): Promise<GuestRamBlock[]> {
  const read = (f: string) => readFile(join(procDir, String(pid), f), 'utf8');
  const [cmdline, maps, numaMaps] = await Promise.all([read('cmdline'), read('maps'), read('numa_maps')]);
  return findGuestRamBlocks(pid, { cmdline, maps, numaMaps }, cells);
}
