import { expect } from 'chai';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executePlan } from '../../src/apply/executor.js';
import { FileJournal, MemoryJournal, type JournalEntry, type UndoableStep } from '../../src/apply/journal.js';
import { findInterrupted, readJournalTail, recoverInterrupted } from '../../src/apply/recovery.js';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { withSettings } from '../../src/daemon/settings.js';
import type { Step } from '../../src/core/steps.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import type { Problem } from '../../solver/types.js';
import { FakeBackend, placeAll, vmSample } from '../helpers/fake-host.js';

const topo = syntheticTopology('2x8');
const LIVE = { live: true, config: false };
const at = '2026-11-27T00:00:00.000Z';
const pin = (vcpu: number, cpuset: string): Step => ({ vm: 'a', kind: 'pinVcpu', vcpu, cpuset });
const intent = (step: Step, undo: Step | string): UndoableStep => ({ step, flags: LIVE, undo });
const begin = (steps: UndoableStep[], uuid: string | null = 'uuid-a'): JournalEntry => ({ at, vm: 'a', uuid, begin: steps });
const result = (step: Step, r: 'applied' | 'failed' | 'refused' | 'rolled-back'): JournalEntry => ({ at, vm: 'a', step, flags: LIVE, result: r });

function backend() {
  return new FakeBackend(topo, [
    vmSample({ name: 'a', vcpuPins: ['0-7', '0-7'], emulatorPin: '0-7', cpuShares: 1024 }),
    vmSample({ name: 'b', vcpuPins: ['0-7', '0-7'], emulatorPin: '0-7', cpuShares: 1024 }),
  ]);
}

