/** Feeds each cycle's report into the Prometheus metrics (src/metrics/). */
import { nodeLoads } from '../core/nodes.js';
import { vmCost } from '../core/quality.js';
import {
  recordCycle,
  recordInterruptedApply,
  recordQuality,
  recordSolve,
  recordStepResults,
  recordVirshStats,
  setLibvirtUp,
  setMode,
  updateNodes,
  updateVms,
  type CycleOutcome as MetricsOutcome,
  type Metrics,
  type VmFigures,
} from '../metrics/index.js';
import { recordHotplugCycle } from './hotplug-metrics.js';
import type { CycleObserver, CycleReport, Health } from './cycle.js';

function outcome(r: CycleReport): MetricsOutcome {
  switch (r.outcome) {
    case 'ok':
      return r.failed.length > 0 ? 'partial' : 'success';
    case 'warming-up':
    case 'backoff':
      return 'skipped';
    default:
      return 'failure';
  }
}

export function metricsObserver(m: Metrics): CycleObserver {
  return {
    tickSkipped() {
      recordCycle(m, { outcome: 'skipped', durationSeconds: 0 });
    },
    recovered(outcomes) {
      for (const o of outcomes) recordInterruptedApply(m, o.result);
    },
    cycle(r: CycleReport, health: Health): void {
      setMode(m, r.mode);
      recordVirshStats(m, health.host);
      if (r.outcome !== 'backoff') setLibvirtUp(m, r.outcome !== 'host-error');
      recordCycle(m, { outcome: outcome(r), durationSeconds: r.durationMs / 1000 });
      const d = r.decision;
      const s = r.sample;
      const view = r.view;
      if (s && view) {
        // Node VM load: the smoothed load of the vCPUs running there over the CPUs VMs may use there
        // (online, not reserved: the capacity the planner and hot-plug count). VM load only, not
        // /proc/stat, and not capped: above 1 the node's VMs want more than it has.
        const load = nodeLoads(d?.problem.vms ?? []);
        updateNodes(
          m,
          s.topology.nodes.map((n) => ({ node: n.id, cpuUsageRatio: view.usableCpus(n.id) ? (load.get(n.id) ?? 0) / view.usableCpus(n.id) : 0, freeMemoryBytes: n.freeMemoryMiB * 1024 * 1024 })),
        );
      }
      if (!d || !s || !view || !r.quality) return;
      recordQuality(m, r.quality);
      recordSolve(m, { status: d.placement.status, durationSeconds: d.solveMs / 1000, gapRatio: d.placement.gap ?? null });
      const skipped = r.mode === 'advisory' ? r.steps : [];
      recordStepResults(m, { applied: r.applied, failed: r.failed, skipped });
      const guest = recordHotplugCycle(m, { applied: r.applied, hotplug: d.hotplug }).guestVcpusOnline;
      const D = view.distances;
      const vms: VmFigures[] = [];
      for (const p of d.problem.vms) {
        if (d.excluded.has(p.name)) continue;
        const total = p.load.reduce((a, b) => a + b, 0);
        const mem = p.current?.memoryMiB ?? {};
        const memTotal = Object.values(mem).reduce((a, b) => a + b, 0);
        const home = Object.entries(mem).sort((a, b) => b[1] - a[1])[0];
        let local: number | null = null;
        if (p.current && memTotal > 0 && total > 0) {
          local = p.current.vcpuNodes.reduce((acc, n, i) => acc + (p.load[i] ?? 0) * ((mem[String(n)] ?? 0) / memTotal), 0) / total;
        }
        vms.push({
          name: p.name,
          load: total,
          vcpus: p.vcpus,
          homeNode: home ? Number(home[0]) : null,
          localityRatio: local,
          distanceCost: p.current ? vmCost(D, { load: p.load, vcpuNodes: p.current.vcpuNodes, memoryMiB: mem }) : null,
          guestVcpusOnline: guest.get(p.name) ?? null,
        });
      }
      updateVms(m, vms);
    },
  };
}
