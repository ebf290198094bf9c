/**
 * Charts of a closed-loop run: per scenario, the quality measure as a ratio to the instantaneous
 * optimum and the share of load local to its memory, over simulated time, one line per policy.
 * Apache ECharts' server-side SVG renderer: no DOM, no canvas, deterministic output.
 */
import * as echarts from 'echarts';
import type { SeriesPoint } from './figures.js';

export interface PolicySeries {
  policy: string;
  points: SeriesPoint[];
}

const WIDTH = 900;
const HEIGHT = 580;
const COLORS = ['#d62728', '#ff7f0e', '#8c564b', '#7f7f7f', '#1f77b4', '#2ca02c', '#9467bd'];

/** Highest ratio shown; a policy far above it is clipped so the others stay readable. */
function ratioCeiling(all: PolicySeries[]): number {
  const max = Math.max(1.05, ...all.flatMap((s) => s.points.map((p) => p.ratio)));
  return Math.min(Math.ceil(max * 10) / 10, 2.5);
}

const width = (policy: string) => (policy === 'numaplace' ? 3 : 1.6);

export function renderScenarioChart(title: string, subtitle: string, all: PolicySeries[]): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height: HEIGHT });
  const minutes = (p: SeriesPoint) => Math.round((p.tS / 60) * 100) / 100;
  const round = (x: number) => Math.round(x * 10000) / 10000;
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    color: COLORS,
    title: [
      { text: title, subtext: subtitle, left: 'center', top: 4, textStyle: { fontSize: 15 } },
      { text: 'quality ÷ instantaneous optimum (lower is better, 1 = optimal)', left: 60, top: 62, textStyle: { fontSize: 12, fontWeight: 'normal' } },
      { text: 'share of vCPU load local to its memory (higher is better)', left: 60, top: 318, textStyle: { fontSize: 12, fontWeight: 'normal' } },
    ],
    legend: { top: 548, data: all.map((s) => s.policy) },
    grid: [
      { left: 60, right: 30, top: 84, height: 200 },
      { left: 60, right: 30, top: 340, height: 160 },
    ],
    xAxis: [
      { type: 'value', gridIndex: 0, min: 0, axisLabel: { show: false } },
      { type: 'value', gridIndex: 1, min: 0, name: 'simulated minutes', nameLocation: 'middle', nameGap: 24 },
    ],
    yAxis: [
      { type: 'value', gridIndex: 0, min: 0.9, max: ratioCeiling(all), splitNumber: 4 },
      { type: 'value', gridIndex: 1, min: 0, max: 1, splitNumber: 4, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` } },
    ],
    // numaplace (last) is drawn on top and thicker, so it stays visible where it meets another line.
    series: all.flatMap((s) => [
      {
        name: s.policy, type: 'line', xAxisIndex: 0, yAxisIndex: 0, showSymbol: false, lineStyle: { width: width(s.policy) },
        clip: true, data: s.points.map((p) => [minutes(p), round(p.ratio)]),
      },
      {
        name: s.policy, type: 'line', xAxisIndex: 1, yAxisIndex: 1, showSymbol: false, lineStyle: { width: width(s.policy) },
        data: s.points.map((p) => [minutes(p), round(p.locality)]),
      },
    ]),
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}
