/** `numaplace solve`: JSON in, JSON or a table out; exit codes from the CLI contract. */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';

const run = (args: string[], input?: string) => spawnSync(process.execPath, ['bin/numaplace.js', 'solve', ...args], { input, encoding: 'utf8' });
const fixture = 'test/fixtures/problems/2x8-six-vms.json';

describe('numaplace solve', () => {
  it('prints the placement JSON with --json', () => {
    const r = run(['--input', fixture, '--json']);
    expect(r.status, r.stderr).to.equal(0);
    const p = JSON.parse(r.stdout);
    expect(p.status).to.be.oneOf(['optimal', 'feasible']);
    expect(p.vms).to.have.length(6);
    expect(p.vms[0]).to.have.keys(['name', 'vcpus', 'emulator', 'memory']);
  });
  it('prints a table by default', () => {
    const out = execFileSync(process.execPath, ['bin/numaplace.js', 'solve', '--input', fixture], { encoding: 'utf8' });
    expect(out).to.match(/^status: (optimal|feasible)/);
    expect(out).to.match(/VM\s+vCPU nodes\s+cpusets\s+emulator\s+memory MiB by node/);
    expect(out).to.contain('vm0005');
  });
  it('reads the problem from standard input with --input -', () => {
    const r = run(['--input', '-', '--json'], JSON.stringify({
      topology: { nodes: [{ id: 0, cpus: [0, 1], memoryMiB: 4096, freeMemoryMiB: 4096, distances: { 0: 10 } }] },
      vms: [{ name: 'one', vcpus: 1, load: [0.5], memoryMiB: 1024 }],
    }));
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout).vms[0].vcpus[0].cpuset).to.equal('0-1');
  });
  it('reports memory that fits nowhere as status infeasible, exit 0', () => {
    const r = run(['--input', '-', '--json'], JSON.stringify({
      topology: { nodes: [{ id: 0, cpus: [0, 1], memoryMiB: 4096, freeMemoryMiB: 2048, distances: { 0: 10 } }] },
      vms: [{ name: 'huge', vcpus: 1, load: [0.5], memoryMiB: 8192 }],
    }));
    expect(r.status).to.equal(0);
    const p = JSON.parse(r.stdout);
    expect(p.status).to.equal('infeasible');
    expect(p.reason).to.contain('huge');
  });
  it('exits 2 naming the bad field for malformed input', () => {
    const r = run(['--input', '-'], JSON.stringify({
      topology: { nodes: [{ id: 0, cpus: [0, 1], memoryMiB: 4096, freeMemoryMiB: 2048, distances: { 0: 10 } }] },
      vms: [{ name: 'x', vcpus: 2, load: [0.5, 2], memoryMiB: 1 }],
    }));
    expect(r.status).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.contain('vms[0].load[1]');
  });
  it('exits 2 for input that is not JSON, or no --input', () => {
    expect(run(['--input', '-'], '{nope').status).to.equal(2);
    expect(run([]).status).to.equal(2);
    expect(run(['--input', 'does/not/exist.json']).status).to.equal(2);
  });
  it('prints help', () => {
    const r = run(['--help']);
    expect(r.status).to.equal(0);
    expect(r.stdout).to.contain('--input FILE|-');
  });
});
