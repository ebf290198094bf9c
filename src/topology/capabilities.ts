/**
 * `virsh capabilities` XML -> HostTopology. Reads <host><topology><cells>: per cell its memory
 * (KiB), page pools, <distances> and <cpus> with socket_id/die_id/core_id/siblings. Free memory
 * is not in capabilities; pass `free` (from `virsh freecell --all`) to fill it in.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { FreeMemory } from './freecell.js';
import {
  byId, DEFAULT_DISTANCE_WARNING, defaultDistances, parseCpuList, parseId, resolveMemory, toKiB,
} from './parse-util.js';
import { type CpuInfo, type HostTopology, type NumaNode, type PagePool, TopologyError } from '../core/topology.js';
import { validateTopology } from '../core/topology-validate.js';

export interface CapabilitiesOptions {
  /** Free memory per node, from `virsh freecell --all`. */
  free?: FreeMemory;
  /** Recorded in HostTopology.source; default "capabilities". */
  source?: string;
}

type XmlNode = Record<string, unknown>;

const CELL = 'capabilities.host.topology.cells.cell';
const ARRAYS = new Set([CELL, `${CELL}.cpus.cpu`, `${CELL}.distances.sibling`, `${CELL}.pages`]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (_name, jpath) => ARRAYS.has(String(jpath)),
});

function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  if (node && typeof node === 'object' && '#text' in node) return String((node as XmlNode)['#text']);
  return undefined;
}

function attr(node: unknown, name: string): string | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const v = (node as XmlNode)[`@${name}`];
  return v === undefined ? undefined : String(v);
}

function asObject(node: unknown): XmlNode {
  return node && typeof node === 'object' ? (node as XmlNode) : {};
}

/** Linux's largest node count (MAX_NUMNODES with NODES_SHIFT 10) and a CPU count far above any host. */
export const MAX_CAPABILITY_CELLS = 1024;
export const MAX_CAPABILITY_CPUS = 65536;

function countUpTo(xml: string, re: RegExp, max: number): number {
  let n = 0;
  re.lastIndex = 0;
  while (re.exec(xml) && n <= max) n++;
  return n;
}

function parseDocument(xml: string): XmlNode {
  // virsh capabilities never has a DOCTYPE: one here is hostile or not libvirt's (no entity is expanded, none fetched).
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new TopologyError('capabilities XML has a <!DOCTYPE> or <!ENTITY> declaration, which virsh capabilities never prints; refused (entities are not expanded)');
  if (countUpTo(xml, /<cell[\s>]/g, MAX_CAPABILITY_CELLS) > MAX_CAPABILITY_CELLS) throw new TopologyError(`capabilities XML has more than ${MAX_CAPABILITY_CELLS} NUMA cells (Linux supports at most ${MAX_CAPABILITY_CELLS}); refused`);
  if (countUpTo(xml, /<cpu\s/g, MAX_CAPABILITY_CPUS) > MAX_CAPABILITY_CPUS) throw new TopologyError(`capabilities XML has more than ${MAX_CAPABILITY_CPUS} CPUs; refused`);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { code, msg, line, col } = valid.err;
    const open = code === 'InvalidXml' && msg.startsWith("Invalid '[") ? [...msg.matchAll(/"([^"]+)"/g)].map((m) => `<${m[1]}>`) : [];
    if (open.length) throw new TopologyError(`capabilities XML ends with ${open.join(' ')} still open: the output is truncated`);
    throw new TopologyError(`capabilities XML is not well-formed (line ${line}${col ? `, column ${col}` : ''}: ${msg.replace(/\s+/g, ' ')}); is the file complete?`);
  }
  const doc = parser.parse(xml) as XmlNode;
  if (!doc.capabilities) {
    const root = Object.keys(doc).find((k) => !k.startsWith('?')) ?? 'nothing';
    throw new TopologyError(`not virsh capabilities output: the root element is <${root}>, expected <capabilities>`);
  }
  return doc;
}

interface ParsedCpu {
  id: number;
  /** Undefined when the <cpu> element carries no topology attributes. */
  topo?: { socket: number; die?: number; core: number; siblings: number[] };
}

