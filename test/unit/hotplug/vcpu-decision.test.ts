import { expect } from 'chai';
import { DEFAULT_HOTPLUG_CONFIG } from '../../../src/hotplug/config.js';
import { decideVcpuGrowth, type VcpuDecision } from '../../../src/hotplug/vcpu-decision.js';
import { nodeRoom, type NodeRoom } from '../../../src/hotplug/host-room.js';
import type { VmSample } from '../../../src/host/backend.js';
import { host, loadsOf, vm } from './fixtures.js';
import { viewOf } from '../../helpers/fake-host.js';

const CFG = DEFAULT_HOTPLUG_CONFIG.vcpu;
/** Plenty of room on both nodes of a 2x8 host. */
const ROOMY: NodeRoom[] = [
  { node: 0, capacity: 8, used: 4, freeMemoryMiB: 10000 },
  { node: 1, capacity: 8, used: 0, freeMemoryMiB: 10000 },
];

function decide(v: VmSample, rooms: NodeRoom[] = ROOMY, cfg = CFG): VcpuDecision {
  return decideVcpuGrowth(v, loadsOf([v], 1).get(v.name), rooms, cfg);
}

function refusal(d: VcpuDecision): { code: string; message: string } {
  if (d.ok) throw new Error(`expected a refusal, got growth to ${d.target}`);
  return d;
}

