/**
 * Issue 12 item 7: under the shipped unit (no capabilities) QEMU's numa_maps could not be read and
 * the error was swallowed. Real QEMU (processes of user libvirt-qemu): numaplace's own reader run as
 * root with an empty capability bounding set fails, warns once per VM process and counts; with only
 * CAP_SYS_PTRACE (what deploy/numaplace.service now grants) it reads every running test VM.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { IDLE_VM, requireLibvirt, TEST_URI } from '../integration/libvirt-available.js';
import { hardened, registerReport } from './counters.js';

registerReport();

/** Two samples by VirshBackend under `setpriv --bounding-set=SET`: what it read and what it said. */
function sampleWith(bounding: string): { memory: Record<string, unknown>; errors: number; warnings: string[] } {
  const script = `
    const { VirshBackend } = await import(${JSON.stringify(`${process.cwd()}/dist/src/host/virsh-backend.js`)});
    const b = new VirshBackend({ uri: ${JSON.stringify(TEST_URI)} });
    const warnings = [];
    let s;
    for (let i = 0; i < 2; i++) { s = await b.sample(); warnings.push(...(s.warnings ?? [])); }
    const memory = Object.fromEntries(s.vms.filter((v) => v.running).map((v) => [v.name, v.memoryByNode ?? null]));
    console.log(JSON.stringify({ memory, errors: b.numaMapsErrors, warnings }));`;
  const r = spawnSync('setpriv', [`--bounding-set=${bounding}`, '--inh-caps=-all', '--', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`setpriv ${bounding}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('reliability: numa_maps of QEMU processes and the capability it needs (issue 12 item 7)', function () {
  this.timeout(180_000);

  before(async function () {
    await requireLibvirt(this, [IDLE_VM]);
    if (process.getuid?.() !== 0) this.skip();
  });

  it('no capabilities (the old unit): every read fails, is counted, and warned about once per VM process', () => {
    const r = sampleWith('-all');
    const running = Object.keys(r.memory);
    expect(running).to.include(IDLE_VM);
    expect(Object.values(r.memory).every((m) => m === null), JSON.stringify(r.memory)).to.equal(true);
    expect(r.errors).to.be.at.least(running.length); // every read, both samples (other engineers' VMs may come and go)
    expect(new Set(r.warnings).size, 'warned once per VM process').to.equal(r.warnings.length);
    expect(r.warnings.length).to.be.at.most(r.errors / 2 + 1);
    expect(r.warnings.find((w) => w.includes(IDLE_VM))).to.match(/numa_maps of VM "numaplace-test-idle" \(EACCES\); its memory placement is unknown: .*CAP_SYS_PTRACE/);
    hardened('numa-maps', 3);
  });

  it('CAP_SYS_PTRACE alone (the new unit): every running VM is read, no error', () => {
    const r = sampleWith('-all,+sys_ptrace');
    expect(r.errors).to.equal(0);
    expect(r.warnings).to.deep.equal([]);
    const idle = r.memory[IDLE_VM] as Record<string, number>;
    expect(idle).to.be.an('object');
    expect(Object.values(idle).reduce((a, b) => a + b, 0)).to.be.greaterThan(0);
    hardened('numa-maps', 2);
  });

  it('CAP_DAC_READ_SEARCH alone is not enough (why the unit grants CAP_SYS_PTRACE)', () => {
    const r = sampleWith('-all,+dac_read_search');
    expect(r.errors).to.be.greaterThan(0);
    hardened('numa-maps');
  });
});
