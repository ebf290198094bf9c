/**
 * Issue 12 item 3: guest NUMA cells are placed cell by cell, and each cell's host node is written
 * as its `<numatune><memnode>` to the persistent definition (libvirt 9 changes none live): the
 * planner's setMemnode steps, the executor's flags and undo, and the definition edit itself on a
 * captured real libvirt 9.0 definition.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { plan, type PlanInput } from '../../src/plan/planner.js';
import { newChurnState } from '../../src/plan/churn.js';
import { sampleToProblem } from '../../src/daemon/sample-to-problem.js';
import { withSettings } from '../../src/daemon/settings.js';
import { executePlan, flagsFor, undoFor } from '../../src/apply/executor.js';
import { stepProblem } from '../../src/apply/journal-validate.js';
import { withMemnode, MemnodeEditError } from '../../src/host/memnode-xml.js';
import { parseDomainXml } from '../../src/host/parse-domain-xml.js';
import type { PersistentDefinition, VmSample } from '../../src/core/sample.js';
import type { Step } from '../../src/core/steps.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { FakeBackend, hostSample, placeAll, viewOf, vmSample } from '../helpers/fake-host.js';

const topo = syntheticTopology('2x8');
const FIXTURE = 'test/fixtures/virsh/debian12-libvirt9-tcg-dumpxml-numa-inactive.xml';

const def = (memnodes: PersistentDefinition['memnodes'], mode = 'restrictive'): PersistentDefinition => ({
  vcpuPins: { 0: '0-7', 1: '8-15' }, emulatorPin: '0-15', shares: 2048, numatune: { mode, nodeset: '0-1' }, memnodes, writtenByNumaplace: true,
});

/** A two-cell VM (vCPU 0 in cell 0, vCPU 1 in cell 1) already running cell 0 on node 0, cell 1 on node 1. */
function cellsVm(over: Partial<VmSample> = {}): VmSample {
  return vmSample({
    name: 'c', vcpusCurrent: 2, vcpuPins: ['0-7', '8-15'], emulatorPin: '0-15', cpuShares: 2048,
    numatune: { mode: 'restrictive', nodeset: '0-1' }, memoryByNode: { 0: 512, 1: 512 },
    guestCells: [{ id: 0, cpus: [0], memoryMiB: 512 }, { id: 1, cpus: [1], memoryMiB: 512 }],
    definition: def([]), ...over,
  });
}

/** The planner's input with the solver's answer "cell 0 on node 0, cell 1 on node 1". */
function input(vm: VmSample, persistConfig: boolean): PlanInput {
  const sample = hostSample(topo, [vm]);
  const settings = withSettings({ persistConfig });
  const { problem, excluded } = sampleToProblem(viewOf(sample, settings), sample, new Map([[vm.name, [0.5, 0.5]]]), settings);
  expect(problem.vms[0].cells?.map((c) => c.vcpus)).to.deep.equal([[0], [1]]);
  const base = placeAll(problem, () => 0).vms[0];
  const placement = {
    status: 'feasible' as const,
    vms: [{
      ...base,
      vcpus: [{ vcpu: 0, node: 0, cpuset: '0-7' }, { vcpu: 1, node: 1, cpuset: '8-15' }],
      emulator: { cpuset: '0-15' },
      memory: { nodeset: '0-1', MiB: { 0: 512, 1: 512 } },
      cells: [{ id: 0, node: 0 }, { id: 1, node: 1 }],
    }],
  };
  return { view: viewOf(sample, settings), sample, problem, placement, excluded, settings, churn: newChurnState(), holdRule: false };
}