describe('hotplug: vCPU growth decision', () => {
  describe('step size keeps sockets whole', () => {
    const cases: [string, Partial<VmSample>, number][] = [
      ['1 core per socket: one vCPU', { vcpusCurrent: 1, vcpusMax: 4, coresPerSocket: 1 }, 2],
      ['4 cores per socket: a whole socket', { vcpusCurrent: 4, vcpusMax: 16, coresPerSocket: 4 }, 8],
      ['a partial socket is completed first', { vcpusCurrent: 6, vcpusMax: 16, coresPerSocket: 4 }, 8],
      ['2 cores x 2 threads: 4 at a time', { vcpusCurrent: 4, vcpusMax: 16, coresPerSocket: 2, threadsPerCore: 2 }, 8],
      ['up to exactly the maximum', { vcpusCurrent: 12, vcpusMax: 16, coresPerSocket: 4 }, 16],
    ];
    for (const [name, over, target] of cases) {
      it(`${name}: ${over.vcpusCurrent} -> ${target}`, () => {
        const v = vm({ ...over, guestCells: [] });
        const d = decide(v);
        expect(d.ok, JSON.stringify(d)).to.equal(true);
        if (!d.ok) return;
        expect(d.target).to.equal(target);
        expect(d.added).to.deep.equal(Array.from({ length: target - over.vcpusCurrent! }, (_, k) => over.vcpusCurrent! + k));
        expect(d.addedLoad).to.equal(1);
      });
    }
    it('the new vCPUs are assumed as busy as the VM (never below the threshold)', () => {
      const v = vm({ guestCells: [] });
      const d = decideVcpuGrowth(v, [0.95, 0.97, 0.93, 0.95], ROOMY, CFG);
      expect(d.ok && d.addedLoad).to.be.closeTo(0.95, 1e-9);
    });
  });

  describe('caps', () => {
    it('at-maximum: already at vcpusMax', () => {
      const r = refusal(decide(vm({ vcpusCurrent: 8, vcpusMax: 8 })));
      expect(r.code).to.equal('at-maximum');
      expect(r.message).to.contain('8');
    });
    it("at-maximum: the hypervisor's maximum", () => {
      const r = refusal(decide(vm({ vcpusCurrent: 4, vcpusMax: 8, hypervisorMaxVcpus: 4 })));
      expect(r.code).to.equal('at-maximum');
      expect(r.message).to.contain('hypervisor');
    });
    it('at-maximum: hotplug.vcpu.maxVcpus', () => {
      const r = refusal(decide(vm({ vcpusCurrent: 4, vcpusMax: 8 }), ROOMY, { ...CFG, maxVcpus: 4 }));
      expect(r.code).to.equal('at-maximum');
      expect(r.message).to.contain('hotplug.vcpu.maxVcpus');
    });
    it('maxVcpus 0 means no cap beyond the VM', () => {
      const d = decide(vm({ vcpusCurrent: 4, vcpusMax: 8 }), ROOMY, { ...CFG, maxVcpus: 0 });
      expect(d.ok && d.target).to.equal(5);
    });
    it('partial-socket: the next whole socket passes the cap', () => {
      const r = refusal(decide(vm({ vcpusCurrent: 4, vcpusMax: 16, coresPerSocket: 4, guestCells: [] }), ROOMY, { ...CFG, maxVcpus: 6 }));
      expect(r.code).to.equal('partial-socket');
      expect(r.message).to.contain('8 vCPUs');
    });
  });

  describe("the seed's constraints", () => {
    it('machine-too-old: pc-i440fx-1.4', () => {
      expect(refusal(decide(vm({ machine: 'pc-i440fx-1.4' }))).code).to.equal('machine-too-old');
    });
    it('machine-too-old: AArch64 virt-4.0', () => {
      expect(refusal(decide(vm({ machine: 'virt-4.0', arch: 'aarch64' }))).code).to.equal('machine-too-old');
    });
    it('machine-unsupported: microvm', () => {
      expect(refusal(decide(vm({ machine: 'microvm' }))).code).to.equal('machine-unsupported');
    });
    for (const job of ['migration', 'snapshot', 'save']) {
      it(`job-running: ${job}`, () => {
        const r = refusal(decide(vm({ job })));
        expect(r.code).to.equal('job-running');
        expect(r.message).to.contain(job);
      });
    }
    it('no job, or "none", is not a job', () => {
      expect(decide(vm({ job: 'none' })).ok).to.equal(true);
      expect(decide(vm({ job: '' })).ok).to.equal(true);
    });
    it('numa-socket-split: the new vCPU would be in another vNode than its socket siblings', () => {
      // 2 cores per socket; socket 2 = vCPUs 4,5 but cells split them.
      const r = refusal(
        decide(
          vm({
            vcpusCurrent: 4,
            vcpusMax: 8,
            coresPerSocket: 2,
            guestCells: [
              { id: 0, cpus: [0, 1, 2, 3, 4], memoryMiB: 2048 },
              { id: 1, cpus: [5, 6, 7], memoryMiB: 2048 },
            ],
          }),
        ),
      );
      expect(r.code).to.equal('numa-socket-split');
      expect(r.message).to.match(/vCPU 4 .*cell 0.*vCPU 5.*cell 1/);
    });
    it('sockets kept whole per vNode are fine, and the new vCPUs carry their cell', () => {
      const d = decide(
        vm({
          vcpusCurrent: 4,
          vcpusMax: 8,
          coresPerSocket: 2,
          guestCells: [
            { id: 0, cpus: [0, 1, 4, 5], memoryMiB: 2048 },
            { id: 1, cpus: [2, 3, 6, 7], memoryMiB: 2048 },
          ],
        }),
      );
      expect(d.ok).to.equal(true);
      if (d.ok) expect(d.addedCells).to.deep.equal([0, 0]);
    });
    it('numa-vcpu-unassigned: a new vCPU in no guest cell', () => {
      const r = refusal(decide(vm({ vcpusCurrent: 4, vcpusMax: 8, guestCells: [{ id: 0, cpus: [0, 1, 2, 3], memoryMiB: 4096 }] })));
      expect(r.code).to.equal('numa-vcpu-unassigned');
      expect(r.message).to.contain('vCPU 4');
    });
  });

  describe('host capacity', () => {
    it('host-full: no node has room for the extra load', () => {
      const full: NodeRoom[] = [
        { node: 0, capacity: 8, used: 7.5, freeMemoryMiB: 0 },
        { node: 1, capacity: 8, used: 7.2, freeMemoryMiB: 0 },
      ];
      const r = refusal(decide(vm(), full));
      expect(r.code).to.equal('host-full');
      expect(r.message).to.contain('0.80');
    });
    it('room on any one node is enough', () => {
      const some: NodeRoom[] = [
        { node: 0, capacity: 8, used: 8, freeMemoryMiB: 0 },
        { node: 1, capacity: 8, used: 7, freeMemoryMiB: 0 },
      ];
      expect(decide(vm(), some).ok).to.equal(true);
    });
    it('a whole-socket step needs room for the whole socket', () => {
      const rooms: NodeRoom[] = [{ node: 0, capacity: 8, used: 5, freeMemoryMiB: 0 }];
      expect(refusal(decide(vm({ vcpusCurrent: 4, vcpusMax: 16, coresPerSocket: 4, guestCells: [] }), rooms)).code).to.equal('host-full');
    });
    it('nodeRoom counts loads on the node the vCPUs are pinned to, minus reserved CPUs, times overcommit', () => {
      const a = vm({ name: 'a', vcpuPins: Array(8).fill('0-7') });
      const b = vm({ name: 'b', uuid: 'b', vcpuPins: Array(8).fill('8-15'), vcpusCurrent: 2 });
      const rooms = nodeRoom(viewOf(host([a, b]), { reservedCpus: '0-1', cpuOvercommit: 2 }), host([a, b]), loadsOf([a, b], 0.5));
      expect(rooms.map((r) => [r.node, r.capacity, r.used])).to.deep.equal([
        [0, 12, 2],
        [1, 16, 1],
      ]);
    });
    it('nodeRoom spreads vCPUs of unknown node over the host by capacity', () => {
      const a = vm({ vcpuPins: Array(8).fill(null), vcpuLastCpu: Array(8).fill(null) });
      const rooms = nodeRoom(viewOf(host([a])), host([a]), loadsOf([a], 1));
      expect(rooms.map((r) => r.used)).to.deep.equal([2, 2]);
    });
  });
});
