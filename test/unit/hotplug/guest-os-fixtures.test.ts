/**
 * The guest-side parsers on output captured from a REAL guest OS (scripts/capture-guest-fixtures.sh:
 * Debian's kernel, qemu-ga, virtio-balloon with statistics; see the fixtures' README), and the
 * memory trigger and the 1:32 rule fed with those real balloon figures.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseDomainXml } from '../../../src/host/parse-domain-xml.js';
import { parseDomstats } from '../../../src/host/parse-domstats.js';
import { parseGuestVcpus } from '../../../src/host/parse-guest-vcpus.js';
import { memoryShortRatio } from '../../../src/hotplug/memory-decision.js';
import type { VmSample } from '../../../src/host/backend.js';

const DIR = 'test/fixtures/hotplug/debian12-libvirt9-tcg';
const read = (f: string) => readFileSync(`${DIR}/${f}`, 'utf8');

describe('hotplug: parsers on a real guest OS (agent + balloon driver)', () => {
  it('virsh guestvcpus from qemu-ga: before the hot-plug, onlined, and offlined in the guest', () => {
    expect(parseGuestVcpus(read('guestvcpus-1-of-2.txt'))).to.deep.equal({ vcpus: [0], online: [0], offlinable: [] });
    expect(parseGuestVcpus(read('guestvcpus-2-online.txt'))).to.deep.equal({ vcpus: [0, 1], online: [0, 1], offlinable: [1] });
    expect(parseGuestVcpus(read('guestvcpus-2-vcpu1-offline.txt'))).to.deep.equal({ vcpus: [0, 1], online: [0], offlinable: [1] });
  });

  it('the agent channel of a running guest with qemu-ga is connected', () => {
    expect(parseDomainXml(read('dumpxml-agent-connected-live.xml')).guestAgent).to.equal('connected');
  });

  it('domstats balloon fields from the real virtio-balloon driver, and the dimm in them', () => {
    const [before] = parseDomstats(read('domstats-guest-balloon.txt'));
    const [after] = parseDomstats(read('domstats-guest-balloon-after-dimm.txt'));
    expect(before.balloon).to.deep.equal({ currentKiB: 262144, maximumKiB: 262144, rssKiB: 315548, availableKiB: 144372, usableKiB: 110464, unusedKiB: 105764 });
    expect(after.balloon.availableKiB! - before.balloon.availableKiB!).to.equal(128 * 1024);
    expect(after.balloon.maximumKiB! - before.balloon.maximumKiB!).to.equal(128 * 1024);
    expect(after.vcpuCurrent).to.equal(2);
    expect([...after.vcpuTimeNs.keys()]).to.deep.equal([0, 1]);
    // usable/available as the memory trigger reads it (0.1 = short): this guest is not short.
    const vm = { balloon: before.balloon } as VmSample;
    expect(memoryShortRatio(vm)).to.be.closeTo(110464 / 144372, 1e-9);
  });

  it("the guest's console report: one NPRULE line per CPU and memory block the rule onlined", () => {
    const lines = read('guest-console-report.txt').split(/\r?\n/).filter(Boolean);
    expect(lines.filter((l) => l.startsWith('NPRULE'))).to.deep.equal(['NPRULE add cpu cpu1 ok', 'NPRULE add memory memory32 ok']);
    const total = (l: string) => Number(/memtotal=(\d+)/.exec(l)![1]);
    expect(total(lines.at(-1)!) - total(lines[0])).to.equal(128 * 1024);
    expect(lines[0]).to.match(/ block=8000000 /); // 128 MiB blocks = hotplug.memory.blockSizeMiB's default
  });
});
