import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { GuestRamLayoutError, findGuestRamBlocks, parseMaps, parseQemuCmdline, type GuestRamBlock } from '../../src/host/guest-ram-blocks.js';
import type { GuestCell } from '../../src/core/sample.js';

/**
 * Captured on the four-node NUMA lab (Debian 12 kernel 6.1, libvirt 9.0, QEMU 7.2, TCG): VM "wide" (two
 * cells of 400 MiB, preallocated), VM "flat" (256 MiB, no cells), VM "huge" (two cells of 64 MiB on
 * 2 MiB huge pages: memory-backend-file on hugetlbfs), VM "shm" (two cells of 64 MiB,
 * `<source type='memfd'/><access mode='shared'/>`: memory-backend-memfd). cmdline is stored with its
 * NULs shown as newlines; gpa2hva is QEMU's own answer (HMP) for guest-physical addresses of each cell.
 */
function capture(vm: string, what: string): string {
  return readFileSync(`test/fixtures/pages/numa-lab-four-node-${vm}-${what}.txt`, 'utf8');
}
function files(vm: string): { cmdline: string; maps: string; numaMaps: string } {
  return { cmdline: capture(vm, 'cmdline').replace(/\n$/, '').split('\n').join('\0'), maps: capture(vm, 'maps'), numaMaps: capture(vm, 'numa_maps') };
}
const cell = (id: number, memoryMiB: number): GuestCell => ({ id, cpus: [id], memoryMiB });

/** "Host virtual address for 0x1000 (ram-node0) is 0x7f..." lines: backend and host address per guest-physical address. */
function gpa2hva(text: string): { gpa: bigint; backend: string; hva: bigint }[] {
  return [...text.matchAll(/Host virtual address for (0x[0-9a-f]+) \(([^)]+)\) is (0x[0-9a-f]+)/g)].map((m) => ({ gpa: BigInt(m[1]), backend: m[2], hva: BigInt(m[3]) }));
}

/** Each gpa2hva answer falls in its backend's block at the cell's offset (cells are laid out in guest-physical order). */
function expectAgreesWithQemu(blocks: GuestRamBlock[], answers: { gpa: bigint; backend: string; hva: bigint }[]): void {
  let base = 0n;
  const gpaBase = new Map<string, bigint>();
  for (const b of [...blocks].sort((x, y) => (x.cell ?? 0) - (y.cell ?? 0))) {
    gpaBase.set(b.backend, base);
    base += b.end - b.start;
  }
  expect(answers.length).to.be.greaterThan(1);
  for (const a of answers) {
    const b = blocks.find((x) => x.backend === a.backend)!;
    expect(b, a.backend).to.not.equal(undefined);
    expect(a.hva - b.start, `gpa 0x${a.gpa.toString(16)} in ${a.backend}`).to.equal(a.gpa - gpaBase.get(a.backend)!);
  }
}

