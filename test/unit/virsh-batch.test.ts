import { expect } from 'chai';
import fc from 'fast-check';
import { buildBatch, quoteVirshArg, splitBatchOutput } from '../../src/host/virsh-batch.js';
import { classifyActionError, DomainGoneError, InvalidRequestError, LimitationError, VirshOutputError, virshReason } from '../../src/host/virsh-errors.js';
import { HostActionError, HostLimitationError } from '../../src/host/errors.js';
import { VirshError } from '../../src/host/virsh-exec.js';
import { errorFixture, fixture } from '../helpers/fake-virsh.js';

/** virsh's tokenizer for its command language (vshCommandStringGetArg), enough to check the quoting. */
function virshTokens(script: string): string[][] {
  const cmds: string[][] = [];
  let cur: string[] = [];
  let tok: string | null = null;
  let sq = false;
  let dq = false;
  for (let i = 0; i < script.length; i++) {
    const c = script[i];
    if (sq) { if (c === "'") sq = false; else tok += c; continue; }
    if (c === "'" && !dq) { sq = true; tok = tok ?? ''; continue; }
    if (c === '"') { dq = !dq; tok = tok ?? ''; continue; }
    if (c === '\\') { tok = (tok ?? '') + script[++i]; continue; }
    if (!dq && (c === ' ' || c === '\t' || c === ';')) {
      if (tok !== null) cur.push(tok);
      tok = null;
      if (c === ';') { cmds.push(cur); cur = []; }
      continue;
    }
    tok = (tok ?? '') + c;
  }
  if (tok !== null) cur.push(tok);
  if (cur.length) cmds.push(cur);
  return cmds;
}

describe('virsh batch mode', () => {
  it('quotes so that every argument survives virsh\'s tokenizer as one literal argument', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\n') && !s.includes('\0')), { minLength: 1, maxLength: 4 }), (args) => {
      const b = buildBatch([['vcpupin', '--domain', ...args]], 'n0nce');
      const cmds = virshTokens(b.script);
      expect(cmds[1]).to.deep.equal(['vcpupin', '--domain', ...args]);
    }));
  });

  it('quotes the odd test VM name and a $(...) name as plain text', () => {
    expect(quoteVirshArg(`it's "odd"; $(touch x)`)).to.equal(`'it'\\''s "odd"; $(touch x)'`);
    expect(virshTokens(`echo ${quoteVirshArg('$(touch /tmp/x); x')}`)).to.deep.equal([['echo', '$(touch /tmp/x); x']]);
    expect(() => quoteVirshArg('a\nb')).to.throw(VirshOutputError, /newline/);
  });

  it('splits a real batch output (captured) into sections; a failed command leaves an empty one', () => {
    const sections = splitBatchOutput(fixture('batch-with-gone.stdout.txt'), { nonce: 'fixture', count: 3 });
    expect(sections[0]).to.match(/^VCPU\s+CPU Affinity/);
    expect(sections[1]).to.equal('');
    expect(sections[2]).to.match(/^Scheduler\s+: posix/);
    expect(fixture('batch-with-gone.stderr.txt')).to.contain("failed to get domain 'numaplace-test-gone'");
  });

  it('rejects a batch output cut short, or text outside the markers', () => {
    const text = fixture('batch-with-gone.stdout.txt');
    const cut = text.slice(0, text.indexOf('@@numaplace-fixture:2@@'));
    expect(() => splitBatchOutput(cut, { nonce: 'fixture', count: 3 })).to.throw(VirshOutputError, /stopped after 1 of 3/);
    expect(() => splitBatchOutput(`junk\n${text}`, { nonce: 'fixture', count: 3 })).to.throw(VirshOutputError, /before its first marker/);
    expect(() => splitBatchOutput(text, { nonce: 'other', count: 3 })).to.throw(VirshOutputError);
  });

  it('ignores marker-like lines with another nonce (forged in a VM description)', () => {
    const b = buildBatch([['dumpxml', '--domain', 'x']], 'abc');
    const forged = '@@numaplace-evil:end@@';
    const out = `@@numaplace-abc:0@@\n<domain>\n${forged}\n</domain>\n@@numaplace-abc:end@@\n`;
    expect(splitBatchOutput(out, b)).to.deep.equal([`<domain>\n${forged}\n</domain>`]);
  });
});

describe('virsh action errors (captured libvirt 9.0 messages)', () => {
  const err = (name: string) => new VirshError(['x'], 1, errorFixture(name));
  it('strict numatune, live mode change, vCPU unplug, no hot-plug support: LimitationError, not retryable', () => {
    for (const [file, re] of [
      ['numatune-strict-live-nodeset.txt', /restrictive/], ['numatune-mode-live.txt', /mode of a running VM can never change/],
      ['setvcpus-down-live.txt', /unplugged/], ['attach-over-max.txt', /maxMemory/], ['attach-no-maxmemory.txt', /guest NUMA cell/],
      ['setvcpus-over-max.txt', /maximum/], ['domjobinfo-shutoff.txt', /not running/],
    ] as const) {
      const e = classifyActionError(err(file), 'vm1', 'act');
      expect(e, file).to.be.instanceOf(LimitationError).and.instanceOf(HostLimitationError);
      expect(e.message, file).to.match(re).and.to.match(/not retryable/);
      expect((e as LimitationError).retryable).to.equal(false);
      expect(e.cause).to.be.instanceOf(VirshError);
    }
  });
  it('values libvirt rejects: InvalidRequestError with libvirt\'s reason', () => {
    for (const file of ['schedinfo-shares-range.txt', 'vcpupin-cpu-too-high.txt', 'vcpupin-vcpu-out-of-range.txt', 'numatune-node-unavailable.txt', 'attach-bad-node.txt']) {
      const e = classifyActionError(err(file), 'vm1', 'act');
      expect(e, file).to.be.instanceOf(InvalidRequestError).and.instanceOf(HostActionError);
      expect(e.message).to.contain(virshReason(errorFixture(file)));
    }
  });
  it('a vanished domain: DomainGoneError; a timeout stays a VirshError', () => {
    expect(classifyActionError(err('domain-not-found.txt'), 'vm1', 'act')).to.be.instanceOf(DomainGoneError);
    const t = new VirshError(['x'], undefined, '', true);
    expect(classifyActionError(t, 'vm1', 'act')).to.equal(t);
    const other = new VirshError(['x'], 1, 'error: something new');
    expect(classifyActionError(other, 'vm1', 'act')).to.equal(other);
  });
});

describe('virsh batch mode: output without a final newline', () => {
  it('finds a marker glued to the end of the previous command\'s last line', () => {
    const out = '@@numaplace-n:0@@\n<domain><name>x</na@@numaplace-n:1@@\nok\n@@numaplace-n:end@@\n';
    expect(splitBatchOutput(out, { nonce: 'n', count: 2 })).to.deep.equal(['<domain><name>x</na', 'ok']);
  });
});
