/**
 * Host topology from the text of `virsh capabilities` (fetched rarely by the virsh backend) and of
 * `virsh freecell --cellno N` for each node (inside its sampling batch every cycle), through the
 * topology parsers (src/topology/capabilities.ts, freecell.ts).
 */
import { parseCapabilities } from '../topology/capabilities.js';
import { parseFreecell } from '../topology/freecell.js';
import type { HostTopology } from '../core/topology.js';

/** Node ids of the capabilities' cells (to ask `freecell --cellno N` for each). */
export function capabilityCellIds(capsXml: string): number[] {
  return parseCapabilities(capsXml).nodes.map((n) => n.id);
}

/** `freecellOutputs`: the outputs of `freecell --cellno N` for the nodes, in any order. */
export function topologyFromVirshText(capsXml: string, freecellOutputs: string[], source = 'capabilities'): HostTopology {
  return parseCapabilities(capsXml, { free: parseFreecell(freecellOutputs.join('\n')), source });
}
