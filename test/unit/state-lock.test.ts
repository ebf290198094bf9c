import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, LOCK_FILE, LockError } from '../../src/daemon/lock.js';
import { forgetGoneVms, freshState, loadState, recordApplied, saveState, STATE_FILE } from '../../src/daemon/state.js';
import { initialVmState } from '../../src/hotplug/state.js';

describe('checkpoint and lock', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'np-state-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips the state through an atomic 0600 write and leaves no temp file', () => {
    let s = freshState();
    s = recordApplied(s, [
      { vm: 'a', kind: 'pinVcpu', vcpu: 0, cpuset: '0-3' },
      { vm: 'a', kind: 'pinVcpu', vcpu: 0, cpuset: '4-7' },
      { vm: 'a', kind: 'setShares', shares: 2048 },
    ]);
    s.churn.cooldown = { a: 3 };
    saveState(dir, s);
    expect(readdirSync(dir)).to.deep.equal([STATE_FILE]);
    expect(statSync(join(dir, STATE_FILE)).mode & 0o777).to.equal(0o600);
    const back = loadState(dir);
    expect(back.problem).to.equal(undefined);
    expect(back.state.applied.a['pinVcpu:0']).to.deep.equal({ vm: 'a', kind: 'pinVcpu', vcpu: 0, cpuset: '4-7' });
    expect(back.state.churn.cooldown).to.deep.equal({ a: 3 });
  });

  it('forgetGoneVms drops every per-VM record of VMs not listed, and keeps the others as they are', () => {
    let s = recordApplied(freshState(), [{ vm: 'a', kind: 'setShares', shares: 2048 }, { vm: 'gone', kind: 'setShares', shares: 1024 }]);
    s = {
      ...s,
      churn: { heldCycles: 3, targets: { a: { signature: 'x', cycles: 1 }, gone: { signature: 'y', cycles: 2 } }, cooldown: { gone: 4 }, refusedNodeset: { gone: 'u 0' } },
      hotplug: { version: 1, vms: { a: initialVmState('ua'), gone: initialVmState('ug') } },
    };
    const out = forgetGoneVms(s, new Set(['a', 'other']));
    expect(out.applied).to.deep.equal({ a: s.applied.a });
    expect(out.churn).to.deep.equal({ heldCycles: 3, targets: { a: { signature: 'x', cycles: 1 } }, cooldown: {}, refusedNodeset: {} });
    expect(Object.keys(out.hotplug.vms)).to.deep.equal(['a']);
    expect(Object.keys(s.applied)).to.deep.equal(['a', 'gone']); // the input is not changed
  });

  it('a missing checkpoint starts fresh silently', () => {
    expect(loadState(dir)).to.deep.equal({ state: freshState() });
  });

  for (const [what, text] of [
    ['truncated JSON', '{"version":1,"applied":{'],
    ['the wrong shape', '{"version":1,"applied":[],"churn":{}}'],
  ] as const) {
    it(`a checkpoint with ${what} is reported, set aside and replaced by a fresh state`, () => {
      writeFileSync(join(dir, STATE_FILE), text);
      const r = loadState(dir, new Date('2026-11-27T00:00:00Z'));
      expect(r.state).to.deep.equal(freshState());
      expect(r.problem).to.match(/unreadable .* moved it to .*state\.json\.corrupt-2026-11-27T00-00-00-000Z and started fresh/);
      expect(existsSync(join(dir, STATE_FILE))).to.equal(false);
      expect(readFileSync(join(dir, 'state.json.corrupt-2026-11-27T00-00-00-000Z'), 'utf8')).to.equal(text);
      // and the next start reads cleanly
      saveState(dir, r.state);
      expect(loadState(dir).problem).to.equal(undefined);
    });
  }

  it('refuses a second live instance, naming its pid; release frees the lock', () => {
    const lock = acquireLock(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).to.equal(String(process.pid));
    expect(statSync(join(dir, LOCK_FILE)).mode & 0o777).to.equal(0o600);
    expect(() => acquireLock(dir)).to.throw(LockError, new RegExp(`pid ${process.pid}`));
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).to.equal(false);
    acquireLock(dir).release();
  });

  it('takes over a lock left by a dead process', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
    const lock = acquireLock(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).to.equal(String(process.pid));
    lock.release();
  });
});
