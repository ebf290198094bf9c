import { expect } from 'chai';
import { executePlan, isTimeout } from '../../src/apply/executor.js';
import { stepInEffect } from '../../src/core/steps.js';
import { MemoryJournal } from '../../src/apply/journal.js';
import type { ApplyFlags } from '../../src/host/backend.js';
import { VirshError } from '../../src/host/virsh-exec.js';
import type { Step } from '../../src/core/steps.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { FakeBackend, vmSample } from '../helpers/fake-host.js';

/** numatune --live that outlasts virsh.timeoutMs: the change happens (or not), the call times out. */
class SlowNumatune extends FakeBackend {
  takesEffect = true;
  override async setNodeset(vm: string, nodeset: string, flags: ApplyFlags): Promise<void> {
    if (this.takesEffect) await super.setNodeset(vm, nodeset, flags);
    else this.calls.push({ vm, kind: 'setNodeset', args: [nodeset], flags });
    throw new VirshError(['numatune', '--domain', vm, '--nodeset', nodeset, '--live'], undefined, '', true);
  }
}

const steps: Step[] = [
  { vm: 'a', kind: 'pinVcpu', vcpu: 0, cpuset: '8-15' },
  { vm: 'a', kind: 'pinEmulator', cpuset: '8-15' },
  { vm: 'a', kind: 'setNodeset', nodeset: '1' },
  { vm: 'a', kind: 'setShares', shares: 2048 },
];

function host(): SlowNumatune {
  return new SlowNumatune(syntheticTopology('2x8'), [
    vmSample({ name: 'a', vcpuPins: ['0-7'], emulatorPin: '0-7', cpuShares: 1024, numatune: { mode: 'restrictive', nodeset: '0' } }),
  ]);
}

describe('executor: a step whose virsh call timed out (found on the real 4-node lab)', () => {
  it('isTimeout tells a timed-out virsh call from a failed one', () => {
    expect(isTimeout(new VirshError(['numatune'], undefined, '', true))).to.equal(true);
    expect(isTimeout(new VirshError(['numatune'], 1, 'error: boom'))).to.equal(false);
    expect(isTimeout(new Error('timed out'))).to.equal(false);
  });

  it('reads the host back: a nodeset that took effect counts as applied, nothing is rolled back, later steps go on', async () => {
    const h = host();
    const before = await h.sample();
    const journal = new MemoryJournal();
    const r = await executePlan(h, steps, before, { persistConfig: false, journal });
    expect(r.failed).to.deep.equal([]);
    expect(r.applied).to.deep.equal(steps);
    expect(r.succeededVms).to.deep.equal(['a']);
    const a = h.vms[0];
    expect([a.vcpuPins, a.emulatorPin, a.numatune?.nodeset, a.cpuShares]).to.deep.equal([['8-15'], '8-15', '1', 2048]);
    const entry = journal.entries.find((e) => 'step' in e && (e as { step: Step }).step.kind === 'setNodeset') as { result: string; error?: string };
    expect(entry.result).to.equal('applied');
    expect(entry.error).to.match(/timed out; read back: in effect/);
  });

  it('a timed-out step that did not take effect is a failure: the VM\'s earlier steps are rolled back', async () => {
    const h = host();
    h.takesEffect = false;
    const before = await h.sample();
    const r = await executePlan(h, steps, before, { persistConfig: false });
    expect(r.failedVms).to.deep.equal(['a']);
    expect(r.failed[0].step.kind).to.equal('setNodeset');
    expect(r.failed[0].error).to.match(/timed out.*rolled back/);
    const a = h.vms[0];
    expect([a.vcpuPins, a.emulatorPin, a.numatune?.nodeset, a.cpuShares]).to.deep.equal([['0-7'], '0-7', '0', 1024]);
  });

  it('stepInEffect compares cpusets by CPUs, not text, and never assumes a DIMM', () => {
    const vm = vmSample({ name: 'a', vcpuPins: ['8,9,10-15'], emulatorPin: '8-15', cpuShares: 2048, numatune: { mode: 'restrictive', nodeset: '1' } });
    expect(stepInEffect({ vm: 'a', kind: 'pinVcpu', vcpu: 0, cpuset: '8-15' }, vm)).to.equal(true);
    expect(stepInEffect({ vm: 'a', kind: 'setNodeset', nodeset: '0' }, vm)).to.equal(false);
    expect(stepInEffect({ vm: 'a', kind: 'setShares', shares: 2048 }, vm)).to.equal(true);
    expect(stepInEffect({ vm: 'a', kind: 'attachMemory', MiB: 128, guestNode: 0 }, vm)).to.equal(false);
    expect(stepInEffect({ vm: 'a', kind: 'pinVcpu', vcpu: 0, cpuset: '8-15' }, undefined)).to.equal(false);
  });
});
