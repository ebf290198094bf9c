import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executePlan } from '../../src/apply/executor.js';
import { FileJournal, MemoryJournal } from '../../src/apply/journal.js';
import { HostLimitationError } from '../../src/host/errors.js';
import type { Step } from '../../src/core/steps.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { FakeBackend, vmSample } from '../helpers/fake-host.js';

const topo = syntheticTopology('2x8');

function host() {
  return new FakeBackend(topo, [
    vmSample({ name: 'a', vcpuPins: ['0-7', '0-7'], emulatorPin: '0-7', cpuShares: 1024, numatune: { mode: 'restrictive', nodeset: '0' } }),
    vmSample({ name: 'b', vcpuPins: [null, null], emulatorPin: null, cpuShares: 512, persistent: false }),
  ]);
}

const steps: Step[] = [
  { vm: 'a', kind: 'pinVcpu', vcpu: 0, cpuset: '8-15' },
  { vm: 'a', kind: 'pinVcpu', vcpu: 1, cpuset: '8-15' },
  { vm: 'a', kind: 'pinEmulator', cpuset: '8-15' },
  { vm: 'a', kind: 'setNodeset', nodeset: '1' },
  { vm: 'a', kind: 'setShares', shares: 2048 },
  { vm: 'b', kind: 'pinVcpu', vcpu: 0, cpuset: '0-7' },
  { vm: 'b', kind: 'setShares', shares: 2048 },
];

