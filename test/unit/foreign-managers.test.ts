/**
 * Issue 12 item 2 (pure parts): VMs another tool manages are recognised from their metadata
 * namespace (Nova 1.0/1.1, oVirt vm and vm/tune, KubeVirt) or from persistent pins / nodeset that
 * numaplace did not write, and are left alone unless foreign.manage.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseDomainXml, persistentDefinition } from '../../src/host/parse-domain-xml.js';
import { exclusionReason, foreignReason } from '../../src/daemon/sample-to-problem.js';
import { DEFAULT_SETTINGS, withSettings } from '../../src/daemon/settings.js';
import { vmSample } from '../helpers/fake-host.js';

const base = readFileSync('test/fixtures/virsh/debian12-libvirt9-tcg-dumpxml-busy-inactive.xml', 'utf8');
const withMetadata = (md: string) => base.replace(/<\/uuid>/, `</uuid>\n  <metadata>${md}</metadata>`);
const withTune = (t: string) => base.replace(/<\/uuid>/, `</uuid>\n  ${t}`).replace(/<cputune>[\s\S]*?<\/cputune>/, (m) => m);

describe('VMs another tool manages are recognised and left alone (issue 12 item 2)', () => {
  const cases: [string, string, string][] = [
    ['OpenStack Nova', '<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.0"><nova:name>a</nova:name></nova:instance>', 'http://openstack.org/xmlns/libvirt/nova/1.0'],
    ['OpenStack Nova', '<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1"><nova:name>a</nova:name></nova:instance>', 'http://openstack.org/xmlns/libvirt/nova/1.1'],
    ['oVirt/RHV', '<ovirt-tune:qos xmlns:ovirt-tune="http://ovirt.org/vm/tune/1.0"/>', 'http://ovirt.org/vm/tune/1.0'],
    ['oVirt/RHV', '<ovirt-vm:vm xmlns:ovirt-vm="http://ovirt.org/vm/1.0"><ovirt-vm:clusterVersion>4.6</ovirt-vm:clusterVersion></ovirt-vm:vm>', 'http://ovirt.org/vm/1.0'],
    ['KubeVirt', '<kubevirt xmlns="http://kubevirt.io"><uid>x</uid></kubevirt>', 'http://kubevirt.io'],
  ];
  for (const [tool, md, ns] of cases) {
    it(`${ns} -> ${tool}`, () => {
      const x = parseDomainXml(withMetadata(md));
      expect(x.foreignManager).to.deep.equal({ tool, namespace: ns });
      const vm = vmSample({ name: 'v', foreignManager: x.foreignManager });
      expect(exclusionReason(vm, DEFAULT_SETTINGS)).to.contain(`managed by ${tool}`).and.to.contain('foreign.manage');
      expect(exclusionReason(vm, withSettings({ foreign: { manage: true } }))).to.equal(null);
    });
  }

  it('numaplace\'s own policy and libosinfo metadata are not foreign', () => {
    const x = parseDomainXml(withMetadata('<np:policy xmlns:np="https://numaplace.dev/xmlns/policy/1" weight="2"/><libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0"><libosinfo:os id="http://debian.org/debian/12"/></libosinfo:libosinfo>'));
    expect(x.foreignManager).to.equal(undefined);
  });

  it('persistent pins or a non-restrictive nodeset without numaplace\'s written marker are foreign; with it, a restrictive nodeset, or mode alone, not', () => {
    const pinned = persistentDefinition(parseDomainXml(withTune("<cputune><vcpupin vcpu='0' cpuset='1'/></cputune>")));
    expect(foreignReason(vmSample({ name: 'v', definition: pinned }))).to.contain('<vcpupin> for vCPU 0');
    const nodeset = persistentDefinition(parseDomainXml(withTune("<numatune><memory mode='strict' nodeset='0'/></numatune>")));
    expect(foreignReason(vmSample({ name: 'v', definition: nodeset }))).to.contain('<numatune> strict nodeset 0');
    // restrictive: the mode that lets a runtime tool move memory live, set to hand placement over.
    const restrictive = persistentDefinition(parseDomainXml(withTune("<numatune><memory mode='restrictive' nodeset='0'/><memnode cellid='0' mode='restrictive' nodeset='0'/></numatune>")));
    expect(restrictive.numatune?.nodeset).to.equal('0');
    expect(foreignReason(vmSample({ name: 'v', definition: restrictive }))).to.equal(null);
    const strictCell = persistentDefinition(parseDomainXml(withTune("<numatune><memory mode='restrictive' nodeset='0'/><memnode cellid='0' mode='strict' nodeset='0'/></numatune>")));
    expect(foreignReason(vmSample({ name: 'v', definition: strictCell }))).to.contain('<memnode>');
    const modeOnly = persistentDefinition(parseDomainXml(withTune("<numatune><memory mode='restrictive'/></numatune>")));
    expect(foreignReason(vmSample({ name: 'v', definition: modeOnly }))).to.equal(null);
    const ours = persistentDefinition(parseDomainXml(withMetadata('<npw:written xmlns:npw="https://numaplace.dev/xmlns/written/1" tune="yes"/>').replace(/<\/uuid>/, "</uuid><cputune><vcpupin vcpu='0' cpuset='1'/></cputune>")));
    expect(ours.writtenByNumaplace).to.equal(true);
    expect(foreignReason(vmSample({ name: 'v', definition: ours }))).to.equal(null);
  });
});
