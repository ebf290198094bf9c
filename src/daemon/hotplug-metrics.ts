/**
 * The hot-plug part of a cycle's metrics: what the daemon's metrics observer records from a
 * CycleReport. Done hot-plugs are the setVcpus / attachMemory steps that were applied; a refusal
 * is counted once, when it is new (a remembered one repeats every cycle the trigger holds).
 */
import type { Metrics } from '../metrics/metrics.js';
import { recordHotplug } from '../metrics/metrics.js';
import type { Step } from '../core/steps.js';
import type { HotplugStage } from '../hotplug/stage.js';

export interface HotplugCycleFigures {
  done: { kind: 'vcpu' | 'memory'; vm: string }[];
  refused: { kind: 'vcpu' | 'memory'; vm: string; reason: string }[];
  /** vCPUs the guest reports online, per VM; null = unknown (no guest agent). */
  guestVcpusOnline: Map<string, number | null>;
}

export function hotplugCycleFigures(report: { applied: readonly Step[]; hotplug?: HotplugStage }): HotplugCycleFigures {
  const done: HotplugCycleFigures['done'] = [];
  for (const s of report.applied) {
    if (s.kind === 'setVcpus') done.push({ kind: 'vcpu', vm: s.vm });
    else if (s.kind === 'attachMemory') done.push({ kind: 'memory', vm: s.vm });
  }
  const refused = (report.hotplug?.refusals ?? []).filter((r) => !r.repeated).map((r) => ({ kind: r.kind, vm: r.vm, reason: r.code }));
  const guestVcpusOnline = new Map((report.hotplug?.guest ?? []).map((g) => [g.vm, g.guestOnline] as const));
  return { done, refused, guestVcpusOnline };
}

/** Count this cycle's hot-plugs and new refusals in numaplace_hotplug_total. */
export function recordHotplugCycle(m: Metrics, report: { applied: readonly Step[]; hotplug?: HotplugStage }): HotplugCycleFigures {
  const f = hotplugCycleFigures(report);
  for (const d of f.done) recordHotplug(m, { kind: d.kind, result: 'done' });
  for (const r of f.refused) recordHotplug(m, { kind: r.kind, result: 'refused', reason: r.reason });
  return f;
}