describe('executor', () => {
  it('applies every step in order with --live (and --config only for persistent VMs when persistConfig)', async () => {
    const h = host();
    const before = await h.sample();
    const r = await executePlan(h, steps, before, { persistConfig: true });
    expect(r.applied).to.deep.equal(steps);
    expect(r.failed).to.deep.equal([]);
    expect(h.calls.map((c) => `${c.vm}:${c.kind}`)).to.deep.equal(steps.map((s) => `${s.vm}:${s.kind}`));
    expect(h.calls[0].flags).to.deep.equal({ live: true, config: true });
    expect(h.calls[5].flags).to.deep.equal({ live: true, config: false });
    const a = h.vms[0];
    expect([a.vcpuPins, a.emulatorPin, a.numatune?.nodeset, a.cpuShares]).to.deep.equal([['8-15', '8-15'], '8-15', '1', 2048]);
  });

  for (const n of [1, 2, 3, 4, 5]) {
    it(`when step ${n} of a VM fails, restores that VM's earlier settings in reverse and goes on with the others`, async () => {
      const h = host();
      const before = await h.sample();
      h.failAt = new Set([n]);
      const journal = new MemoryJournal();
      const r = await executePlan(h, steps, before, { persistConfig: false, journal });
      expect(r.failedVms).to.deep.equal(['a']);
      expect(r.failed).to.have.length(1);
      expect(r.failed[0].step).to.deep.equal(steps[n - 1]);
      expect(r.failed[0].error).to.match(/injected failure.*rolled back/);
      // a is as it was
      const a = h.vms[0];
      expect([a.vcpuPins, a.emulatorPin, a.numatune?.nodeset, a.cpuShares]).to.deep.equal([['0-7', '0-7'], '0-7', '0', 1024]);
      // undo calls come after the failure, last applied first
      const undo = h.calls.slice(n, n + (n - 1)).map((c) => c.kind);
      expect(undo).to.deep.equal(steps.slice(0, n - 1).map((s) => s.kind).reverse());
      // b still applied
      expect(r.applied).to.deep.equal(steps.slice(5));
      expect(h.vms[1].cpuShares).to.equal(2048);
      expect(journal.entries.filter((e) => 'result' in e && e.result === 'rolled-back')).to.have.length(n - 1);
    });
  }

  it('undoes a pin that had no affinity before to all online CPUs', async () => {
    const h = host();
    const before = await h.sample();
    h.failAt = new Set([7]); // b's setShares
    const r = await executePlan(h, steps, before, { persistConfig: false });
    expect(r.failedVms).to.deep.equal(['b']);
    expect(h.vms[1].vcpuPins[0]).to.equal('0-15');
    expect(h.vms[1].cpuShares).to.equal(512);
  });

  it('a structural refusal (HostLimitationError) is refused, not failed, and the VM goes on', async () => {
    const h = host();
    const before = await h.sample();
    h.failAt = new Set([4]);
    h.failWith = (c) => new HostLimitationError(c.vm, 'numatune', 'change of nodeset for running domain requires restrictive numa mode');
    const r = await executePlan(h, steps, before, { persistConfig: false });
    expect(r.failed).to.deep.equal([]);
    expect(r.refused).to.deep.equal([{ vm: 'a', reason: 'setNodeset: change of nodeset for running domain requires restrictive numa mode' }]);
    expect(r.applied).to.have.length(6);
    expect(r.succeededVms).to.deep.equal(['a', 'b']);
  });

  it('a VM whose every step is refused (it stopped meanwhile) did not move: not among the succeeded', async () => {
    const h = host();
    h.failAt = new Set([1, 2, 3, 4, 5]);
    h.failWith = (c) => new HostLimitationError(c.vm, c.kind, 'Requested operation is not valid: domain is not running');
    const r = await executePlan(h, steps, await h.sample(), { persistConfig: false });
    expect(r.refused).to.have.length(5);
    expect(r.succeededVms).to.deep.equal(['b']);
    expect(r.failedVms).to.deep.equal([]);
  });

  it('writes a non-restrictive VM nodeset to the config only', async () => {
    const h = new FakeBackend(topo, [vmSample({ name: 's', numatune: { mode: 'strict', nodeset: '1' } })]);
    await executePlan(h, [{ vm: 's', kind: 'setNodeset', nodeset: '0' }], await h.sample(), { persistConfig: true });
    expect(h.calls[0].flags).to.deep.equal({ live: false, config: true });
  });

  it('stops before the next VM when asked (SIGTERM), never within one', async () => {
    const h = host();
    let stop = false;
    const r = await executePlan(h, steps, await h.sample(), { persistConfig: false, shouldStop: () => stop, onAction: () => (stop = true) });
    expect(r.succeededVms).to.deep.equal(['a']);
    expect(r.notReached).to.deep.equal(['b']);
    expect(h.calls).to.have.length(5);
  });

  it('journals every action as a JSON line in a 0600 file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-journal-'));
    try {
      const h = host();
      h.failAt = new Set([2]);
      const journal = new FileJournal(dir);
      await executePlan(h, steps, await h.sample(), { persistConfig: false, journal });
      const lines = readFileSync(journal.path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const what = (l: Record<string, any>) => ('begin' in l ? `${l.vm}:begin ${l.begin.length}` : 'end' in l ? `${l.vm}:end ${l.end}` : `${l.vm}:${l.step.kind}:${l.result}`);
      expect(lines.map(what)).to.deep.equal([
        'a:begin 5', 'a:pinVcpu:applied', 'a:pinVcpu:failed', 'a:pinVcpu:rolled-back', 'a:end failed',
        'b:begin 2', 'b:pinVcpu:applied', 'b:setShares:applied', 'b:end done',
      ]);
      // The intent carries how to undo each step: the sampled settings.
      expect(lines[0].begin[0].undo).to.deep.include({ kind: 'pinVcpu' });
      expect(statSync(journal.path).mode & 0o777).to.equal(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a hot-plug is not undone when a later step of the VM fails (vCPUs cannot be unplugged without the guest)', async () => {
    const h = new FakeBackend(topo, [vmSample({ name: 'g', vcpusCurrent: 2, vcpusMax: 4, vcpuPins: ['0-7', '0-7', null, null] })]);
    const before = await h.sample();
    h.failAt = new Set([2]);
    const grow: Step[] = [
      { vm: 'g', kind: 'setVcpus', count: 3 },
      { vm: 'g', kind: 'pinVcpu', vcpu: 2, cpuset: '0-7' },
    ];
    const r = await executePlan(h, grow, before, { persistConfig: false });
    expect(h.calls.map((c) => c.kind)).to.deep.equal(['setVcpus', 'pinVcpu']);
    expect(r.applied).to.deep.equal([grow[0]]);
    expect(r.failed[0].error).to.match(/setVcpus left applied: hot-plugged vCPUs cannot be unplugged/);
  });
});