function parseCpu(el: unknown, cellId: number): ParsedCpu {
  const where = `cell ${cellId}`;
  const id = parseId(attr(el, 'id'), `${where}: <cpu id>`);
  const socket = attr(el, 'socket_id');
  const core = attr(el, 'core_id');
  const siblings = attr(el, 'siblings');
  if (socket === undefined && core === undefined && siblings === undefined) return { id };
  if (socket === undefined || core === undefined || siblings === undefined) {
    throw new TopologyError(`${where}: CPU ${id} has only some of socket_id, core_id and siblings`);
  }
  const die = attr(el, 'die_id');
  const sib = parseCpuList(siblings, `${where}: CPU ${id} siblings`);
  if (!sib.includes(id)) throw new TopologyError(`${where}: CPU ${id} has siblings "${siblings}", which do not include CPU ${id}`);
  return {
    id,
    topo: {
      socket: parseId(socket, `${where}: CPU ${id} socket_id`),
      die: die === undefined ? undefined : parseId(die, `${where}: CPU ${id} die_id`),
      core: parseId(core, `${where}: CPU ${id} core_id`),
      siblings: sib,
    },
  };
}

function parsePages(cell: XmlNode, cellId: number): PagePool[] | undefined {
  const pages = (cell.pages as unknown[] | undefined) ?? [];
  if (pages.length === 0) return undefined;
  return pages.map((p) => {
    const where = `cell ${cellId}: <pages>`;
    const size = parseId(attr(p, 'size'), `${where} size`);
    return {
      sizeKiB: toKiB(size, attr(p, 'unit'), where),
      count: parseId(text(p), `${where} count`),
    };
  });
}

