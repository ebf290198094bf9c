/**
 * The persistent definition with one guest cell's `<numatune><memnode>` set (seed: Guest NUMA,
 * `<memnode cellid="0" mode="strict" nodeset="0"/>`). libvirt 9 changes no memnode on a running
 * VM, so numaplace rewrites the definition (`virsh dumpxml --inactive --security-info`, this edit,
 * `virsh define`): the cell's memory lands there at the next boot.
 *
 * A text edit, not a re-serialisation: everything else in the definition stays byte for byte. It
 * works on libvirt's own formatting (domain children indented two spaces), and the result is
 * parsed back and checked before anyone defines it.
 */
import { formatCpuSet, parseCpuSet, sameCpuSet } from '../core/cpuset.js';
import { parseDomainXml } from './parse-domain-xml.js';

export class MemnodeEditError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'MemnodeEditError';
  }
}

const NUMATUNE = /^( {2})<numatune>\n([\s\S]*?)^ {2}<\/numatune>$/m;
const MEMORY_MODE = /^ {4}<memory mode='([a-z]+)'/m;

export function withMemnode(inactiveXml: string, cellid: number, nodeset: string): string {
  if (!Number.isInteger(cellid) || cellid < 0) throw new MemnodeEditError(`cell ${cellid} is not a guest cell id`);
  const nodes = formatCpuSet(parseCpuSet(nodeset));
  const before = parseDomainXml(inactiveXml, 'the persistent definition');
  if (!before.guestCells.some((c) => c.id === cellid)) throw new MemnodeEditError(`the definition has no guest NUMA cell ${cellid}`);
  const block = NUMATUNE.exec(inactiveXml);
  if (!block) throw new MemnodeEditError('the definition has no <numatune> (a memnode needs one beside it)');
  const body = block[2];
  // libvirt wants a memnode in mode restrictive exactly when <memory> is restrictive (the only mode numaplace moves live).
  const mode = MEMORY_MODE.exec(body)?.[1] === 'restrictive' ? 'restrictive' : 'strict';
  const line = new RegExp(`^ {4}<memnode cellid='${cellid}' mode='([a-z]+)' nodeset='[^']*'/>(?=\n)`, 'm');
  const m = line.exec(body);
  const newBody = m
    ? body.replace(line, `    <memnode cellid='${cellid}' mode='${m[1]}' nodeset='${nodes}'/>`)
    : `${body}    <memnode cellid='${cellid}' mode='${mode}' nodeset='${nodes}'/>\n`;
  const out = inactiveXml.slice(0, block.index) + `  <numatune>\n${newBody}  </numatune>` + inactiveXml.slice(block.index + block[0].length);
  const after = parseDomainXml(out, 'the edited definition');
  const got = after.memnodes.find((x) => x.cellid === cellid);
  if (!got || !sameCpuSet(got.nodeset, nodes) || after.memnodes.length !== before.memnodes.length + (m ? 0 : 1) || after.name !== before.name || after.uuid !== before.uuid) {
    throw new MemnodeEditError('the edited definition did not read back as expected (unusual formatting); nothing written');
  }
  return out;
}
