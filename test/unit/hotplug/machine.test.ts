import { expect } from 'chai';
import { checkMachine, parseMachine } from '../../../src/hotplug/machine.js';

describe('hotplug: machine types (seed: x86 >= pc-i440fx-1.5, AArch64 >= virt-4.1)', () => {
  const allowed: [string, string][] = [
    ['pc', 'x86_64'],
    ['q35', 'x86_64'],
    ['pc-i440fx-7.2', 'x86_64'],
    ['pc-q35-7.2', 'x86_64'],
    ['pc-i440fx-1.5', 'x86_64'],
    ['pc-q35-2.12', ''],
    ['pc-i440fx-rhel7.6.0', 'x86_64'],
    ['pc-q35-rhel9.2.0', 'x86_64'],
    ['pc-i440fx-rhel7.0.0', 'x86_64'],
    ['pc-q35-jammy', 'x86_64'],
    ['pc-i440fx-focal-hpb', 'x86_64'],
    ['virt', 'aarch64'],
    ['virt-4.1', 'aarch64'],
    ['virt-7.2', 'aarch64'],
    ['virt-rhel8.2.0', 'aarch64'],
    ['virt-5.0', ''],
  ];
  for (const [m, a] of allowed) {
    it(`allows ${m} (${a || 'arch from the name'})`, () => {
      expect(checkMachine(m, a)).to.include({ ok: true });
    });
  }
  const tooOld: [string, string][] = [
    ['pc-i440fx-1.4', 'x86_64'],
    ['pc-q35-1.4', 'x86_64'],
    ['pc-1.3', 'x86_64'],
    ['pc-0.15', 'x86_64'],
    ['pc-1.0-precise', 'x86_64'],
    ['rhel6.6.0', 'x86_64'],
    ['virt-4.0', 'aarch64'],
    ['virt-2.12', 'aarch64'],
    ['virt-rhel7.6.0', 'aarch64'],
  ];
  for (const [m, a] of tooOld) {
    it(`refuses ${m} as machine-too-old, naming the minimum`, () => {
      const v = checkMachine(m, a);
      expect(v.ok).to.equal(false);
      if (v.ok) return;
      expect(v.code).to.equal('machine-too-old');
      expect(v.message).to.contain(m).and.to.match(/pc-i440fx-1\.5|virt-4\.1/);
    });
  }
  for (const [m, a] of [['isapc', 'x86_64'], ['microvm', 'x86_64'], ['pseries', 'ppc64le'], ['sbsa-ref', 'aarch64'], ['', '']] as [string, string][]) {
    it(`refuses ${JSON.stringify(m)} as machine-unsupported`, () => {
      const v = checkMachine(m, a);
      expect(v).to.include({ ok: false, code: 'machine-unsupported' });
    });
  }
  it('parses versions and families', () => {
    expect(parseMachine('pc-i440fx-7.2', 'x86_64')).to.deep.equal({ family: 'i440fx', version: [7, 2], arch: 'x86' });
    expect(parseMachine('pc-q35-10.1', 'x86_64')).to.deep.equal({ family: 'q35', version: [10, 1], arch: 'x86' });
    expect(parseMachine('pc', 'x86_64')).to.deep.equal({ family: 'i440fx', version: null, arch: 'x86' });
    expect(parseMachine('virt-4.1', 'aarch64')).to.deep.equal({ family: 'virt', version: [4, 1], arch: 'aarch64' });
    expect(parseMachine('PC-Q35-8.0', '')).to.deep.equal({ family: 'q35', version: [8, 0], arch: 'x86' });
  });
  it('compares versions numerically (1.10 is newer than 1.5)', () => {
    expect(checkMachine('pc-i440fx-1.10', 'x86_64').ok).to.equal(true);
    expect(checkMachine('virt-4.10', 'aarch64').ok).to.equal(true);
    expect(checkMachine('virt-3.10', 'aarch64').ok).to.equal(false);
  });
});
