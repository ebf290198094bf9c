/**
 * Closed loop on the simulated host: the daemon's runCycle, stepped directly, against a host whose
 * VMs start badly placed (vCPUs pinned a node away from their memory, some unpinned) under steady
 * load. The quality measure must come within 2% of the optimum (all-local, which this scenario
 * allows) in a bounded number of cycles, and no VM may be moved more than once.
 */
import { expect } from 'chai';
import { Daemon } from '../../src/daemon/loop.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { withSettings } from '../../src/daemon/settings.js';
import { nodesOfCpuSet } from '../../src/core/host-view.js';
import { cpuNodeMap } from '../../src/core/nodes.js';
import type { HostSample } from '../../src/host/backend.js';
import { createSimulatedBackend } from '../../src/sim/index.js';
import { solveForLoop } from '../helpers/solve-for-loop.js';

const NODES = 4;
const nodeCpus = (n: number) => `${n * 16}-${n * 16 + 15}`;

function badScenario(count: number): Record<string, unknown> {
  const levels = [0.6, 0.35, 0.8, 0.25, 0.5];
  const vms = Array.from({ length: count }, (_, i) => {
    const home = i % NODES;
    const away = (home + 2) % NODES; // the far side: distance 20
    return {
      name: `vm-${String(i + 1).padStart(2, '0')}`,
      vcpus: [2, 4, 2][i % 3],
      memoryMiB: [2048, 4096, 8192][i % 3],
      load: { kind: 'steady', level: levels[i % levels.length] },
      placement: { ...(i % 5 === 3 ? {} : { vcpuPins: nodeCpus(away) }), nodeset: String(home), mode: 'restrictive' },
    };
  });
  return { name: 'closed-loop-steady-4x16', seed: 3, topology: '4x16', tickSeconds: 10, memoryMigrationMiBPerSecond: 256, vms };
}

/** Node signature of every VM: the nodes its vCPUs may run on and its nodeset. */
function signatures(s: HostSample): Map<string, string> {
  const cpuNode = cpuNodeMap(s.topology);
  return new Map(s.vms.map((v) => [v.name, JSON.stringify([v.vcpuPins.slice(0, v.vcpusCurrent).map((p) => [...nodesOfCpuSet(p, cpuNode)].sort()), v.numatune?.nodeset ?? null])]));
}

describe('closed loop on the simulated host (steady load, bad start)', function () {
  this.timeout(60000);

  it('reaches within 2% of the optimum in a bounded number of cycles, moving no VM more than once', async () => {
    const backend = createSimulatedBackend(badScenario(24));
    const settings = withSettings({ mode: 'apply', churn: { holdCycles: 2, maxVmsPerCycle: 4, cooldownCycles: 6 }, load: { windowCycles: 3 }, solver: { timeLimitMs: 400, memoryMoveCostPerGiB: 0.05, vcpuMoveCost: 0.5 } });
    const daemon = new Daemon({ backend, settings, solve: solveForLoop, logger: memoryLogger('warn'), stateDir: null });
    const moves = new Map<string, number>();
    let prev = signatures(await backend.sample());
    let reachedAt: number | null = null;
    const MAX = 30;
    let ratio = Infinity;
    for (let cycle = 1; cycle <= MAX; cycle++) {
      const r = await daemon.runCycle();
      expect(r.outcome, r.error).to.be.oneOf(['ok', 'warming-up']);
      expect(r.failed).to.deep.equal([]);
      const now = signatures(await backend.sample());
      for (const [vm, sig] of now) if (prev.get(vm) !== sig) moves.set(vm, (moves.get(vm) ?? 0) + 1);
      if (process.env.NP_DEBUG) console.log(cycle, r.outcome, r.quality && (r.quality.now / r.quality.allLocal).toFixed(4), r.applied.length, r.plan?.moving);
      prev = now;
      if (r.quality) {
        ratio = r.quality.now / r.quality.allLocal;
        if (reachedAt === null && ratio <= 1.02) reachedAt = cycle;
      }
    }
    const worst = Math.max(...moves.values());
    console.log(`      closed loop: within 2% of all-local after ${reachedAt} cycles; final ratio ${ratio.toFixed(4)}; VMs moved ${moves.size}/24, most moves of one VM ${worst}`);
    expect(reachedAt, 'never came within 2% of the optimum').to.not.equal(null);
    expect(ratio).to.be.at.most(1.02);
    expect(worst).to.be.at.most(1);
  });
});
