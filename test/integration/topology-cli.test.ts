// `numaplace topology` as a user runs it: a child process per invocation, checked on stdout,
// stderr and exit status. The invocations run in parallel once, then each case checks its result.
// The other options are tested in process (test/unit/topology/command.test.ts): each spawn costs
// a Node start-up.
import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCpuSet } from '../../src/core/cpuset.js';

const FIXTURES = 'test/fixtures/topology';
const expected = (machine: string, file: string) => JSON.parse(readFileSync(join(FIXTURES, machine, file), 'utf8'));
const withCaps = readdirSync(FIXTURES).filter((m) => existsSync(join(FIXTURES, m, 'capabilities.xml')));

interface Run { exitCode: number; stdout: string; stderr: string }
const runs = new Map<string, Promise<Run>>();
function topology(...args: string[]): Promise<Run> {
  const key = JSON.stringify(args);
  if (!runs.has(key)) {
    runs.set(key, execa('node', ['bin/numaplace.js', 'topology', ...args], { reject: false, timeout: 180_000, stripFinalNewline: false })
      .then((r) => ({ exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) })));
  }
  return runs.get(key)!;
}

const f = (machine: string, file: string) => join(FIXTURES, machine, file);
const BAD: [string, string[], RegExp][] = [
  ['a missing file', ['--capabilities', 'no/such/caps.xml'], /^numaplace topology: --capabilities no\/such\/caps\.xml: no such file$/],
  ['unparsable XML', ['--capabilities', f('kvm-epyc-milan-2vcpu', 'freecell.txt')], /^numaplace topology: --capabilities .*freecell\.txt: capabilities XML is not well-formed/],
  ['two sources at once', ['--capabilities', 'a.xml', '--sysfs', '/sys'], /^numaplace topology: give one source, not --capabilities and --sysfs$/],
  ['an unknown simulate name', ['--simulate', '3x3'], /^numaplace topology: --simulate "3x3": scenario 3x3: name: neither a built-in scenario /],
];

describe('numaplace topology (CLI)', function () {
  this.timeout(240_000);
  before(async () => {
    // Start everything at once: each is a node process, and the machine has two cores to share.
    await Promise.all([
      ...withCaps.map((m) => topology('--capabilities', f(m, 'capabilities.xml'), '--json')),
      topology('--json'),
      ...BAD.map(([, args]) => topology(...args)),
    ]);
  });

  for (const m of withCaps) {
    it(`--capabilities ${m} --json prints the expected parse`, async () => {
      const r = await topology('--capabilities', f(m, 'capabilities.xml'), '--json');
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout)).to.deep.equal(expected(m, 'capabilities.json'));
    });
  }

  it('with no source reads this host: virsh when libvirtd answers, else sysfs', async function () {
    const r = await topology('--json');
    expect(r.exitCode, r.stderr).to.equal(0);
    const t = JSON.parse(r.stdout);
    const sysNodes = readdirSync('/sys/devices/system/node').filter((n) => /^node\d+$/.test(n)).map((n) => Number(n.slice(4))).sort();
    expect(t.nodes.map((n: { id: number }) => n.id)).to.deep.equal(sysNodes);
    for (const n of t.nodes) {
      expect(n.cpus).to.deep.equal(parseCpuSet(readFileSync(`/sys/devices/system/node/node${n.id}/cpulist`, 'utf8'), { allowEmpty: true }));
      expect(n.freeMemoryMiB).to.be.greaterThan(0);
      expect(n.freeMemoryMiB).to.be.at.most(n.memoryMiB);
    }
    const probe = await execa('virsh', ['version'], { reject: false, timeout: 60_000 });
    if (probe.exitCode === 0) {
      // libvirt answered: the topology came from capabilities + freecell --cellno.
      expect(t.source, t.warnings[0]).to.equal('virsh');
      expect(t.nodes[0].pages?.[0]?.sizeKiB).to.be.a('number');
    } else {
      const why = `libvirt is not answering (${String(probe.stderr || probe.message).split('\n')[0]})`;
      if (process.env.CI === 'true') throw new Error(`${why}: CI must install and start it (scripts/hypervisor-up.sh)`);
      console.log(`      ${why}: checked the sysfs fallback only`);
      expect(t.source).to.equal('sysfs');
      expect(t.warnings[0]).to.match(/^could not use virsh/);
    }
  });

  for (const [what, args, re] of BAD) {
    it(`exits 2 with one line on stderr for ${what}`, async () => {
      const r = await topology(...args);
      expect(r.exitCode).to.equal(2);
      expect(r.stdout).to.equal('');
      expect(r.stderr.trimEnd().split('\n')).to.have.length(1);
      expect(r.stderr.trimEnd()).to.match(re);
    });
  }
});
