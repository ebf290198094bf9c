/**
 * `virsh freecell --all`: free memory per NUMA node. Real output (libvirt 9.0):
 *
 *         0:    3845288 KiB
 *     --------------------
 *     Total:    3845288 KiB
 *
 * Also the concatenated outputs of `virsh freecell --cellno N` ("0: 3420676 KiB"), which have no
 * Total line: on libvirt 9.0 `--all` makes libvirtd rebuild its capabilities (about 9 s measured
 * here, as long as `virsh capabilities` itself) while `--cellno N` answers in about 60 ms.
 */
import { parseId } from './parse-util.js';
import { TopologyError } from '../core/topology.js';

export interface FreeMemory {
  /** Free KiB per node id. */
  perNodeKiB: Map<number, number>;
  /** The sum over the nodes (checked against the Total line when there is one). */
  totalKiB: number;
}

const NODE_LINE = /^\s*(\S+):\s+(\S+)\s+(\S+)\s*$/;

export function parseFreecell(text: string): FreeMemory {
  const perNodeKiB = new Map<number, number>();
  let totalKiB: number | undefined;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line.trim() === '' || /^-+$/.test(line.trim())) return;
    const m = NODE_LINE.exec(line);
    if (!m) throw new TopologyError(`freecell line ${i + 1} ${JSON.stringify(line)} is not "NODE: AMOUNT KiB"`);
    const [, label, amount, unit] = m;
    if (unit !== 'KiB') throw new TopologyError(`freecell line ${i + 1}: unit ${JSON.stringify(unit)}, expected KiB`);
    if (!/^\d+$/.test(amount)) throw new TopologyError(`freecell line ${i + 1}: amount ${JSON.stringify(amount)} is not a number of KiB`);
    if (label === 'Total') {
      totalKiB = Number(amount);
      return;
    }
    const id = parseId(label, `freecell line ${i + 1}: node id`);
    if (perNodeKiB.has(id)) throw new TopologyError(`freecell lists node ${id} twice`);
    perNodeKiB.set(id, Number(amount));
  });
  if (perNodeKiB.size === 0) {
    throw new TopologyError('freecell output has no per-node lines (run "virsh freecell --all", not plain "virsh freecell")');
  }
  const sum = [...perNodeKiB.values()].reduce((a, b) => a + b, 0);
  if (totalKiB !== undefined && totalKiB !== sum) throw new TopologyError(`freecell Total ${totalKiB} KiB is not the sum of its nodes (${sum} KiB): the output is inconsistent or cut short`);
  return { perNodeKiB, totalKiB: sum };
}
