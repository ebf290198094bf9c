import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { applyProblemAdjustments } from '../../../src/hotplug/adjust-problem.js';
import { dimmXml } from '../../../src/host/dimm-xml.js';
import { guestVcpuReport } from '../../../src/hotplug/guest-vcpus.js';
import { GuestVcpusParseError, isNoGuestAgent, parseGuestVcpus } from '../../../src/host/parse-guest-vcpus.js';
import { initialVmState } from '../../../src/hotplug/state.js';
import { syntheticTopology } from '../../../src/topology/synthetic.js';
import type { Problem } from '../../../solver/types.js';
import { vm } from './fixtures.js';

describe('hotplug: dimm XML', () => {
  it("is the seed's memory device, with the host node as source nodemask", () => {
    expect(dimmXml({ MiB: 1024, guestNode: 0, sourceNodes: '1' })).to.equal(
      "<memory model='dimm'>\n  <source>\n    <nodemask>1</nodemask>\n  </source>\n  <target>\n    <size unit='MiB'>1024</size>\n    <node>0</node>\n  </target>\n</memory>\n",
    );
  });
  it('without a host node it has no <source>', () => {
    const xml = dimmXml({ MiB: 128, guestNode: 1 });
    expect(xml).to.not.contain('source');
    expect(xml).to.contain('<node>1</node>');
  });
  it('rejects sizes, nodes and nodemasks that are not numbers', () => {
    expect(() => dimmXml({ MiB: 0, guestNode: 0 })).to.throw(RangeError, /positive/);
    expect(() => dimmXml({ MiB: 1.5, guestNode: 0 })).to.throw(RangeError);
    expect(() => dimmXml({ MiB: 128, guestNode: -1 })).to.throw(RangeError, /guest NUMA cell/);
    expect(() => dimmXml({ MiB: 128, guestNode: 0, sourceNodes: "0</nodemask><x a='" })).to.throw(/invalid cpuset/);
  });
});

describe('hotplug: guest-reported vCPUs (virsh guestvcpus)', () => {
  it("parses virsh's field lines", () => {
    const out = 'vcpus          : 0-3\nonline         : 0-1,3\nofflinable     : 1,3\n\n';
    expect(parseGuestVcpus(out)).to.deep.equal({ vcpus: [0, 1, 2, 3], online: [0, 1, 3], offlinable: [1, 3] });
  });
  it('rejects output without the online line', () => {
    expect(() => parseGuestVcpus('vcpus : 0-3\n')).to.throw(GuestVcpusParseError, /online/);
    expect(() => parseGuestVcpus('vcpus : 0-3\nonline : x\n')).to.throw(GuestVcpusParseError, /not a vCPU set/);
  });
  it('recognises the real "no agent" error (captured) as unknown', () => {
    const stderr = readFileSync('test/fixtures/hotplug/debian12-libvirt9-tcg/guestvcpus-no-agent.stderr', 'utf8');
    expect(isNoGuestAgent(stderr)).to.equal(true);
    expect(isNoGuestAgent('error: Guest agent is not responding: QEMU guest agent is not connected')).to.equal(true);
    expect(isNoGuestAgent('error: failed to get domain \'x\'')).to.equal(false);
  });
  it('reports hot-plugged vCPUs the guest has online, or unknown', () => {
    const s = { ...initialVmState('u'), pluggedVcpus: [4, 5] };
    expect(guestVcpuReport(vm({ vcpusCurrent: 6, guestVcpusOnline: [0, 1, 2, 3, 4] }), s)).to.deep.equal({
      vm: 'web1',
      plugged: 6,
      guestOnline: 5,
      hotplugged: 2,
      hotpluggedOnline: 1,
    });
    expect(guestVcpuReport(vm({ vcpusCurrent: 6 }), s)).to.include({ guestOnline: null, hotpluggedOnline: null, hotplugged: 2 });
    // A vCPU numaplace plugged that is no longer plugged (VM restarted smaller) does not count.
    expect(guestVcpuReport(vm({ vcpusCurrent: 4 }), s).hotplugged).to.equal(0);
  });
});

describe('hotplug: problem adjustments', () => {
  const topology = syntheticTopology('2x8');
  const problem: Problem = {
    topology,
    vms: [
      {
        name: 'busy',
        vcpus: 2,
        load: [1, 1],
        memoryMiB: 4096,
        current: { vcpuNodes: [1, 1], memoryMiB: { '1': 4096 } },
        cells: [
          { id: 0, vcpus: [0], memoryMiB: 2048 },
          { id: 1, vcpus: [1], memoryMiB: 2048 },
        ],
      },
      { name: 'other', vcpus: 1, load: [0.2], memoryMiB: 1024 },
    ],
  };
  it('grows the VM: vCPU count, load of the new vCPUs, their current node, their cell', () => {
    const p = applyProblemAdjustments(problem, [
      { vm: 'busy', kind: 'vcpus', vcpus: 4, addedVcpus: [2, 3], addedLoad: 0.95, preferredNode: null, addedCells: [0, 1] },
    ]);
    const v = p.vms[0];
    expect(v.vcpus).to.equal(4);
    expect(v.load).to.deep.equal([1, 1, 0.95, 0.95]);
    expect(v.current!.vcpuNodes).to.deep.equal([1, 1, 1, 1]);
    expect(v.cells!.map((c) => c.vcpus)).to.deep.equal([
      [0, 2],
      [1, 3],
    ]);
    expect(p.vms[1]).to.equal(problem.vms[1]);
    expect(problem.vms[0].vcpus).to.equal(2); // input untouched
  });
  it('uses the booked node for the new vCPUs when there is one', () => {
    const p = applyProblemAdjustments(problem, [{ vm: 'busy', kind: 'vcpus', vcpus: 3, addedVcpus: [2], addedLoad: 1, preferredNode: 0 }]);
    expect(p.vms[0].current!.vcpuNodes).to.deep.equal([1, 1, 0]);
  });
  it('adds memory to the VM, to its cell and to its current host node, and takes it from that node', () => {
    const p = applyProblemAdjustments(problem, [{ vm: 'busy', kind: 'memory', MiB: 1024, guestNode: 1, hostNode: 1 }]);
    const v = p.vms[0];
    expect(v.memoryMiB).to.equal(5120);
    expect(v.current!.memoryMiB).to.deep.equal({ '1': 5120 });
    expect(v.cells!.map((c) => c.memoryMiB)).to.deep.equal([2048, 3072]);
    expect(p.topology.nodes[1].freeMemoryMiB).to.equal(topology.nodes[1].freeMemoryMiB - 1024);
    expect(p.topology.nodes[0]).to.equal(topology.nodes[0]);
  });
  it('no adjustments: the same problem', () => {
    expect(applyProblemAdjustments(problem, [])).to.equal(problem);
  });
});
