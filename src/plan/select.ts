/**
 * Step 2 of planning: which candidate moves go this cycle. Violations and moves that relieve an
 * overloaded node go now; other moves wait for the churn rules (improvement margin held for
 * churn.holdCycles, the VM's target stable as long, no cooldown), then go by gain within
 * churn.maxVmsPerCycle and churn.memoryMigrationMiBPerCycle, never onto a node they would overload.
 * Pure.
 */
import type { Problem } from '../../solver/index.js';
import { addNodeLoad, nodeLoads } from '../core/nodes.js';
import type { ChurnSettings, ChurnState } from './churn.js';
import type { VmDiff } from './diff.js';

export interface Deferral {
  vm: string;
  reason: string;
}

export interface Selection {
  chosen: Set<VmDiff>;
  /** VMs corrected now because of a violation or an overloaded node, with what it was. */
  violations: Deferral[];
  /** VMs whose move waits, and why. */
  deferred: Deferral[];
}

const EPS = 1e-9;

export function selectMoves(args: {
  diffs: readonly VmDiff[];
  problem: Problem;
  /** CPU capacity per node (usable CPUs x overcommit). */
  capacity: ReadonlyMap<number, number>;
  improvement: number;
  /** This cycle's ticked churn counters (tickChurn). */
  churn: ChurnState;
  rules: ChurnSettings;
  holdRule: boolean;
}): Selection {
  const { diffs, problem, capacity, improvement, holdRule } = args;
  const m = args.rules;
  const { heldCycles, targets, cooldown } = args.churn;
  // Node loads now, to keep partial moves from overloading a node.
  const load = nodeLoads(problem.vms);
  const over = (n: number) => (load.get(n) ?? 0) > (capacity.get(n) ?? 0) + EPS;
  const fits = (d: VmDiff) => {
    const after = new Map(load);
    addNodeLoad(after, d.pvm.current?.vcpuNodes ?? [], d.pvm.load, -1);
    addNodeLoad(after, d.targetNodes, d.pvm.load, 1);
    for (const [n, l] of after) if (l > (load.get(n) ?? 0) + EPS && l > (capacity.get(n) ?? 0) + EPS) return false;
    return true;
  };
  const take = (d: VmDiff) => {
    addNodeLoad(load, d.pvm.current?.vcpuNodes ?? [], d.pvm.load, -1);
    addNodeLoad(load, d.targetNodes, d.pvm.load, 1);
  };

  const chosen = new Set<VmDiff>();
  const violations: Deferral[] = [];
  const deferred: Deferral[] = [];
  const movers = diffs.filter((d) => d.move.length > 0);
  // 1. Violations: now.
  for (const d of movers) {
    if (d.violation) {
      chosen.add(d);
      take(d);
      violations.push({ vm: d.vm.name, reason: d.violation });
    }
  }
  // 2. Overloaded nodes: moves that take load off them, best gain first, until they fit.
  const byGain = [...movers].sort((a, b) => b.gain - a.gain || a.vm.name.localeCompare(b.vm.name));
  for (const d of byGain) {
    if (chosen.has(d)) continue;
    const cur = d.pvm.current?.vcpuNodes ?? [];
    const relieves = (n: number) => cur.some((c, i) => c === n && d.targetNodes[i] !== n && (d.pvm.load[i] ?? 0) > EPS);
    const overloaded = [...new Set(cur)].filter((n) => over(n) && relieves(n));
    if (overloaded.length === 0 || !fits(d)) continue;
    chosen.add(d);
    take(d);
    violations.push({ vm: d.vm.name, reason: `node ${overloaded.join(',')} is over its CPU capacity` });
  }
  // 3. Ordinary moves, under the churn rules.
  let vmsMoved = 0;
  let memoryMoved = 0;
  for (const d of byGain) {
    if (chosen.has(d)) continue;
    const name = d.vm.name;
    if (improvement <= m.improvementMargin) {
      deferred.push({ vm: name, reason: `improvement ${(improvement * 100).toFixed(1)}% is within churn.improvementMargin ${(m.improvementMargin * 100).toFixed(1)}%` });
      continue;
    }
    if (holdRule) {
      if (heldCycles < m.holdCycles) {
        deferred.push({ vm: name, reason: `improvement ${(improvement * 100).toFixed(1)}% has held ${heldCycles}/${m.holdCycles} cycles above churn.improvementMargin ${(m.improvementMargin * 100).toFixed(1)}%` });
        continue;
      }
      if ((targets[name]?.cycles ?? 0) < m.holdCycles) {
        deferred.push({ vm: name, reason: `its target has held ${targets[name]?.cycles ?? 0}/${m.holdCycles} cycles` });
        continue;
      }
      if (cooldown[name] !== undefined) {
        deferred.push({ vm: name, reason: `cooling down after its last move (${cooldown[name]} cycles left)` });
        continue;
      }
    }
    if (vmsMoved >= m.maxVmsPerCycle) {
      deferred.push({ vm: name, reason: `churn.maxVmsPerCycle (${m.maxVmsPerCycle}) VMs already move this cycle` });
      continue;
    }
    if (d.memoryMoveMiB > 0 && memoryMoved > 0 && memoryMoved + d.memoryMoveMiB > m.memoryMigrationMiBPerCycle) {
      deferred.push({ vm: name, reason: `moving ${Math.round(d.memoryMoveMiB)} MiB would exceed churn.memoryMigrationMiBPerCycle (${m.memoryMigrationMiBPerCycle}; ${Math.round(memoryMoved)} already)` });
      continue;
    }
    if (d.memoryMoveMiB > m.memoryMigrationMiBPerCycle && m.memoryMigrationMiBPerCycle === 0) {
      deferred.push({ vm: name, reason: 'churn.memoryMigrationMiBPerCycle is 0' });
      continue;
    }
    if (!fits(d)) {
      deferred.push({ vm: name, reason: 'its target node has no room until other VMs move' });
      continue;
    }
    chosen.add(d);
    take(d);
    vmsMoved++;
    memoryMoved += d.memoryMoveMiB;
  }

  return { chosen, violations, deferred };
}
