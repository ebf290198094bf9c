/**
 * The guest-side data path of hot-plug in the virsh backend: a VM with a connected qemu-guest-agent
 * channel gets `virsh guestvcpus` in the per-VM batch, and VmSample.guestVcpusOnline from it; no
 * agent, a disconnected one or one that does not answer leaves it unknown (undefined), never an error.
 * The XML is captured from a real VM with an agent channel and no guest (state='disconnected');
 * the 'connected' variant changes only that attribute (no guest OS with an agent runs here).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseDomainXml } from '../../../src/host/parse-domain-xml.js';
import { VirshBackend } from '../../../src/host/virsh-backend.js';
import { isNoGuestAgent } from '../../../src/host/parse-guest-vcpus.js';
import { FakeVirsh, fixture, type FakeResponse } from '../../helpers/fake-virsh.js';

const DIR = 'test/fixtures/hotplug/debian12-libvirt9-tcg';
const AGENT_XML = readFileSync(`${DIR}/dumpxml-agent-disconnected-live.xml`, 'utf8');
const VM = 'numaplace-test-hp-agent';
const NOT_CONNECTED = readFileSync(`${DIR}/guestvcpus-agent-not-connected.stderr`, 'utf8');

function responses(xml: string, guestvcpus: FakeResponse): Record<string, FakeResponse> {
  const idleBlock = fixture('domstats-with-shutoff.txt').split('\n\n').find((b) => b.includes("'numaplace-test-idle'"))!;
  const r: Record<string, FakeResponse> = {
    capabilities: { stdout: fixture('capabilities.xml') },
    'freecell --cellno 0': { stdout: fixture('freecell-cellno-0.txt') },
    'domstats --raw --state --vcpu --cpu-total --balloon': { stdout: idleBlock.replace("'numaplace-test-idle'", `'${VM}'`) + '\n\n' },
    'list --all --uuid --name': { stdout: `c0ffee00-0000-4000-8000-000000000001 ${VM}\n` },
    'list --all --persistent --uuid': { stdout: '\n' },
    [`dumpxml --domain ${VM}`]: { stdout: xml },
    [`guestvcpus --domain ${VM}`]: guestvcpus,
  };
  const live: Record<string, string> = {
    vcpupin: 'vcpupin-idle-live.txt', emulatorpin: 'emulatorpin-default.txt', numatune: 'numatune-strict-default.txt',
    schedinfo: 'schedinfo-live.txt', vcpuinfo: 'vcpuinfo-numa.txt', domjobinfo: 'domjobinfo-none.txt',
  };
  for (const [q, f] of Object.entries(live)) r[`${q} --domain ${VM}`] = { stdout: fixture(f) };
  return r;
}

describe('hotplug: guest agent data path (virsh backend)', function () {
  this.timeout(20000);
  let fake: FakeVirsh | undefined;
  afterEach(() => fake?.remove());
  const connected = AGENT_XML.replace("state='disconnected'", "state='connected'");

  it('reads the agent channel and its state from the domain XML', () => {
    expect(parseDomainXml(AGENT_XML).guestAgent).to.equal('disconnected');
    expect(parseDomainXml(connected).guestAgent).to.equal('connected');
    expect(parseDomainXml(fixture('dumpxml-idle-live.xml')).guestAgent).to.equal(null);
  });

  it('a connected agent: guestvcpus joins the batch from the second cycle and gives the online vCPUs', async () => {
    fake = new FakeVirsh({ responses: responses(connected, { stdout: 'vcpus          : 0-3\nonline         : 0-1\nofflinable     : 1\n\n' }) });
    const b = new VirshBackend({ uri: 'qemu:///system', binary: fake.binary, readNumaMaps: false });
    const first = await b.sample();
    expect(first.vms[0].guestVcpusOnline).to.equal(undefined); // XML not known yet when the batch was built
    const second = await b.sample();
    expect(second.skipped).to.deep.equal([]);
    expect(second.vms[0].guestVcpusOnline).to.deep.equal([0, 1]);
    expect(fake.calls().at(-1)![2]).to.contain("'guestvcpus'");
  });

  it('an agent that does not answer leaves it unknown and the VM sampled', async () => {
    expect(isNoGuestAgent(NOT_CONNECTED)).to.equal(true);
    fake = new FakeVirsh({ responses: responses(connected, { stderr: NOT_CONNECTED, exit: 1 }) });
    const b = new VirshBackend({ uri: 'qemu:///system', binary: fake.binary, readNumaMaps: false });
    await b.sample();
    const s = await b.sample();
    expect(s.skipped).to.deep.equal([]);
    expect(s.vms.map((v) => v.name)).to.deep.equal([VM]);
    expect(s.vms[0].guestVcpusOnline).to.equal(undefined);
  });

  it('a disconnected agent is not asked at all', async () => {
    fake = new FakeVirsh({ responses: responses(AGENT_XML, { stdout: 'vcpus : 0-3\nonline : 0-3\n' }) });
    const b = new VirshBackend({ uri: 'qemu:///system', binary: fake.binary, readNumaMaps: false });
    await b.sample();
    const s = await b.sample();
    expect(s.vms[0].guestVcpusOnline).to.equal(undefined);
    expect(fake.calls().some((c) => c.join(' ').includes("'guestvcpus'"))).to.equal(false);
  });
});
