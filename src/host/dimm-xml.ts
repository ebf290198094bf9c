/**
 * The device XML `virsh attach-device` takes for a memory hot-plug (seed: 内存热插,
 * step 2), with the host node the placement chose as <source><nodemask>.
 */
import type { DimmSpec } from './backend.js';
import { formatCpuSet, parseCpuSet } from '../core/cpuset.js';

export function dimmXml(dimm: DimmSpec): string {
  if (!Number.isInteger(dimm.MiB) || dimm.MiB <= 0) throw new RangeError(`dimm size ${dimm.MiB} MiB: give a positive whole number of MiB`);
  if (!Number.isInteger(dimm.guestNode) || dimm.guestNode < 0) throw new RangeError(`dimm guest node ${dimm.guestNode}: give a guest NUMA cell id (0, 1, ...)`);
  const lines = ["<memory model='dimm'>"];
  if (dimm.sourceNodes !== undefined && dimm.sourceNodes.trim() !== '') {
    // Canonical form; also guarantees the text is only digits, commas and dashes.
    const nodemask = formatCpuSet(parseCpuSet(dimm.sourceNodes));
    lines.push('  <source>', `    <nodemask>${nodemask}</nodemask>`, '  </source>');
  }
  lines.push('  <target>', `    <size unit='MiB'>${dimm.MiB}</size>`, `    <node>${dimm.guestNode}</node>`, '  </target>', '</memory>');
  return lines.join('\n') + '\n';
}