export function parseCapabilities(xml: string, opts: CapabilitiesOptions = {}): HostTopology {
  const doc = parseDocument(xml);
  const topology = asObject(asObject(asObject(doc.capabilities).host).topology);
  const cellsEl = topology.cells;
  if (cellsEl === undefined) throw new TopologyError('capabilities has no <host><topology><cells>: libvirt reported no NUMA cells');
  const cells = (asObject(cellsEl).cell as XmlNode[] | undefined) ?? [];
  if (cells.length === 0) throw new TopologyError('capabilities lists no <cell> under <topology><cells>');
  const declared = attr(cellsEl, 'num');
  if (declared !== undefined && parseId(declared, '<cells num>') !== cells.length) {
    throw new TopologyError(`capabilities says <cells num='${declared}'> but lists ${cells.length} cells`);
  }

  const warnings: string[] = [];
  const cellIds = cells.map((c) => parseId(attr(c, 'id'), '<cell id>'));
  const dup = cellIds.find((id, i) => cellIds.indexOf(id) !== i);
  if (dup !== undefined) throw new TopologyError(`capabilities lists cell ${dup} twice`);
  const nodeIds = [...cellIds].sort((a, b) => a - b);

  // Every CPU with its cell, checking no CPU is in two cells.
  const cpusByCell = new Map<number, ParsedCpu[]>();
  const cellOfCpu = new Map<number, number>();
  cells.forEach((cell, i) => {
    const id = cellIds[i];
    const cpusEl = cell.cpus;
    if (cpusEl === undefined) {
      warnings.push(`cell ${id} has no <cpus> element: treated as a memory-only node`);
      cpusByCell.set(id, []);
      return;
    }
    const list = ((asObject(cpusEl).cpu as unknown[] | undefined) ?? []).map((el) => parseCpu(el, id));
    const num = attr(cpusEl, 'num');
    if (num !== undefined && parseId(num, `cell ${id}: <cpus num>`) !== list.length) {
      throw new TopologyError(`cell ${id} says <cpus num='${num}'> but lists ${list.length} CPUs`);
    }
    for (const c of list) {
      const prev = cellOfCpu.get(c.id);
      if (prev !== undefined) throw new TopologyError(`CPU ${c.id} is in cell ${prev} and cell ${id}`);
      cellOfCpu.set(c.id, id);
    }
    cpusByCell.set(id, list);
  });

  // libvirt >= 1.2 prints socket/core/siblings for every CPU whose topology it can read and a bare
  // <cpu id='N'/> for an offline one; older libvirt (and other drivers) print only bare ids.
  const all = [...cpusByCell.values()].flat();
  const bare = all.filter((c) => !c.topo);
  const bareMeansOffline = bare.length > 0 && bare.length < all.length;
  if (bare.length > 0 && !bareMeansOffline) {
    warnings.push('capabilities gives no socket/core/siblings for any CPU (old libvirt?): CPU details unknown');
  } else if (bareMeansOffline) {
    warnings.push(`CPUs ${bare.map((c) => c.id).join(',')} have no topology in capabilities, as libvirt reports offline CPUs: treated as offline`);
  }
  if (all.some((c) => c.topo && c.topo.die === undefined)) {
    warnings.push('capabilities has no die_id (libvirt older than 6.0): one die per socket assumed');
  }

  // Distances: all cells or none.
  const withDistances = cells.filter((c) => c.distances !== undefined).length;
  let defaultRows: Map<number, Record<string, number>> | undefined;
  if (withDistances === 0) {
    defaultRows = defaultDistances(nodeIds);
    warnings.push(DEFAULT_DISTANCE_WARNING('capabilities'));
  } else if (withDistances !== cells.length) {
    const missing = cells.filter((c) => c.distances === undefined).map((c) => attr(c, 'id'));
    throw new TopologyError(`cells ${missing.join(',')} have no <distances> while others do: the distance matrix is incomplete`);
  }

  const nodes: NumaNode[] = [];
  const cpus: CpuInfo[] = [];
  cells.forEach((cell, i) => {
    const id = cellIds[i];
    let distances: Record<string, number>;
    if (defaultRows) {
      distances = defaultRows.get(id)!;
    } else {
      distances = {};
      const siblings = (asObject(cell.distances).sibling as unknown[] | undefined) ?? [];
      for (const s of siblings) {
        const to = parseId(attr(s, 'id'), `cell ${id}: <sibling id>`);
        if (String(to) in distances) throw new TopologyError(`cell ${id} gives the distance to node ${to} twice`);
        const v = parseId(attr(s, 'value'), `cell ${id}: distance to node ${to}`);
        distances[String(to)] = v;
      }
      const got = Object.keys(distances).map(Number).sort((a, b) => a - b);
      if (got.join(',') !== nodeIds.join(',')) {
        throw new TopologyError(`cell ${id} has distances to nodes ${got.join(',') || 'none'} but the host has nodes ${nodeIds.join(',')}: the distance row does not match the node list`);
      }
    }

    const memEl = cell.memory;
    const totalKiB = memEl === undefined ? undefined : toKiB(parseId(text(memEl), `cell ${id}: <memory>`), attr(memEl, 'unit'), `cell ${id}: <memory>`);
    let freeKiB: number | undefined;
    if (opts.free) freeKiB = opts.free.perNodeKiB.get(id);
    const memory = resolveMemory(id, totalKiB, freeKiB, warnings, {
      total: 'capabilities gives no <memory>',
      free: opts.free ? 'freecell has no line for it' : 'capabilities has no free memory (add freecell output)',
    });

    const list = cpusByCell.get(id)!;
    const online = list.filter((c) => c.topo || !bareMeansOffline).map((c) => c.id).sort((a, b) => a - b);
    for (const c of list) {
      const isOnline = Boolean(c.topo) || !bareMeansOffline;
      cpus.push({
        id: c.id,
        node: id,
        socket: c.topo?.socket ?? -1,
        die: c.topo ? c.topo.die ?? 0 : -1,
        core: c.topo?.core ?? -1,
        siblings: c.topo?.siblings ?? [c.id],
        online: isOnline,
      });
    }
    const pages = parsePages(cell, id);
    nodes.push({ id, cpus: online, ...memory, distances, ...(pages ? { pages } : {}) });
  });

  if (opts.free) {
    for (const id of opts.free.perNodeKiB.keys()) {
      if (!cellIds.includes(id)) throw new TopologyError(`freecell lists node ${id}, which capabilities does not have (nodes ${nodeIds.join(',')})`);
    }
  }

  nodes.sort(byId);
  cpus.sort(byId);
  // libvirtd computes capabilities once and caches them, while freecell is live: after memory
  // hot-plug the free amount can exceed the cached total. The live figure wins.
  for (const n of nodes) {
    if (n.freeMemoryMiB > n.memoryMiB) {
      warnings.push(`node ${n.id}: freecell says ${n.freeMemoryMiB} MiB free but capabilities says it has ${n.memoryMiB} MiB (stale capabilities after memory hot-plug?): total taken as ${n.freeMemoryMiB} MiB`);
      n.memoryMiB = n.freeMemoryMiB;
    }
  }
  return validateTopology({ nodes, cpus, warnings, source: opts.source ?? 'capabilities' });
}
