/**
 * Issue 25: one source of defaults. `numaplace solve` weighed a memory move 6x higher than the
 * daemon for the same host, because the daemon divided memoryMoveCostPerGiB by the cooldown and the
 * CLI used the solver's own defaults. Now the solver's defaults are the config table's and the
 * solver spreads the cost over memoryMovePaybackCycles for both.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { CONFIG_TABLE } from '../../src/core/config-table.js';
import { buildHostView } from '../../src/core/host-view.js';
import { sampleToProblem } from '../../src/daemon/sample-to-problem.js';
import { DEFAULT_SETTINGS } from '../../src/daemon/settings.js';
import { syntheticTopology } from '../../src/topology/synthetic.js';
import { DEFAULTS } from '../../solver/model.js';
import { solve } from '../../solver/solve.js';
import type { Placement, Problem } from '../../solver/types.js';
import { hostSample, vmSample } from '../helpers/fake-host.js';

/** Each VM's vCPU nodes and memory, what both answers must agree on. */
const where = (p: Placement) => p.vms.map((v) => ({ name: v.name, vcpus: v.vcpus.map((x) => x.node), memory: v.memory.MiB }));

function cliSolve(problem: unknown): Placement {
  const r = spawnSync(process.execPath, ['bin/numaplace.js', 'solve', '--input', '-', '--json'], { input: JSON.stringify(problem), encoding: 'utf8' });
  expect(r.status, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as Placement;
}

describe('issue 25: numaplace solve and the daemon give one problem one answer', () => {
  it("the solver's defaults are the config table's", () => {
    expect(DEFAULTS).to.deep.include({
      cpuOvercommit: CONFIG_TABLE.cpuOvercommit.default,
      memoryMoveCostPerGiB: CONFIG_TABLE['solver.memoryMoveCostPerGiB'].default,
      memoryMovePaybackCycles: CONFIG_TABLE['churn.cooldownCycles'].default,
      vcpuMoveCost: CONFIG_TABLE['solver.vcpuMoveCost'].default,
      timeLimitMs: CONFIG_TABLE['solver.timeLimitMs'].default,
    });
  });

  it('a VM whose memory is remote: the daemon and `solve` on the same host move it alike', async () => {
    // 'a' runs on node 0 with 16 GiB on node 1; node 1's CPUs are taken by an excluded VM, so its
    // memory must come to it. Gain 0.5 x (21 - 10) = 5.5 per cycle against 16 x 21 x 0.05 = 16.8 once:
    // worth it spread over 6 cycles (2.8), not in one (where `solve` used to leave it remote).
    const topo = syntheticTopology('2x8');
    const sample = hostSample(topo, [
      vmSample({ name: 'a', vcpusCurrent: 1, vcpuPins: ['0-7'], memoryMiB: 16384, maxMemoryMiB: 16384, memoryByNode: { 1: 16384 } }),
      vmSample({ name: 'wall', vcpusCurrent: 8, vcpuPins: new Array(8).fill('8-15'), memoryMiB: 4096, maxMemoryMiB: 4096, memoryByNode: { 1: 4096 }, metadata: { exclude: 'true' } }),
    ]);
    const loads = new Map([['a', [0.5]], ['wall', new Array(8).fill(0.99)]]);
    const daemonProblem = sampleToProblem(buildHostView(sample.topology, DEFAULT_SETTINGS), sample, loads, DEFAULT_SETTINGS).problem;
    expect(daemonProblem.vms.find((v) => v.name === 'wall')!.fixed).to.equal(true);
    const daemon = await solve(daemonProblem);
    expect(daemon.vms.find((v) => v.name === 'a')!.memory.MiB).to.deep.equal({ 0: 16384 });

    // What a user writes for `numaplace solve`: the same host, no options.
    const bare: Problem = { topology: daemonProblem.topology, vms: daemonProblem.vms };
    const cli = cliSolve(bare);
    expect(where(cli)).to.deep.equal(where(daemon));
    expect(cli.objective).to.be.closeTo(daemon.objective!, 1e-9);
    // and the daemon's own problem, through the CLI, gives the same answer too
    expect(where(cliSolve(daemonProblem))).to.deep.equal(where(daemon));
  });
});
