/**
 * Run inside the NUMA lab: numaplace's page mover (src/host/guest-memory.ts) on a lab VM, with the
 * VM's guest cells as libvirt reports them (virsh dumpxml), as the daemon will call it.
 *   node dist/test/lab/pages-helper.js blocks VM
 *   node dist/test/lab/pages-helper.js place VM '{"targets":[{"cell":0,"MiBByNode":{"0":400}}],"budgetMiB":1024}'
 * Prints one JSON line (host addresses as hex strings).
 */
import { execFileSync } from 'node:child_process';
import { parseDomainXml } from '../../src/host/parse-domain-xml.js';
import { readQemuPid } from '../../src/host/virsh-backend.js';
import { readGuestRamBlocks } from '../../src/host/guest-ram-blocks.js';
import { placeGuestMemory, type MemoryTarget } from '../../src/host/guest-memory.js';

const [cmd, vm, arg] = process.argv.slice(2);
const pid = await readQemuPid('/run/libvirt/qemu', vm);
if (pid === undefined) throw new Error(`${vm}: no pid file (not running?)`);
const cells = parseDomainXml(execFileSync('virsh', ['-c', 'qemu:///system', 'dumpxml', vm], { encoding: 'utf8' })).guestCells;
const hex = (_k: string, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v);
if (cmd === 'blocks') {
  console.log(JSON.stringify({ pid, blocks: await readGuestRamBlocks(pid, cells) }, hex));
} else if (cmd === 'place') {
  const req = JSON.parse(arg) as { targets: MemoryTarget[]; budgetMiB: number };
  console.log(JSON.stringify(await placeGuestMemory({ vm, pid, guestCells: cells, ...req }), hex));
} else {
  console.error('usage: pages-helper.js blocks VM | place VM JSON');
  process.exit(2);
}
