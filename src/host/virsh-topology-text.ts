/**
 * Host topology from the text of `virsh capabilities` (fetched rarely: it costs libvirt 4-9 s here) and
 * the free memory of each node (`virsh freecell --cellno N`, inside the sampling batch every cycle).
 * Minimal reading until src/topology/capabilities.ts (the topology helper's full parser) is on main;
 * then this delegates to it.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parseCpuSet } from '../topology/cpuset.js';
import { type CpuInfo, type HostTopology, type NumaNode, TopologyError } from '../topology/types.js';

type X = Record<string, unknown>;
const CELL = 'capabilities.host.topology.cells.cell';
const parser = new XMLParser({
  ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, parseAttributeValue: false,
  isArray: (_n, jpath) => [CELL, `${CELL}.cpus.cpu`, `${CELL}.distances.sibling`].includes(String(jpath)),
});

/** Node ids of the capabilities' cells (to ask `freecell --cellno N` for each). */
export function capabilityCellIds(capsXml: string): number[] {
  if (XMLValidator.validate(capsXml) !== true) throw new TopologyError('capabilities XML is malformed (cut short?)');
  const cells = cellsOf(parser.parse(capsXml) as X);
  return cells.map((c) => Number(c['@id']));
}

function cellsOf(doc: X): X[] {
  const cells = ((((doc.capabilities as X)?.host as X)?.topology as X)?.cells as X)?.cell as X[] | undefined;
  if (!cells?.length) throw new TopologyError('capabilities lists no NUMA <cell>');
  return cells;
}

/**
 * `virsh freecell --cellno N` prints "N: FREE KiB" (real capture: *freecell-cellno-0.txt). Used instead of
 * `freecell --all`, which makes virsh fetch the capabilities again: 4-9 s on libvirt 9.0 here.
 */
export function parseFreecellCell(text: string, node: number): number {
  const m = /^\s*(\d+):\s+(\d+) KiB\s*$/.exec(text.trim());
  if (!m || Number(m[1]) !== node) throw new TopologyError(`freecell --cellno ${node}: expected "${node}: AMOUNT KiB", got ${JSON.stringify(text.slice(0, 60))}`);
  return Number(m[2]);
}

export function topologyFromVirshText(capsXml: string, free: Map<number, number>, source = 'capabilities'): HostTopology {
  if (XMLValidator.validate(capsXml) !== true) throw new TopologyError('capabilities XML is malformed (cut short?)');
  const cells = cellsOf(parser.parse(capsXml) as X);
  const cpus: CpuInfo[] = [];
  const nodes: NumaNode[] = cells.map((c) => {
    const id = Number(c['@id']);
    const mem = c.memory as X;
    const memKiB = Number(mem?.['#text'] ?? 0);
    const distances: Record<string, number> = {};
    for (const s of (((c.distances as X)?.sibling as X[]) ?? [])) distances[String(s['@id'])] = Number(s['@value']);
    if (Object.keys(distances).length === 0) distances[String(id)] = 10;
    const ids: number[] = [];
    for (const cpu of (((c.cpus as X)?.cpu as X[]) ?? [])) {
      const cid = Number(cpu['@id']);
      ids.push(cid);
      cpus.push({
        id: cid, node: id, socket: Number(cpu['@socket_id'] ?? -1), die: Number(cpu['@die_id'] ?? 0),
        core: Number(cpu['@core_id'] ?? -1), siblings: parseCpuSet(String(cpu['@siblings'] ?? cid)), online: true,
      });
    }
    return {
      id, cpus: ids.sort((a, b) => a - b), memoryMiB: Math.floor(memKiB / 1024),
      freeMemoryMiB: Math.floor((free.get(id) ?? 0) / 1024), distances,
    };
  });
  return { nodes, cpus: cpus.sort((a, b) => a.id - b.id), warnings: [], source };
}
