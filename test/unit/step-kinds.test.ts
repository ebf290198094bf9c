import { expect } from 'chai';
import { runStep } from '../../src/apply/executors.js';
import { stepProblem } from '../../src/apply/journal-validate.js';
import { describeStep, inverseStep, STEP_KINDS, stepKey, type StepKind, type StepOf } from '../../src/core/steps.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { FakeBackend, vmSample } from '../helpers/fake-host.js';

/** One step of every kind: a new kind fails to compile here until it has an example. */
const EXAMPLES: { [K in StepKind]: StepOf<K> } = {
  pinVcpu: { vm: 'a', kind: 'pinVcpu', vcpu: 1, cpuset: '0-3' },
  pinEmulator: { vm: 'a', kind: 'pinEmulator', cpuset: '0-3' },
  setNodeset: { vm: 'a', kind: 'setNodeset', nodeset: '0' },
  setMemnode: { vm: 'a', kind: 'setMemnode', cellid: 1, nodeset: '1' },
  setShares: { vm: 'a', kind: 'setShares', shares: 2048 },
  setVcpus: { vm: 'a', kind: 'setVcpus', count: 3 },
  attachMemory: { vm: 'a', kind: 'attachMemory', MiB: 128, guestNode: 0, sourceNodes: '0' },
};

describe('step kinds: one table in core (STEP_TABLE), one executor row each (src/apply/executors.ts)', () => {
  const vm = vmSample({ name: 'a', vcpusCurrent: 2, vcpusMax: 4, vcpuPins: ['8-15', '8-15'], emulatorPin: '8-15', numatune: { mode: 'restrictive', nodeset: '1' }, cpuShares: 1024 });

  for (const kind of STEP_KINDS) {
    const step = EXAMPLES[kind];
    it(`${kind}: a journal entry of it passes the check, one without its fields is refused naming the kind; it reads in words; it is run by its own backend call`, async () => {
      expect(stepProblem(step, 'a')).to.equal(null);
      expect(stepProblem({ vm: 'a', kind }, 'a')).to.be.a('string').and.include(kind);
      expect(describeStep(step)).to.be.a('string').and.not.equal('');
      const backend = new FakeBackend(syntheticTopology('2x8'), [structuredClone(vm)]);
      await runStep(backend, step, { live: true, config: false });
      expect(backend.calls.map((c) => [c.kind, c.vm])).to.deep.equal([[kind, 'a']]);
    });
    it(`${kind}: its undo is a step of the same kind on the same VM, or a reason it has none`, () => {
      const undo = inverseStep(step, vm, '0-15', false);
      if (typeof undo !== 'string') expect([undo.kind, undo.vm]).to.deep.equal([kind, 'a']);
      else expect(undo.length).to.be.greaterThan(10);
    });
  }

  it('the key of a setting: per vCPU for pins, per guest cell for memnodes, else per kind', () => {
    expect(stepKey(EXAMPLES.pinVcpu)).to.not.equal(stepKey({ ...EXAMPLES.pinVcpu, vcpu: 0 }));
    expect(stepKey(EXAMPLES.setMemnode)).to.not.equal(stepKey({ ...EXAMPLES.setMemnode, cellid: 0 }));
    expect(stepKey(EXAMPLES.setShares)).to.equal(stepKey({ ...EXAMPLES.setShares, shares: 4 }));
    expect(new Set(STEP_KINDS.map((k) => stepKey(EXAMPLES[k]).split(':')[0]))).to.have.length(STEP_KINDS.length);
  });

  it('a kind that is not in the table, or one inherited from Object, is unknown', () => {
    expect(stepProblem({ vm: 'a', kind: 'constructor' }, 'a')).to.match(/unknown step kind "constructor"/);
    expect(stepProblem({ vm: 'a', kind: 'moveMemory' }, 'a')).to.match(/unknown step kind/);
  });
});