describe('guest RAM blocks in a QEMU process (captured on the four-node lab, QEMU 7.2)', () => {
  it('parses libvirt\'s command line: backends in order, cell -> backend, the machine\'s backend', () => {
    const wide = parseQemuCmdline(files('wide').cmdline);
    expect(wide.backends).to.deep.equal([
      { id: 'ram-node0', type: 'memory-backend-ram', size: 400 * 1048576 },
      { id: 'ram-node1', type: 'memory-backend-ram', size: 400 * 1048576 },
    ]);
    expect([...wide.cellBackend]).to.deep.equal([[0, 'ram-node0'], [1, 'ram-node1']]);
    expect(parseQemuCmdline(files('flat').cmdline).machineBackend).to.equal('pc.ram');
  });

  it('finds two equal-sized cells\' blocks exactly where QEMU\'s gpa2hva says they are (the first backend is the higher mapping)', () => {
    const blocks = findGuestRamBlocks(249, files('wide'), [cell(0, 400), cell(1, 400)]);
    expect(blocks.map((b) => [b.backend, b.cell, `0x${b.start.toString(16)}`, `0x${b.end.toString(16)}`, b.pageSize, b.hugetlb, b.kind, b.shared, b.foundBy])).to.deep.equal([
      ['ram-node0', 0, '0x7f9ccc200000', '0x7f9ce5200000', 4096, false, 'ram', false, 'order'],
      ['ram-node1', 1, '0x7f9ca2e00000', '0x7f9cbbe00000', 4096, false, 'ram', false, 'order'],
    ]);
    expectAgreesWithQemu(blocks, gpa2hva(capture('wide', 'gpa2hva')));
  });

  it('huge pages: each cell\'s hugetlbfs file found by its name (qemu_back_mem.ram-nodeN.XXXXXX, under the path QEMU\'s mount namespace shows), 2 MiB pages', () => {
    const blocks = findGuestRamBlocks(303, files('huge'), [cell(0, 64), cell(1, 64)]);
    expect(blocks.map((b) => [b.backend, b.pageSize, b.hugetlb, b.kind, b.shared, b.foundBy])).to.deep.equal([['ram-node0', 2097152, true, 'file', false, 'name'], ['ram-node1', 2097152, true, 'file', false, 'name']]);
    expectAgreesWithQemu(blocks, gpa2hva(capture('huge', 'gpa2hva')));
  });

  it('memfd: every mapping is named memory-backend-memfd, so the cells are told apart by order, as QEMU says', () => {
    const blocks = findGuestRamBlocks(461, files('shm'), [cell(0, 64), cell(1, 64)]);
    expect(blocks.map((b) => [b.backend, b.pageSize, b.kind, b.shared, b.foundBy])).to.deep.equal([['ram-node0', 4096, 'memfd', true, 'order'], ['ram-node1', 4096, 'memfd', true, 'order']]);
    expectAgreesWithQemu(blocks, gpa2hva(capture('shm', 'gpa2hva')));
  });

  it('finds the RAM of a VM without cells (pc.ram)', () => {
    const [b] = findGuestRamBlocks(1, files('flat'), []);
    expect([b.backend, b.cell, Number(b.end - b.start) / 1048576, b.pageSize]).to.deep.equal(['pc.ram', null, 256, 4096]);
  });

  it('reads the legacy key=value -object syntax the same way', () => {
    const f = files('wide');
    const legacy = f.cmdline.replace(/\{"qom-type":"memory-backend-ram","id":"(ram-node\d)","prealloc":true,"size":(\d+)\}/g, 'memory-backend-ram,id=$1,prealloc=on,size=$2');
    expect(legacy).to.not.equal(f.cmdline);
    expect(findGuestRamBlocks(249, { ...f, cmdline: legacy }, [cell(0, 400), cell(1, 400)]).map((b) => b.start)).to.deep.equal(
      findGuestRamBlocks(249, f, [cell(0, 400), cell(1, 400)]).map((b) => b.start),
    );
  });

  it('refuses rather than guesses: a cell size libvirt and QEMU disagree on, a cell with no backend, a block without its guard page', () => {
    const f = files('wide');
    expect(() => findGuestRamBlocks(249, f, [cell(0, 512), cell(1, 400)])).to.throw(GuestRamLayoutError, /cell 0 has 512 MiB in libvirt but its backend ram-node0 has 400 MiB/);
    expect(() => findGuestRamBlocks(249, f, [cell(0, 400), cell(2, 400)])).to.throw(GuestRamLayoutError, /guest cell 2 has no memory backend/);
    // Remove ram-node1's guard page: its mapping no longer has qemu_ram_mmap's shape.
    const noGuard = f.maps.split('\n').filter((l) => !l.startsWith('7f9cbbe00000-7f9cbbe01000')).join('\n');
    expect(() => findGuestRamBlocks(249, { ...f, maps: noGuard }, [cell(0, 400), cell(1, 400)])).to.throw(GuestRamLayoutError, /ram-node1 .*no mapping of that size/);
  });

  it('reads QEMU\'s option syntax: repeated keys (cpus=0-1,cpus=4), ",," for a comma, sizes with suffixes', () => {
    const cmd = ['qemu', '-object', 'memory-backend-file,id=ram-node1,mem-path=/dev/huge,,pages,size=2G,share=on', '-numa', 'node,nodeid=1,cpus=0-1,cpus=4,memdev=ram-node1'].join('\0');
    const l = parseQemuCmdline(cmd);
    expect(l.backends).to.deep.equal([{ id: 'ram-node1', type: 'memory-backend-file', size: 2 * 1024 * 1048576, memPath: '/dev/huge,pages', share: true }]);
    expect([...l.cellBackend]).to.deep.equal([[1, 'ram-node1']]);
  });

  it('parses maps lines, with and without a path', () => {
    const m = parseMaps('7f9ccc200000-7f9ce5200000 rw-p 00000000 00:00 0 \n55d0c1a2e000-55d0c1a4f000 r--p 00000000 00:21 1234   /usr/bin/qemu-system-x86_64\n');
    expect(m.map((e) => [e.perms, e.path, Number(e.end - e.start)])).to.deep.equal([['rw-p', '', 400 * 1048576], ['r--p', '/usr/bin/qemu-system-x86_64', 0x21000]]);
  });
});
