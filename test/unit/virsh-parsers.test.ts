import { expect } from 'chai';
import { parseDomainXml } from '../../src/host/parse-domain-xml.js';
import { parseDomstats } from '../../src/host/parse-domstats.js';
import {
  parseDomjobinfo, parseEmulatorpin, parseNumatune, parseSchedinfo, parseUuidList, parseUuidNameList, parseVcpuinfo, parseVcpupin,
} from '../../src/host/parse-listings.js';
import { parseNumaMaps } from '../../src/host/parse-numa-maps.js';
import { VirshOutputError } from '../../src/host/virsh-errors.js';
import { capabilityCellIds, topologyFromVirshText } from '../../src/host/virsh-topology-text.js';
import { fixture } from '../helpers/fake-virsh.js';

const ODD = `numaplace-test-it's "odd"; $(touch numaplace-pwned) x`;

describe('virsh parsers on real libvirt 9.0 outputs (debian12-libvirt9-tcg)', () => {
  describe('parseDomstats', () => {
    it('reads every domain, names verbatim (quotes, ;, $()), per-vCPU times in ns', () => {
      const all = parseDomstats(fixture('domstats-running.txt'));
      // numaplace-test-hp-probe: another test's transient VM that happened to be there.
      expect(all.map((d) => d.name)).to.have.members([ODD, 'numaplace-test-idle', 'numaplace-test-busy', 'numaplace-test-numa', 'numaplace-test-hp-probe']);
      const busy = all.find((d) => d.name === 'numaplace-test-busy')!;
      expect(busy.state).to.equal('running');
      expect(busy.vcpuCurrent).to.equal(1);
      expect(busy.vcpuTimeNs.get(0)).to.be.greaterThan(1e9);
      expect(busy.balloon).to.include({ currentKiB: 131072, maximumKiB: 131072 });
      const numa = all.find((d) => d.name === 'numaplace-test-numa')!;
      expect([numa.vcpuCurrent, numa.vcpuMaximum, numa.vcpuTimeNs.size]).to.deep.equal([2, 4, 2]);
    });
    it('reads a shut-off domain (state only, no vCPU lines)', () => {
      const busy = parseDomstats(fixture('domstats-with-shutoff.txt')).find((d) => d.name === 'numaplace-test-busy')!;
      expect(busy.state).to.equal('shutoff');
      expect(busy.vcpuTimeNs.size).to.equal(0);
    });
    it('sees hot-plugged dimm memory in balloon.maximum', () => {
      const [numa] = parseDomstats(fixture('domstats-numa-dimm.txt'));
      expect(numa.balloon.maximumKiB).to.equal(262144);
    });
    it('an empty output is no domains', () => {
      expect(parseDomstats('')).to.deep.equal([]);
    });
    it('rejects output cut short (vcpu lines missing) and stray lines', () => {
      const text = fixture('domstats-running.txt');
      const cut = text.slice(0, text.lastIndexOf('vcpu.1.state'));
      expect(() => parseDomstats(cut)).to.throw(VirshOutputError, /vcpu.current=2 but only 1/);
      expect(() => parseDomstats('garbage\n')).to.throw(VirshOutputError, /neither/);
      expect(() => parseDomstats("Domain: 'x'\n  cpu.time=1\n")).to.throw(VirshOutputError, /no state.state/);
      expect(() => parseDomstats("Domain: 'x'\n  state.state=one\n")).to.throw(VirshOutputError, /not a number/);
    });
  });

  describe('vcpupin / emulatorpin', () => {
    it('reads live and config pin tables', () => {
      expect([...parseVcpupin(fixture('vcpupin-idle-live.txt'))]).to.deep.equal([[0, '1'], [1, '0-1'], [2, '0-1'], [3, '0-1']]);
      expect(parseVcpupin(fixture('vcpupin-idle-config.txt')).get(2)).to.equal('0');
    });
    it('reads the emulator pin', () => {
      expect(parseEmulatorpin(fixture('emulatorpin-default.txt'))).to.equal('0-1');
      expect(parseEmulatorpin(fixture('emulatorpin-pinned.txt'))).to.equal('0');
    });
    it('rejects a missing header, a bad row, an empty table', () => {
      expect(() => parseVcpupin('0 1\n')).to.throw(VirshOutputError, /header/);
      expect(() => parseVcpupin(' VCPU   CPU Affinity\n------\n x y z\n')).to.throw(VirshOutputError, /row/);
      expect(() => parseVcpupin(' VCPU   CPU Affinity\n------\n')).to.throw(VirshOutputError, /no vCPU rows/);
      expect(() => parseVcpupin(' VCPU   CPU Affinity\n------\n 0  3-1\n')).to.throw(VirshOutputError, /backwards/);
      expect(() => parseEmulatorpin('emulator: CPU Affinity\n-----\n')).to.throw(VirshOutputError);
    });
  });

  describe('numatune / schedinfo / vcpuinfo / domjobinfo', () => {
    it('numatune: mode and nodeset, empty nodeset is null', () => {
      expect(parseNumatune(fixture('numatune-restrictive.txt'))).to.deep.equal({ mode: 'restrictive', nodeset: '0' });
      expect(parseNumatune(fixture('numatune-strict-default.txt'))).to.deep.equal({ mode: 'strict', nodeset: '0' });
      // Also seen on this machine right after a start: libvirt had not chosen a nodeset yet.
      expect(parseNumatune('numa_mode      : strict\nnuma_nodeset   : \n\n')).to.deep.equal({ mode: 'strict', nodeset: null });
      expect(() => parseNumatune('numa_mode      : strict\n')).to.throw(VirshOutputError, /numa_nodeset/);
    });
    it('schedinfo: live and config cpu_shares', () => {
      expect(parseSchedinfo(fixture('schedinfo-live.txt'))).to.deep.include({ scheduler: 'posix', cpuShares: 2048 });
      expect(parseSchedinfo(fixture('schedinfo-live.txt')).params.vcpu_quota).to.equal(-1);
      expect(parseSchedinfo(fixture('schedinfo-config.txt')).cpuShares).to.equal(0);
      expect(() => parseSchedinfo('cpu_shares : 10\n')).to.throw(VirshOutputError, /Scheduler/);
    });
    it('vcpuinfo: last CPU and affinity of each online vCPU; N/A when shut off', () => {
      const info = parseVcpuinfo(fixture('vcpuinfo-numa.txt'));
      expect(info.map((v) => v.vcpu)).to.deep.equal([0, 1]);
      expect(info.every((v) => v.cpu === 0 || v.cpu === 1)).to.equal(true);
      expect(info[0].state).to.equal('running');
      expect(info[0].affinity).to.equal('0-1');
      expect(parseVcpuinfo(fixture('vcpuinfo-shutoff.txt'))).to.deep.equal([{ vcpu: 0, cpu: null, state: 'N/A', affinity: '0-1' }]);
      expect(() => parseVcpuinfo('CPU: 1\n')).to.throw(VirshOutputError, /before the first/);
      expect(() => parseVcpuinfo('')).to.throw(VirshOutputError);
    });
    it('domjobinfo: only Bounded/Unbounded are a running job; None, and the Completed a job leaves behind, are not', () => {
      expect(parseDomjobinfo(fixture('domjobinfo-none.txt'))).to.equal(undefined);
      expect(parseDomjobinfo(fixture('domjobinfo-dump-unbounded.txt'))).to.equal('Unbounded');
      expect(parseDomjobinfo(fixture('domjobinfo-completed.txt'))).to.equal(undefined);
      expect(parseDomjobinfo('Job type:         Unbounded\nOperation:        Outgoing migration\n')).to.equal('Unbounded');
      expect(parseDomjobinfo('Job type:         Failed\nOperation:        Outgoing migration\n')).to.equal(undefined);
    });
  });

  describe('list', () => {
    it('maps names (with blanks and quotes) to uuids, and lists persistent uuids', () => {
      const list = parseUuidNameList(fixture('list-uuid-name.txt'));
      expect(list.find((x) => x.name === ODD)?.uuid).to.match(/^[0-9a-f-]{36}$/);
      const persistent = parseUuidList(fixture('list-persistent-uuid.txt'));
      expect(list).to.have.length(5);
      expect(persistent).to.have.length(4); // the transient hp-probe VM is not in it
      expect(persistent).to.not.include(list.find((x) => x.name === 'numaplace-test-hp-probe')!.uuid);
      expect(() => parseUuidNameList('nonsense\n')).to.throw(VirshOutputError);
    });
  });

  describe('parseDomainXml', () => {
    it('reads the hot-plug VM: maxMemory/slots, dimm, guest cells, topology, restrictive numatune, shares', () => {
      const x = parseDomainXml(fixture('dumpxml-numa-dimm-live.xml'));
      expect(x).to.deep.include({
        name: 'numaplace-test-numa', memoryMiB: 256, currentMemoryMiB: 256, maxMemoryMiB: 1024, maxMemorySlots: 16,
        usedMemorySlots: 1, vcpuMax: 4, vcpuCurrent: 2, shares: 2048, machine: 'pc-i440fx-7.2', arch: 'x86_64',
        coresPerSocket: 2, threadsPerCore: 1, hasVhostUser: false, virtioNetDevices: 0, id: 8,
      });
      expect(x.numatune).to.deep.equal({ mode: 'restrictive', nodeset: '0' });
      expect(x.guestCells).to.deep.equal([{ id: 0, cpus: [0, 1], memoryMiB: 64 }, { id: 1, cpus: [2, 3], memoryMiB: 64 }]);
    });
    it('reads numaplace metadata (namespace https://numaplace.dev/xmlns/policy/1) and live pins', () => {
      const x = parseDomainXml(fixture('dumpxml-idle-live.xml'));
      expect(x.metadata).to.deep.equal({ exclude: 'true', weight: '2', class: 'gold' });
      expect([...x.vcpuPins]).to.deep.equal([[0, '1']]);
      expect(x.maxMemorySlots).to.equal(undefined);
    });
    it('reads the odd name unescaped, and an inactive domain', () => {
      expect(parseDomainXml(fixture('dumpxml-odd-live.xml')).name).to.equal(ODD);
      const busy = parseDomainXml(fixture('dumpxml-busy-inactive.xml'));
      expect(busy.id).to.equal(undefined);
      expect(busy.numatune).to.equal(null);
      expect(busy.shares).to.equal(null);
    });
    it('ignores metadata in other namespaces; reads hugepages, vhost-user, virtio-net, memnodes, libosinfo', () => {
      const xml = `<domain type='kvm'><name>v</name><uuid>u</uuid><memory unit='GiB'>4</memory><vcpu>2</vcpu>
        <metadata><np:policy xmlns:np="https://example.org/other" exclude="true"/>
          <libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0"><libosinfo:os id="http://microsoft.com/win/10"/></libosinfo:libosinfo></metadata>
        <memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>
        <numatune><memory mode='strict' nodeset='0-1'/><memnode cellid='0' mode='strict' nodeset='0'/><memnode cellid='1' mode='preferred' nodeset='1'/></numatune>
        <os><type arch='aarch64' machine='virt-4.1'>hvm</type></os>
        <devices><interface type='vhostuser'><model type='virtio'/></interface><interface type='network'><model type='virtio'/></interface></devices></domain>`;
      const x = parseDomainXml(xml);
      expect(x.metadata).to.deep.equal({});
      expect(x.osType).to.equal('windows');
      expect(x.hugepageKiB).to.equal(1024 * 1024);
      expect(x.hasVhostUser).to.equal(true);
      expect(x.virtioNetDevices).to.equal(2);
      expect(x.memoryMiB).to.equal(4096);
      expect(x.memnodes).to.deep.equal([{ cellid: 0, mode: 'strict', nodeset: '0' }, { cellid: 1, mode: 'preferred', nodeset: '1' }]);
    });
    it('rejects truncated XML and XML that is not a domain, with a typed error', () => {
      const xml = fixture('dumpxml-idle-live.xml');
      expect(() => parseDomainXml(xml.slice(0, xml.length / 2), 'dumpxml of idle')).to.throw(VirshOutputError, /dumpxml of idle: malformed XML/);
      expect(() => parseDomainXml('<capabilities/>')).to.throw(VirshOutputError, /no <domain>/);
      expect(() => parseDomainXml(xml.replace(/<vcpu[^>]*>\d+<\/vcpu>/, '<vcpu>four</vcpu>'))).to.throw(VirshOutputError, /<vcpu>/);
    });
  });

  describe('numa_maps', () => {
    it('sums resident pages per host node in MiB', () => {
      const m = parseNumaMaps(fixture('numa_maps-idle.txt'));
      expect(Object.keys(m)).to.deep.equal(['0']);
      expect(m['0']).to.be.within(10, 200);
    });
    it('counts huge pages by their size and several nodes', () => {
      const text = '7f0000000000 bind:0-1 file=/dev/hugepages/x huge dirty=2 N0=1 N1=1 kernelpagesize_kB=2048\n'
        + '7f1000000000 default anon=256 dirty=256 N1=256 kernelpagesize_kB=4\n';
      expect(parseNumaMaps(text)).to.deep.equal({ 0: 2, 1: 3 });
    });
    it('rejects a line that is not numa_maps', () => {
      expect(() => parseNumaMaps('hello world\n')).to.throw(VirshOutputError);
      expect(() => parseNumaMaps('7f00 default N0=x kernelpagesize_kB=4\n')).to.throw(VirshOutputError, /page count/);
    });
  });

  describe('capabilities + freecell --cellno', () => {
    it('builds the one-node topology of this machine', () => {
      const caps = fixture('capabilities.xml');
      expect(capabilityCellIds(caps)).to.deep.equal([0]);
      const cell = fixture('freecell-cellno-0.txt');
      const t = topologyFromVirshText(caps, [cell]);
      expect(t.nodes).to.have.length(1);
      expect(t.nodes[0].cpus).to.deep.equal([0, 1]);
      expect(t.nodes[0].distances).to.deep.equal({ 0: 10 });
      expect(t.nodes[0].freeMemoryMiB).to.equal(Math.floor(Number(/(\d+) KiB/.exec(cell)![1]) / 1024));
      expect(() => topologyFromVirshText(caps, ['garbage'])).to.throw(/freecell/);
    });
  });
});
