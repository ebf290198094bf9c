/**
 * Issue 12 item 11: a malformed journal entry never becomes a crash loop or an outage. Bad entries
 * are skipped and logged; undo steps must be of a known kind, well formed, and on the entry's VM.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateJournalEntry } from '../../src/apply/journal-validate.js';
import { findInterrupted, readJournalTail } from '../../src/apply/recovery.js';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { withSettings } from '../../src/daemon/settings.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import type { Problem } from '../../solver/types.js';
import { FakeBackend, placeAll, vmSample } from '../helpers/fake-host.js';
import { hardened, registerReport } from './counters.js';

registerReport();

const at = '2026-12-06T00:00:00.000Z';
const LIVE = { live: true, config: false };
const good = { at, vm: 'a', uuid: 'uuid-a', begin: [{ step: { vm: 'a', kind: 'setShares', shares: 4096 }, flags: LIVE, undo: { vm: 'a', kind: 'setShares', shares: 1024 } }] };

/** [entry, what must be said about it] */
const BAD: [unknown, RegExp][] = [
  [{ vm: 'x', begin: 5 }, /no time|"begin" is not a list/],
  [{ at, vm: 'x', begin: 5 }, /"begin" is not a list/],
  [{ at, vm: 'x', uuid: null, begin: [null] }, /begin\[0\] is not an object/],
  [{ at, vm: 'x', uuid: null, begin: [{}] }, /begin\[0\]: a step is not an object/],
  [{ at, vm: 'a', uuid: null, begin: [{ step: { vm: 'a', kind: 'rm -rf', x: 1 }, flags: LIVE, undo: 'x' }] }, /unknown step kind/],
  // The undo names another VM: recovery of a must never touch b.
  [{ at, vm: 'a', uuid: null, begin: [{ step: { vm: 'a', kind: 'setShares', shares: 4096 }, flags: LIVE, undo: { vm: 'b', kind: 'setShares', shares: 2 } }] }, /names VM "b", not the entry's own VM/],
  [{ at, vm: 'a', uuid: null, begin: [{ step: { vm: 'a', kind: 'setShares', shares: 4096 }, flags: LIVE, undo: { vm: 'a', kind: 'setVcpus', count: 1 } }] }, /not of the step's kind/],
  [{ at, vm: 'a', uuid: null, begin: [{ step: { vm: 'a', kind: 'pinVcpu', vcpu: -1, cpuset: '0' }, flags: LIVE, undo: 'x' }] }, /pinVcpu needs/],
  [{ at, vm: 'a', uuid: null, begin: [{ step: { vm: 'a', kind: 'pinVcpu', vcpu: 0, cpuset: '0; reboot' }, flags: LIVE, undo: 'x' }] }, /pinVcpu needs/],
  [{ at, vm: 'a', uuid: null, begin: [{ step: { vm: 'a', kind: 'setShares', shares: 1e9 }, flags: LIVE, undo: 'x' }] }, /setShares needs/],
  [{ at, vm: 'a', uuid: null, begin: [{ step: { vm: 'a', kind: 'setShares', shares: 2048 }, undo: 'x' }] }, /no flags/],
  [{ at, vm: 'a', uuid: 7, begin: [] }, /uuid/],
  [{ at, vm: 'a', end: 'maybe' }, /unknown "end"/],
  [{ at, vm: 'a', step: { vm: 'a', kind: 'setShares', shares: 2048 }, flags: LIVE, result: 'exploded' }, /unknown "result"/],
  [{ at, vm: 'a', step: { vm: 'b', kind: 'setShares', shares: 2048 }, flags: LIVE, result: 'applied' }, /not the entry's own VM/],
  [{ at, vm: 42, end: 'done' }, /no VM name/],
  [{ at, vm: 'a'.repeat(5000), end: 'done' }, /no VM name/],
  [[1, 2], /not a JSON object/],
  ['text', /not a JSON object/],
  [null, /not a JSON object/],
  [{ at, vm: 'a' }, /neither a begin/],
];

describe('reliability: malformed journal entries (issue 12 item 11)', () => {
  it('the validator refuses each malformed entry with the reason and accepts what the executor writes', () => {
    expect(validateJournalEntry(good)).to.have.property('entry');
    expect(validateJournalEntry({ at, vm: 'a', end: 'done' })).to.have.property('entry');
    expect(validateJournalEntry({ at, vm: 'a', uuid: null, begin: [{ step: { vm: 'a', kind: 'setVcpus', count: 3 }, flags: LIVE, undo: 'cannot' }] })).to.have.property('entry');
    for (const [entry, why] of BAD) {
      const v = validateJournalEntry(entry);
      expect(v, JSON.stringify(entry).slice(0, 100)).to.have.property('problem').that.matches(why);
      hardened('journal');
    }
  });

  it('a journal full of bad entries: the daemon starts, logs each skipped one, and only recovers the valid entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-badjournal-'));
    try {
      const lines = [...BAD.map(([e]) => JSON.stringify(e)), 'not json at all', JSON.stringify(good), '{"at":"x","vm":"a","begi'];
      writeFileSync(join(dir, 'journal.jsonl'), lines.join('\n'));
      const reported: string[] = [];
      const entries = readJournalTail(join(dir, 'journal.jsonl'), undefined, (line, problem) => reported.push(`${line}: ${problem}`));
      expect(reported).to.have.length(BAD.length + 1); // the torn last line is expected, not reported
      expect(findInterrupted(entries).map((i) => i.vm)).to.deep.equal(['a']);

      const h = new FakeBackend(syntheticTopology('2x8'), [vmSample({ name: 'a', cpuShares: 4096 }), vmSample({ name: 'b', cpuShares: 1024 })]);
      const logger = memoryLogger();
      const daemon = new Daemon({ backend: h, settings: withSettings({ mode: 'advisory' }), solve: async (p: Problem) => placeAll(p, () => 0), logger, stateDir: dir });
      await daemon.start({ signals: false });
      try {
        const r = await daemon.runCycle();
        expect(r.outcome).to.be.oneOf(['warming-up', 'ok']);
        expect(logger.lines.filter((l) => /skipping a malformed journal entry/.test(l))).to.have.length(BAD.length + 1);
        // The valid interrupted apply was undone on a; b untouched.
        expect(h.vms.map((v) => v.cpuShares)).to.deep.equal([1024, 1024]);
        expect(h.calls.every((c) => c.vm === 'a')).to.equal(true);
      } finally {
        await daemon.stop();
      }
      hardened('journal', 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a journal that is a FIFO is not read (no hang)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'np-fifojournal-'));
    try {
      const fifo = join(dir, 'journal.jsonl');
      const r = require_mkfifo(fifo);
      if (!r) return;
      const reported: string[] = [];
      expect(readJournalTail(fifo, undefined, (_, p) => reported.push(p))).to.deep.equal([]);
      expect(reported[0]).to.match(/not a regular file/);
      hardened('journal');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function require_mkfifo(path: string): boolean {
  return spawnSync('mkfifo', [path]).status === 0;
}