describe('guest cells placed cell by cell, a memnode per cell in the definition (issue 12 item 3)', () => {
  it('persistConfig: each cell whose definition lacks its node gets a setMemnode (config only); none once written', () => {
    const out = plan(input(cellsVm(), true));
    expect(out.steps).to.deep.equal([
      { vm: 'c', kind: 'setMemnode', cellid: 0, nodeset: '0' },
      { vm: 'c', kind: 'setMemnode', cellid: 1, nodeset: '1' },
    ]);
    const written = cellsVm({ definition: def([{ cellid: 0, mode: 'restrictive', nodeset: '0' }, { cellid: 1, mode: 'restrictive', nodeset: '1' }]) });
    expect(plan(input(written, true)).steps).to.deep.equal([]);
    const stale = cellsVm({ definition: def([{ cellid: 0, mode: 'restrictive', nodeset: '0' }, { cellid: 1, mode: 'restrictive', nodeset: '0' }]) });
    expect(plan(input(stale, true)).steps).to.deep.equal([{ vm: 'c', kind: 'setMemnode', cellid: 1, nodeset: '1' }]);
  });

  it('no memnode without persistConfig, for a transient VM, or for a VM whose memory mode is not restrictive', () => {
    expect(plan(input(cellsVm(), false)).steps).to.deep.equal([]);
    expect(plan(input(cellsVm({ persistent: false }), true)).steps.filter((s) => s.kind === 'setMemnode')).to.deep.equal([]);
    const strict = cellsVm({ numatune: { mode: 'strict', nodeset: '0-1' }, definition: def([], 'strict') });
    expect(plan(input(strict, true)).steps.filter((s) => s.kind === 'setMemnode')).to.deep.equal([]);
  });

  it('the executor writes it to the definition alone (never --live), and undoes it from the definition', async () => {
    const step: Step = { vm: 'c', kind: 'setMemnode', cellid: 1, nodeset: '1' };
    const vm = cellsVm({ definition: def([{ cellid: 1, mode: 'restrictive', nodeset: '0' }]) });
    expect(flagsFor(step, vm, true)).to.deep.equal({ live: false, config: true });
    const sample = hostSample(topo, [vm]);
    expect(undoFor(step, vm, sample, { live: false, config: true })).to.deep.equal({ ...step, nodeset: '0' });
    expect(undoFor({ ...step, cellid: 0 }, vm, sample, { live: false, config: true })).to.be.a('string').and.match(/no memnode for cell 0/);
    const backend = new FakeBackend(topo, [vm]);
    const r = await executePlan(backend, [step], await backend.sample(), { persistConfig: true });
    expect(r.applied).to.deep.equal([step]);
    expect(backend.calls.map((c) => [c.kind, ...c.args, c.flags.live, c.flags.config])).to.deep.equal([['setMemnode', 1, '1', false, true]]);
  });

  it('a journal entry with a setMemnode step is read back; a malformed one is named', () => {
    expect(stepProblem({ vm: 'c', kind: 'setMemnode', cellid: 1, nodeset: '0-1' }, 'c')).to.equal(null);
    expect(stepProblem({ vm: 'c', kind: 'setMemnode', cellid: -1, nodeset: '0' }, 'c')).to.match(/setMemnode needs/);
    expect(stepProblem({ vm: 'c', kind: 'setMemnode', cellid: 0, nodeset: '0;reboot' }, 'c')).to.match(/setMemnode needs/);
  });

  describe('withMemnode on a real libvirt 9.0 definition (numaplace-test-numa, dumpxml --inactive)', () => {
    const xml = readFileSync(FIXTURE, 'utf8');

    it('adds the cell\'s memnode in the VM\'s restrictive mode, and changes nothing else', () => {
      const out = withMemnode(xml, 1, '0');
      expect(parseDomainXml(out).memnodes).to.deep.equal([{ cellid: 1, mode: 'restrictive', nodeset: '0' }]);
      const added = "    <memnode cellid='1' mode='restrictive' nodeset='0'/>\n";
      expect(out.replace(added, '')).to.equal(xml);
    });

    it('changes an existing memnode in place (keeping its mode), idempotently, canonical nodeset', () => {
      const once = withMemnode(withMemnode(xml, 0, '0'), 1, '0');
      const moved = withMemnode(once, 0, '0,0');
      expect(parseDomainXml(moved).memnodes.map((m) => [m.cellid, m.mode, m.nodeset])).to.deep.equal([[0, 'restrictive', '0'], [1, 'restrictive', '0']]);
      expect(withMemnode(moved, 0, '0')).to.equal(moved);
    });

    it('refuses a cell the guest lacks, a definition with no <numatune>, and a bad nodeset, writing nothing', () => {
      expect(() => withMemnode(xml, 2, '0')).to.throw(MemnodeEditError, /no guest NUMA cell 2/);
      const noTune = xml.replace(/ {2}<numatune>\n[\s\S]*?<\/numatune>\n/, '');
      expect(() => withMemnode(noTune, 0, '0')).to.throw(MemnodeEditError, /no <numatune>/);
      expect(() => withMemnode(xml, 0, "0'/><x y='")).to.throw();
      // A <numatune> in another namespace's metadata, formatted like the domain's: the edit lands there, the read-back check refuses it.
      const decoy = xml.replace('  <numatune>', "  <metadata>\n    <x:t xmlns:x='urn:x'>\n  <numatune>\n  </numatune>\n    </x:t>\n  </metadata>\n  <numatune>");
      expect(() => withMemnode(decoy, 0, '0')).to.throw();
    });
  });
});
