/**
 * Issue 12 item 1: an excluded (fixed) VM holds less memory than its configured size (numa_maps
 * counts only resident pages); the verifier used to ask a fixed VM's placement for its configured
 * size while also forbidding any change of its memory, so it rejected every answer and the whole
 * host was infeasible. Repro from the issue: one node, two CPUs, one fixed VM at load 0.65.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { verify } from '../../solver/verify.js';
import { validateProblem } from '../../solver/validate-problem.js';
import { counters, issue12Case, registerReport } from '../reliability/counters.js';

registerReport();

const input = {
  topology: { nodes: [{ id: 0, cpus: [0, 1], memoryMiB: 4096, freeMemoryMiB: 1000, distances: { 0: 10 } }] },
  vms: [
    // configured 512 MiB, 100 MiB resident: what a real excluded VM looks like
    { name: 'x1', vcpus: 1, load: [0.65], memoryMiB: 512, fixed: true, current: { vcpuNodes: [0], memoryMiB: { 0: 100 } } },
    { name: 'a', vcpus: 1, load: [0.3], memoryMiB: 256, current: { vcpuNodes: [0], memoryMiB: { 0: 50 } } },
  ],
};
const problem = validateProblem(input);

describe('a fixed VM counts with the memory it holds, not its configured size (issue 12 item 1)', () => {
  it('numaplace solve: one node, two CPUs, one fixed VM at load 0.65 -> a placement, the fixed VM as it is', () => {
    const r = spawnSync(process.execPath, ['bin/numaplace.js', 'solve', '--input', '-', '--json'], { input: JSON.stringify(input), encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const p = JSON.parse(r.stdout);
    expect(p.status, p.reason).to.be.oneOf(['optimal', 'feasible']);
    const x1 = p.vms.find((v: { name: string }) => v.name === 'x1');
    expect(x1.memory.MiB).to.deep.equal({ 0: 100 });
    expect(p.vms.find((v: { name: string }) => v.name === 'a').memory.MiB).to.deep.equal({ 0: 256 });
    issue12Case('item 1: solve with a fixed VM holding less than its configured memory', `status ${p.status} (was infeasible)`);
  });

  it('verify: a fixed VM placed with what it holds passes; one whose memory changed still fails', () => {
    const base = {
      status: 'feasible' as const,
      vms: [
        { name: 'x1', vcpus: [{ vcpu: 0, node: 0, cpuset: '0-1' }], emulator: { cpuset: '0-1' }, memory: { nodeset: '0', MiB: { 0: 100 } } },
        { name: 'a', vcpus: [{ vcpu: 0, node: 0, cpuset: '0-1' }], emulator: { cpuset: '0-1' }, memory: { nodeset: '0', MiB: { 0: 256 } } },
      ],
    };
    expect(verify(problem, base)).to.deep.equal([]);
    const grown = structuredClone(base);
    grown.vms[0].memory.MiB = { 0: 512 };
    expect(verify(problem, grown).join('\n')).to.match(/x1 is fixed but its memory changed/);
    const shortA = structuredClone(base);
    shortA.vms[1].memory.MiB = { 0: 50 };
    expect(verify(problem, shortA).join('\n')).to.match(/VM a: places 50 MiB of memory but has 256 MiB/);
    counters.invariantChecks += 3;
  });
});
