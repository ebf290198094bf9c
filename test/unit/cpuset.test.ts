import { expect } from 'chai';
import fc from 'fast-check';
import { CpuSetError, formatCpuSet, parseCpuSet } from '../../src/core/cpuset.js';

describe('CpuSet', () => {
  const good: [string, number[], string][] = [
    ['0-63', Array.from({ length: 64 }, (_, i) => i), '0-63'],
    ['2-3', [2, 3], '2-3'],
    ['0-3,^1', [0, 2, 3], '0,2-3'],
    ['0,2-3', [0, 2, 3], '0,2-3'],
    ['7', [7], '7'],
    [' 1 , 3 - 4 ', [1, 3, 4], '1,3-4'],
    ['5,1,1,2', [1, 2, 5], '1-2,5'],
    ['0-7,^0,^7', [1, 2, 3, 4, 5, 6], '1-6'],
  ];
  for (const [text, ids, canonical] of good) {
    it(`parses ${JSON.stringify(text)}`, () => {
      expect(parseCpuSet(text)).to.deep.equal(ids);
      expect(formatCpuSet(parseCpuSet(text))).to.equal(canonical);
    });
  }

  const bad: [string, RegExp][] = [
    ['3-1', /runs backwards/],
    ['a', /"a" is not a CPU id/],
    ['^', /must be followed/],
    ['-1', /not a CPU id/],
    ['', /empty/],
    ['1,,2', /empty item/],
    ['^1', /leave no CPU/],
    ['0-3,^1-2', /single id/],
    ['99999999', /larger than/],
  ];
  for (const [text, why] of bad) {
    it(`rejects ${JSON.stringify(text)} naming the text`, () => {
      expect(() => parseCpuSet(text)).to.throw(CpuSetError).that.satisfies((e: Error) => e.message.includes(JSON.stringify(text)) && why.test(e.message));
    });
  }

  it('accepts an empty set only when asked', () => {
    expect(parseCpuSet('', { allowEmpty: true })).to.deep.equal([]);
  });

  it('round-trips: format(parse(x)) is canonical and parses back to the same set', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 60 }), (ids) => {
        const text = formatCpuSet(ids);
        const back = parseCpuSet(text);
        expect(back).to.deep.equal([...ids].sort((a, b) => a - b));
        expect(formatCpuSet(back)).to.equal(text);
      }),
      { numRuns: 500 },
    );
  });
});

describe('CpuSet memo', () => {
  it('hands out a fresh array each time: a caller mutating its result does not change the next parse', async () => {
    const { parseCpuSet, normalizeCpuSet } = await import('../../src/core/cpuset.js');
    const a = parseCpuSet('40-43,^41');
    a.push(99);
    a.sort((x, y) => y - x);
    expect(parseCpuSet('40-43,^41')).to.deep.equal([40, 42, 43]);
    expect(normalizeCpuSet('43,40,42')).to.equal('40,42-43');
    expect(normalizeCpuSet('43,40,42')).to.equal('40,42-43');
    expect(() => parseCpuSet('3-1')).to.throw(/backwards/);
    expect(() => parseCpuSet('3-1')).to.throw(/backwards/);
    expect(parseCpuSet('', { allowEmpty: true })).to.deep.equal([]);
  });
});
