/**
 * The closed-loop results as a table and as target checks. Pure: results in, text out.
 */
import type { Figures, SeriesPoint } from './figures.js';
import { excessReduction } from './figures.js';

export interface DaemonCost {
  cycles: number;
  /** numaplace's own CPU time per cycle (backend time excluded), ms. */
  cpuMsMean: number;
  cpuMsP95: number;
  cpuMsMax: number;
  peakRssMiB: number;
  peakHeapMiB: number;
}

export interface PolicyResult {
  policy: string;
  figures: Figures;
  /** The same figures over the second half of the run only (steady state, start-up transient left out). */
  secondHalf: Figures;
  /** HostBackend actions the policy issued, by kind. */
  actions: Record<string, number>;
  /** vCPU hot-plugs (setVcpus raising the count) and memory hot-plugs (attachMemory). */
  hotplugs: { vcpu: number; memory: number };
  daemon?: DaemonCost;
  series: SeriesPoint[];
  notes?: Record<string, unknown>;
}

export interface ScenarioResult {
  scenario: string;
  topology: string;
  vms: number;
  durationS: number;
  /** Solves of the instantaneous optimum (one per distinct sampled problem) and their time. */
  optimum: { solves: number; msMean: number; msMax: number; notOptimal: number };
  policies: PolicyResult[];
  wallMs: number;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const fixed = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

export function formatTable(results: ScenarioResult[]): string {
  const head = ['scenario', 'policy', 'quality', '÷opt', '÷opt 2nd half', 'excess', 'local', 'over(s)', 'vCPU mv', 'MiB migr', 'hotplug', 'cpu ms/cycle', 'peak RSS'];
  const rows: string[][] = [];
  for (const r of results) {
    for (const p of r.policies) {
      const f = p.figures;
      rows.push([
        r.scenario, p.policy, fixed(f.quality, 0), fixed(f.ratioToOptimum, 3), fixed(p.secondHalf.ratioToOptimum, 3), fixed(f.excess, 0), pct(f.locality),
        fixed(f.overloadS, 0), String(f.vcpuMoves), fixed(f.migratedMiB, 0), `${p.hotplugs.vcpu}/${p.hotplugs.memory}`,
        p.daemon ? `${fixed(p.daemon.cpuMsMean)} (p95 ${fixed(p.daemon.cpuMsP95)})` : '',
        p.daemon ? `${fixed(p.daemon.peakRssMiB, 0)} MiB` : '',
      ]);
    }
  }
  return markdownTable(head, rows);
}

export function markdownTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

export interface TargetCheck {
  target: string;
  met: boolean;
  detail: string;
}

function find(r: ScenarioResult, policy: string): PolicyResult | undefined {
  return r.policies.find((p) => p.policy === policy);
}

/** The issue's targets for numaplace, checked against the results (honestly: every miss is listed). */
export function checkTargets(results: ScenarioResult[], opts: { steadyScenarios: string[]; capacityAllows: (r: ScenarioResult) => boolean }): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const np = results.map((r) => ({ r, p: find(r, 'numaplace') })).filter((x) => x.p) as { r: ScenarioResult; p: PolicyResult }[];
  if (np.length === 0) return [{ target: 'numaplace targets', met: false, detail: 'numaplace was not part of this run' }];
  const worstRatio = np.reduce((w, x) => (x.p.figures.ratioToOptimum > w.v ? { v: x.p.figures.ratioToOptimum, s: x.r.scenario } : w), { v: 0, s: '' });
  const overRatio = np.filter((x) => x.p.figures.ratioToOptimum > 1.03).map((x) => `${x.r.scenario} ${fixed(x.p.figures.ratioToOptimum, 3)}`);
  const worstHalf = np.reduce((w, x) => (x.p.secondHalf.ratioToOptimum > w.v ? { v: x.p.secondHalf.ratioToOptimum, s: x.r.scenario } : w), { v: 0, s: '' });
  checks.push({ target: 'quality within 3% of the instantaneous optimum on every scenario (time-averaged over the whole run)', met: overRatio.length === 0,
    detail: `${overRatio.length ? `over: ${overRatio.join(', ')}` : `worst ${fixed(worstRatio.v, 3)} (${worstRatio.s})`}; second half of each run: worst ${fixed(worstHalf.v, 3)} (${worstHalf.s})` });
  const lowLocal = np.filter((x) => opts.capacityAllows(x.r) && x.p.figures.locality < 0.95).map((x) => `${x.r.scenario} ${pct(x.p.figures.locality)}`);
  checks.push({ target: 'locality >= 95% wherever capacity allows', met: lowLocal.length === 0,
    detail: lowLocal.length ? `below: ${lowLocal.join(', ')}` : `lowest ${pct(Math.min(...np.filter((x) => opts.capacityAllows(x.r)).map((x) => x.p.figures.locality)))}` });
  for (const [base, want] of [['numad', 0.25], ['no-pinning', 0.5]] as const) {
    const red = np.map((x) => ({ s: x.r.scenario, b: find(x.r, base) })).filter((x) => x.b)
      .map((x, i) => ({ s: x.s, v: excessReduction(np[i].p.figures, x.b!.figures) }));
    const avg = red.reduce((s, x) => s + x.v, 0) / Math.max(1, red.length);
    const worse = red.filter((x) => x.v < 0).map((x) => `${x.s} ${pct(x.v)}`);
    checks.push({ target: `excess cost >= ${want * 100}% lower than ${base}, averaged over scenarios`, met: avg >= want, detail: `average ${pct(avg)}` });
    checks.push({ target: `never worse than ${base} on any scenario`, met: worse.length === 0,
      detail: worse.length ? `worse on: ${worse.join(', ')}` : `lowest reduction ${pct(Math.min(...red.map((x) => x.v)))}` });
  }
  for (const s of opts.steadyScenarios) {
    const r = results.find((x) => x.scenario === s);
    const a = r && find(r, 'numaplace'), b = r && find(r, 'numad');
    if (!a || !b) continue;
    checks.push({ target: `fewer MiB migrated than numad on ${s}`, met: a.figures.migratedMiB < b.figures.migratedMiB,
      detail: `${fixed(a.figures.migratedMiB, 0)} vs ${fixed(b.figures.migratedMiB, 0)} MiB` });
  }
  const big = np.filter((x) => x.r.vms >= 200 && x.p.daemon);
  if (big.length) {
    const worst = Math.max(...big.map((x) => x.p.daemon!.cpuMsMean));
    const worstP95 = Math.max(...big.map((x) => x.p.daemon!.cpuMsP95));
    checks.push({ target: 'daemon CPU < 50 ms per cycle at 200 VMs (backend time excluded)', met: worst < 50,
      detail: `worst mean ${fixed(worst)} ms, worst p95 ${fixed(worstP95)} ms` });
  }
  return checks;
}

export function formatTargets(checks: TargetCheck[]): string {
  return checks.map((c) => `${c.met ? 'MET ' : 'MISS'}  ${c.target}: ${c.detail}`).join('\n');
}
