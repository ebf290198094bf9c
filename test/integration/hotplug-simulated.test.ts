/**
 * Hot-plug in the closed loop on the simulated host, through the daemon's runCycle.
 * - ramp-saturate-2x8: a VM ramps to 100% on every vCPU; the cycle hot-plugs a whole socket into
 *   it and pins the new vCPUs on the VM's node in the same cycle; no second hot-plug comes inside
 *   the cooldown. A VM that saturates while it migrates is refused (job-running) until it is over.
 * - memory-tight-4x16: VMs running short of memory get dimms on the host node of their guest
 *   cell; the one with vhost-user devices is refused.
 */
import { expect } from 'chai';
import { Daemon } from '../../src/daemon/loop.js';
import type { CycleReport } from '../../src/daemon/cycle.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { withSettings } from '../../src/daemon/settings.js';
import { nodesOfCpuSet } from '../../src/core/host-view.js';
import { cpuNodeMap } from '../../src/core/nodes.js';
import { DEFAULT_HOTPLUG_CONFIG } from '../../src/hotplug/config.js';
import { builtinScenario } from '../../src/sim/builtins.js';
import { createSimulatedBackend } from '../../src/sim/index.js';
import type { Step } from '../../src/core/steps.js';
import { solveInProcess } from '../../solver/solve.js';
import type { Problem } from '../../solver/types.js';

/** numaplace's own solver, its greedy + local search stage (the full LP pipeline costs ~1 s a cycle). */
const solveForLoop = async (p: Problem) => solveInProcess(p, { greedyOnly: true, timeLimitMs: 200 });

type Json = Record<string, unknown>;

function scenario(): Json {
  const doc = structuredClone(builtinScenario('ramp-saturate-2x8')!) as Json & { vms: Json[] };
  // Only the online vCPUs start pinned (to node 0); vCPUs 2..7 may run anywhere until placed.
  const grower = doc.vms.find((v) => v.name === 'grower')!;
  (grower.placement as Json).vcpuPins = ['0-7', '0-7'];
  return doc;
}

const setVcpusOf = (r: CycleReport, vm: string) => r.applied.filter((s): s is Extract<Step, { kind: 'setVcpus' }> => s.vm === vm && s.kind === 'setVcpus');

