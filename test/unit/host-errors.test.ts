import { expect } from 'chai';
import { HostActionError, HostLimitationError } from '../../src/host/errors.js';

describe('host errors', () => {
  it('a limitation names the VM, the action and the reason', () => {
    const e = new HostLimitationError('web 1', 'setNodeset', 'change of nodeset for running domain requires restrictive numa mode');
    expect(e).to.be.instanceOf(Error);
    expect(e.name).to.equal('HostLimitationError');
    expect(e.message).to.equal('setNodeset on "web 1" is not possible on this host: change of nodeset for running domain requires restrictive numa mode');
    expect(e.reason).to.match(/restrictive/);
  });
  it('an action error keeps the detail', () => {
    const e = new HostActionError('db', 'pinVcpu', "CPU 99 in cpulist '99' exceed the maxcpu 64");
    expect(e.name).to.equal('HostActionError');
    expect(e.message).to.contain('pinVcpu on "db" failed');
    expect(e.detail).to.contain('maxcpu 64');
  });
});