describe('recovery of applies interrupted by a crash', () => {
  describe('findInterrupted', () => {
    const s0 = intent(pin(0, '8-15'), pin(0, '0-7'));
    const s1 = intent(pin(1, '8-15'), pin(1, '0-7'));
    const s2 = intent({ vm: 'a', kind: 'setShares', shares: 2048 }, { vm: 'a', kind: 'setShares', shares: 1024 });

    it('undoes the applied steps and the one in flight, not the ones never reached', () => {
      const found = findInterrupted([begin([s0, s1, s2]), result(s0.step, 'applied')]);
      expect(found).to.have.length(1);
      expect(found[0]).to.deep.include({ vm: 'a', uuid: 'uuid-a', at });
      expect(found[0].toUndo).to.deep.equal([s0, s1]);
    });

    it('a failed or refused step changed nothing; an ended VM is not interrupted', () => {
      const found = findInterrupted([begin([s0, s1, s2]), result(s0.step, 'refused'), result(s1.step, 'failed')]);
      expect(found[0].toUndo).to.deep.equal([s2]);
      expect(findInterrupted([begin([s0]), result(s0.step, 'applied'), { at, vm: 'a', end: 'done' }])).to.deep.equal([]);
    });

    it('died while rolling back: every applied step is undone again (setting an old value twice is harmless)', () => {
      const found = findInterrupted([begin([s0, s1]), result(s0.step, 'applied'), result(s1.step, 'failed'), result(s0.undo as Step, 'rolled-back')]);
      expect(found[0].toUndo).to.deep.equal([s0]);
    });

    it('only the last begin of a VM counts', () => {
      const found = findInterrupted([begin([s0]), begin([s2])]);
      expect(found.map((f) => f.toUndo)).to.deep.equal([[s2]]);
    });
  });

  describe('readJournalTail', () => {
    it('skips the torn line a killed process left, and reads from mid-file when the journal is long', () => {
      const dir = mkdtempSync(join(tmpdir(), 'np-rec-'));
      try {
        const path = join(dir, 'journal.jsonl');
        const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ at, vm: `vm${i}`, end: 'done' }));
        writeFileSync(path, lines.join('\n') + '\n');
        appendFileSync(path, '{"at":"x","vm":"a","begi');
        expect(readJournalTail(path).map((e) => e.vm)).to.deep.equal(lines.map((_, i) => `vm${i}`));
        const tail = readJournalTail(path, 200);
        expect(tail.length).to.be.within(1, 5);
        expect(tail[tail.length - 1].vm).to.equal('vm49');
        expect(readJournalTail(join(dir, 'none'))).to.deep.equal([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('recoverInterrupted', () => {
    it('puts the VM back, journals each undo and an end, leaves a VM that is gone or another one under the name', async () => {
      const h = backend();
      h.vms[0].vcpuPins = ['8-15', '0-7'];
      const j = new MemoryJournal();
      const s0 = intent(pin(0, '8-15'), pin(0, '0-7'));
      const out = await recoverInterrupted(
        h,
        [
          { vm: 'a', uuid: 'uuid-a', at, toUndo: [s0] },
          { vm: 'b', uuid: 'uuid-other', at, toUndo: [intent({ vm: 'b', kind: 'setShares', shares: 9 }, { vm: 'b', kind: 'setShares', shares: 8 })] },
          { vm: 'gone', uuid: null, at, toUndo: [] },
        ],
        j,
      );
      expect(out.map((o) => [o.vm, o.result, o.undone])).to.deep.equal([['a', 'rolled-back', 1], ['b', 'left', 0], ['gone', 'left', 0]]);
      expect(out[1].problems[0]).to.match(/another one/);
      expect(out[2].problems[0]).to.match(/no longer exists/);
      expect(h.vms[0].vcpuPins).to.deep.equal(['0-7', '0-7']);
      expect(h.vms[1].cpuShares).to.equal(1024);
      expect(j.entries.map((e) => ('end' in e ? `${e.vm} end ${e.end}` : 'result' in e ? `${e.vm} ${e.result}` : '?'))).to.deep.equal([
        'a rolled-back', 'a end recovered', 'b end recovered', 'gone end recovered',
      ]);
    });

    it('a hot-plug cannot be undone: partial, with the reason', async () => {
      const h = backend();
      const grow = intent({ vm: 'a', kind: 'setVcpus', count: 3 }, 'hot-plugged vCPUs cannot be unplugged without guest support');
      const out = await recoverInterrupted(h, [{ vm: 'a', uuid: 'uuid-a', at, toUndo: [grow, intent(pin(0, '8-15'), pin(0, '0-7'))] }], new MemoryJournal());
      expect(out[0]).to.deep.include({ result: 'partial', undone: 1 });
      expect(out[0].problems.join()).to.match(/setVcpus left applied: hot-plugged vCPUs cannot be unplugged/);
    });
  });

  it('a daemon killed in the middle of a VM: the next one puts that VM back before anything else, says so, and goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-rec-'));
    try {
      const h = backend();
      const before = structuredClone(h.vms);
      const sample = await h.sample();
      h.hangAt = new Set([2]); // vCPU 1 of 'a' is pinned, and the process "dies" before it hears so
      const steps: Step[] = [pin(0, '8-15'), pin(1, '8-15'), { vm: 'a', kind: 'pinEmulator', cpuset: '8-15' }, { vm: 'b', kind: 'setShares', shares: 4096 }];
      void executePlan(h, steps, sample, { persistConfig: false, journal: new FileJournal(dir) });
      await new Promise((r) => setImmediate(r));
      expect(h.vms[0].vcpuPins).to.deep.equal(['8-15', '8-15']); // half-applied: the emulator is still on 0-7
      h.hangAt = new Set();

      const logger = memoryLogger();
      const recovered: string[] = [];
      const solve = async (p: Problem) => placeAll(p, () => 0);
      const daemon = new Daemon({
        backend: h, settings: withSettings({ mode: 'advisory' }), solve, logger, stateDir: dir,
        observer: { cycle: () => undefined, recovered: (o) => recovered.push(...o.map((x) => `${x.vm}:${x.result}:${x.undone}`)) },
      });
      await daemon.start({ signals: false });
      try {
        expect(logger.lines.join('\n')).to.match(/stopped in the middle of applying/);
        await daemon.runCycle();
        expect(h.vms.map((v) => [v.vcpuPins, v.emulatorPin, v.cpuShares])).to.deep.equal(before.map((v) => [v.vcpuPins, v.emulatorPin, v.cpuShares]));
        expect(recovered).to.deep.equal(['a:rolled-back:2']);
        expect(logger.lines.join('\n')).to.match(/interrupted apply rolled back to the old settings/);
        const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
        expect(journal).to.match(/"end":"recovered"/);
        // Recovered once: a second cycle finds nothing more to do.
        await daemon.runCycle();
        expect(recovered).to.have.length(1);
      } finally {
        await daemon.stop();
      }
      expect(findInterrupted(readJournalTail(join(dir, 'journal.jsonl')))).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