describe('hot-plug on the simulated host (closed loop)', function () {
  this.timeout(60000);

  it('grows the saturated VM by a socket, pins the new vCPUs on its node in the same cycle, and not again inside the cooldown', async () => {
    const backend = createSimulatedBackend(scenario());
    const cooldownCycles = 30;
    const settings = withSettings({
      mode: 'apply',
      churn: { holdCycles: 2 },
      hotplug: { vcpu: { ...DEFAULT_HOTPLUG_CONFIG.vcpu, cooldownCycles }, memory: DEFAULT_HOTPLUG_CONFIG.memory },
    });
    const daemon = new Daemon({ backend, settings, solve: solveForLoop, logger: memoryLogger('warn'), stateDir: null });
    const reports: CycleReport[] = [];
    for (let cycle = 0; cycle < 100; cycle++) {
      const r = await daemon.runCycle();
      expect(r.outcome, r.error).to.be.oneOf(['ok', 'warming-up']);
      expect(r.failed, JSON.stringify(r.failed)).to.deep.equal([]);
      reports.push(r);
    }
    const grows = reports.map((r, i) => [i, setVcpusOf(r, 'grower')] as const).filter(([, s]) => s.length > 0);
    expect(grows.length, 'the grower was never hot-plugged').to.be.greaterThan(0);
    const [first, [step]] = grows[0];
    // A whole socket (2 cores per socket): 2 -> 4.
    expect(step.count).to.equal(4);
    // The same cycle pins vCPUs 2 and 3, after the setVcpus, on node 0 (the VM's node, where its memory is).
    const applied = reports[first].applied.filter((s) => s.vm === 'grower');
    const pins = applied.filter((s): s is Extract<Step, { kind: 'pinVcpu' }> => s.kind === 'pinVcpu' && s.vcpu >= 2);
    expect(pins.map((p) => p.vcpu)).to.deep.equal([2, 3]);
    expect(applied.findIndex((s) => s.kind === 'setVcpus')).to.be.lessThan(applied.indexOf(pins[0]));
    const now = backend.host.sampleNow();
    const cpuNode = cpuNodeMap(now.topology);
    const g = now.vms.find((v) => v.name === 'grower')!;
    expect(g.vcpusCurrent).to.be.at.least(4);
    for (const v of [2, 3]) expect([...nodesOfCpuSet(g.vcpuPins[v], cpuNode)], `vCPU ${v} pin ${g.vcpuPins[v]}`).to.deep.equal([0]);
    // No second hot-plug inside the cooldown.
    for (const [i] of grows.slice(1)) expect(i - first, `second hot-plug ${i - first} cycles after the first`).to.be.at.least(cooldownCycles);
    // The VM at a steady 50% never grows.
    expect(reports.flatMap((r) => setVcpusOf(r, 'steady'))).to.deep.equal([]);
    console.log(`      grower hot-plugged at cycle ${first} (simulated ${first * 10} s) to ${step.count} vCPUs; later hot-plugs at cycles ${grows.slice(1).map(([i]) => i).join(', ') || 'none'}`);
  });

  it('refuses the VM that saturates while it migrates (job-running) and grows it once the migration is over', async () => {
    const backend = createSimulatedBackend(scenario());
    const settings = withSettings({ mode: 'apply', churn: { holdCycles: 2 } });
    const daemon = new Daemon({ backend, settings, solve: solveForLoop, logger: memoryLogger('warn'), stateDir: null });
    const refusedAt: number[] = [];
    let newRefusals = 0;
    let grownAt: number | null = null;
    for (let cycle = 0; cycle < 60; cycle++) {
      const r = await daemon.runCycle();
      const t = backend.now();
      newRefusals += (r.hotplug?.refusals ?? []).filter((x) => x.vm === 'grower-migrating' && x.code === 'job-running' && !x.repeated).length;
      if (r.refused.some((x) => x.vm === 'grower-migrating' && /\(job-running\)/.test(x.reason))) refusedAt.push(t);
      if (grownAt === null && setVcpusOf(r, 'grower-migrating').length > 0) grownAt = t;
    }
    // The migration runs from 100 s to 400 s of simulated time.
    expect(refusedAt.length).to.be.greaterThan(0);
    expect(refusedAt.every((t) => t >= 100 && t < 400), `refused at ${refusedAt}`).to.equal(true);
    // Remembered while the job lasts: reported every cycle, new (logged, counted) once.
    expect(newRefusals).to.equal(1);
    expect(grownAt, 'never grown after the migration').to.not.equal(null);
    expect(grownAt!).to.be.at.least(400);
  });

  it('adds memory to VMs running short (memory-tight-4x16), on the host node of their guest cell, and refuses the vhost-user one', async () => {
    const backend = createSimulatedBackend('memory-tight-4x16');
    const settings = withSettings({ mode: 'apply', churn: { holdCycles: 2 } });
    const daemon = new Daemon({ backend, settings, solve: solveForLoop, logger: memoryLogger('warn'), stateDir: null });
    const attached: Extract<Step, { kind: 'attachMemory' }>[] = [];
    const refused: string[] = [];
    for (let cycle = 0; cycle < 80; cycle++) {
      const r = await daemon.runCycle();
      expect(r.outcome, r.error).to.be.oneOf(['ok', 'warming-up']);
      expect(r.failed, JSON.stringify(r.failed)).to.deep.equal([]);
      for (const s of r.applied) if (s.kind === 'attachMemory') attached.push(s);
      for (const x of r.refused) if (/memory hot-plug refused/.test(x.reason)) refused.push(`${x.vm} ${x.reason}`);
    }
    const now = backend.host.sampleNow();
    const a = attached.filter((s) => s.vm === 'hungry-a');
    expect(a.length, 'hungry-a got no memory').to.be.greaterThan(0);
    // 1024 MiB steps (a multiple of the 128 MiB block) on its only guest cell, taken from the host node it lives on.
    const homeOf = (vm: string) => now.vms.find((v) => v.name === vm)!.numatune!.nodeset;
    for (const s of a) expect(s).to.deep.include({ MiB: 1024, guestNode: 0, sourceNodes: homeOf('hungry-a') });
    expect(now.vms.find((v) => v.name === 'hungry-a')!.memoryMiB).to.equal(4096 + 1024 * a.length);
    // The Windows guest's first dimm goes to guest node 0; the vhost-user one gets none.
    expect(attached.filter((s) => s.vm === 'hungry-windows').map((s) => s.guestNode)).to.satisfy((g: number[]) => g.length > 0 && g[0] === 0);
    expect(attached.filter((s) => s.vm === 'hungry-vhost')).to.deep.equal([]);
    expect(refused.filter((r) => r.startsWith('hungry-vhost'))[0]).to.match(/\(vhost-user\)/);
    console.log(`      memory: hungry-a +${a.length} GiB, hungry-windows +${attached.filter((s) => s.vm === 'hungry-windows').length} GiB; hungry-vhost refused (vhost-user)`);
  });
});
