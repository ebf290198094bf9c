// Reading a host: virsh (through runVirsh, with a fake virsh binary) and the fallback to sysfs.
import { expect } from 'chai';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readHostTopology, readTopologyFromSysfs, readTopologyFromVirsh } from '../../../src/host/read-topology.js';
import { topologyJson } from '../../../src/topology/format.js';

const FIXTURES = resolve('test/fixtures/topology');
const expected = (machine: string, file: string) => JSON.parse(readFileSync(join(FIXTURES, machine, file), 'utf8'));
const asJson = (v: unknown) => JSON.parse(JSON.stringify(v));

/** A stand-in for virsh that answers `capabilities` and `freecell --cellno N` from a fixture, and logs its argv. */
function fakeVirsh(dir: string, machine: string | null): string {
  const path = join(dir, `virsh-${machine ?? 'down'}`);
  const fixture = machine ? join(FIXTURES, machine) : '';
  writeFileSync(path, `#!/usr/bin/env node
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(join(dir, 'argv.log'))}, JSON.stringify(args) + '\\n');
if (${JSON.stringify(machine === null)}) {
  process.stderr.write('error: failed to connect to the hypervisor\\nerror: Failed to connect socket to /run/libvirt/libvirt-sock: No such file or directory\\n');
  process.exit(1);
}
const cmd = args[0] === '-c' ? args.slice(2) : args;
if (cmd[0] === 'capabilities') process.stdout.write(fs.readFileSync(${JSON.stringify(join(fixture, 'capabilities.xml'))}));
else if (cmd[0] === 'freecell' && cmd[1] === '--cellno') {
  // Answer as virsh does for one cell ("N: FREE KiB"), from the fixture's freecell --all capture.
  const line = fs.readFileSync(${JSON.stringify(join(fixture, 'freecell.txt'))}, 'utf8').split('\\n').find((l) => l.trim().startsWith(cmd[2] + ':'));
  if (!line) { process.stderr.write('error: invalid argument: start cell ' + cmd[2] + ' out of range\\n'); process.exit(1); }
  process.stdout.write(line.trim().replace(/\\s+/g, ' ') + '\\n\\n');
}
else { process.stderr.write('error: unknown command\\n'); process.exit(1); }
`);
  chmodSync(path, 0o755);
  return path;
}

describe('readTopologyFromVirsh / readHostTopology', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'numaplace-topo-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('merges capabilities and freecell --cellno N for each cell, run through runVirsh with the URI', async () => {
    const counters = { calls: 0, errors: 0 };
    const t = await readTopologyFromVirsh({ binary: fakeVirsh(dir, 'dual-xeon-gold-6430-cxl'), uri: 'qemu:///system' }, counters);
    expect(asJson(topologyJson(t))).to.deep.equal({ ...expected('dual-xeon-gold-6430-cxl', 'capabilities+freecell.json'), source: 'virsh:qemu:///system' });
    expect(counters).to.deep.equal({ calls: 4, errors: 0 });
    const argv = readFileSync(join(dir, 'argv.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(argv[0]).to.deep.equal(['-c', 'qemu:///system', 'capabilities']);
    expect(argv.slice(1).sort()).to.deep.equal([0, 1, 2].map((n) => ['-c', 'qemu:///system', 'freecell', '--cellno', String(n)]));
  });

  it('uses virsh when it answers', async () => {
    const t = await readHostTopology({ virsh: { binary: fakeVirsh(dir, 'dual-xeon-e5-2680v4') }, sysfsRoot: join(FIXTURES, 'kvm-epyc-milan-2vcpu', 'sysfs') });
    expect(t.source).to.equal('virsh');
    expect(t.nodes).to.have.length(2);
  });

  it('falls back to sysfs when virsh fails, saying why', async () => {
    const root = join(FIXTURES, 'dual-xeon-e5-2680v4', 'sysfs');
    const counters = { calls: 0, errors: 0 };
    const t = await readHostTopology({ virsh: { binary: fakeVirsh(dir, null) }, sysfsRoot: root }, counters);
    const sysfs = expected('dual-xeon-e5-2680v4', 'sysfs.json');
    expect(asJson(topologyJson(t))).to.deep.equal({
      ...sysfs,
      warnings: ['could not use virsh (virsh capabilities failed (exit 1): error: failed to connect to the hypervisor): read sysfs instead', ...sysfs.warnings],
      source: `sysfs:${root}`,
    });
    expect(counters.errors).to.be.greaterThan(0);
  });

  it('falls back to sysfs when there is no virsh binary at all', async () => {
    const t = await readHostTopology({ virsh: { binary: join(dir, 'no-such-virsh') }, sysfsRoot: join(FIXTURES, 'kvm-epyc-milan-2vcpu', 'sysfs') });
    expect(t.warnings[0]).to.match(/^could not use virsh \(virsh capabilities failed/);
    expect(t.nodes.map((n) => n.cpus)).to.deep.equal([[0, 1]]);
  });

  it('names the directory when a sysfs root is not one', async () => {
    let err: Error | undefined;
    await readTopologyFromSysfs(dir).catch((e: Error) => { err = e; });
    expect(err?.message).to.equal(`${join(dir, 'devices/system/node')} is not a directory: give the directory that holds devices/system/node (e.g. /sys)`);
  });
});
