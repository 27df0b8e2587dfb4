// The latency-versus-throughput chart of open-loop cells: for each model, p99 latency (corrected
// for coordinated omission) against the rate it achieved, one point per target rate. A server's
// curve stays flat while it keeps up and turns upward where its queue starts to grow; the x value
// where that happens is its usable capacity at that latency.
import type { Chart, ChartConfiguration, ChartDataset, Plugin } from 'chart.js';
import { groupCells, modelOrder, REFERENCE_MODEL, sections, summarize, type Point, inSection } from './aggregate.js';
import { FONT, LIMIT_COLOR, modelColor, paintWhite } from './chart-style.js';
import type { Protocol, Results, Scenario } from '../schema/results.js';
import { CHART_FILES } from './chart-files.js';
import { panelOf } from './panels.js';
import { legendAtLeast, PANEL_Y_AXIS_PX } from './chart-overlay.js';

export interface RatePoint {
  /** Achieved operations per second (median over repetitions). */
  x: number;
  /** p99 latency from the intended send time (median), µs or ms per the spec's unit. */
  y: number;
  /** Target rate, or the sweep fraction as a label ("50% of closed loop"). */
  target: string;
  /** Some repetition achieved less than 95% of its target rate. */
  shortfall: boolean;
  /** Some repetition's load generator was saturated. */
  saturated: boolean;
}

export interface RateSeries {
  model: string;
  /** The legend entry: the model, marked when it is an external program. */
  label: string;
  color: string;
  points: RatePoint[];
  /** The small-multiples panel of the model's family (panels.ts); null for the reference, drawn in every panel. */
  panel?: string | null;
}

export interface RateChartSpec {
  file: string;
  protocol: Protocol;
  scenario: Scenario;
  concurrency: number;
  title: string;
  subtitle: string[];
  yUnit: 'µs' | 'ms';
  series: RateSeries[];
}

const isOpenLoop = (p: Point): boolean => p.rate !== null || p.sweepFraction !== undefined;

/** One chart per (protocol, scenario, concurrency) that has open-loop cells. */
export function rateChartSpecs(results: Results): RateChartSpec[] {
  const points = groupCells(results.cells).filter(isOpenLoop);
  const models = modelOrder(results);
  const specs: RateChartSpec[] = [];
  for (const key of sections(points)) {
    const { protocol, scenario } = key;
    const here = points.filter((p) => inSection(p, key));
    for (const concurrency of [...new Set(here.map((p) => p.concurrency))].sort((a, b) => a - b)) {
      const at = here.filter((p) => p.concurrency === concurrency);
      const series = models.flatMap((model) => {
        const pts = at.filter((p) => p.model === model).flatMap((p) => ratePoint(p));
        const external = (results.settings.externalModels ?? []).some((m) => m.name === model);
        const family = at.find((p) => p.model === model)?.family;
        return pts.length > 0 ? [{ model, label: external ? `${model} (external)` : model, color: modelColor(model, family), points: pts.sort((a, b) => a.x - b.x), panel: panelOf(results, model, family) }] : [];
      });
      const ms = series.some((s) => s.points.some((p) => p.y >= 10_000));
      if (ms) for (const s of series) for (const p of s.points) p.y /= 1000;
      const notMeasured = at.filter((p) => p.status !== 'ok').map((p) => `✕ ${p.model} at ${target(p)}: ${p.status}`);
      const where = scenario === 'steady' ? '' : ` (${[scenario, key.variant].filter(Boolean).join(', ')})`;
      specs.push({
        file: CHART_FILES.latencyVsRate(protocol, scenario, key.variant, concurrency),
        protocol, scenario, concurrency,
        title: `${protocol}${where}: p99 latency vs achieved rate, ${concurrency} connections (open loop)`,
        subtitle: [
          `run ${results.runId} · latency from each request's intended send time (coordinated omission corrected) · ▲ rate shortfall (< 95% of target) · ○ client saturated`,
          ...(notMeasured.length > 0 ? [notMeasured.join(' · ').slice(0, 150)] : []),
        ],
        yUnit: ms ? 'ms' : 'µs',
        series,
      });
    }
  }
  return specs;
}

function target(p: Point): string {
  return p.sweepFraction !== undefined ? `${Math.round(p.sweepFraction * 100)}% of ${p.sweepOf ? `${p.sweepOf}'s ` : ''}closed loop` : `${p.rate!.toLocaleString('en-US')}/s`;
}

function ratePoint(p: Point): RatePoint[] {
  const x = summarize(p, (c) => c.opsPerSec);
  const y = summarize(p, (c) => c.latencyUs?.p99);
  if (!x || !y) return [];
  return [{
    x: x.median,
    y: y.median,
    target: target(p),
    shortfall: p.ok.some((c) => c.rateShortfall !== null && c.rateShortfall !== undefined),
    saturated: p.ok.some((c) => c.client?.saturated),
  }];
}


type XY = { x: number; y: number };

/** One panel of several: the axes every panel of the chart shares, and the legend height they all take. */
export interface RatePanelOptions {
  xMax: number;
  yMin: number;
  yMax: number;
  yLog: boolean;
  legendHeight?: number;
}

/** The axes of a whole chart, for its panels to share. */
export function rateAxes(spec: RateChartSpec): Omit<RatePanelOptions, 'legendHeight'> {
  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = spec.series.flatMap((s) => s.points.map((p) => p.y)).filter((v) => v > 0);
  return { xMax: Math.max(0, ...xs), yMin: ys.length ? Math.min(...ys) : 0, yMax: ys.length ? Math.max(...ys) : 1, yLog: ys.length > 1 && Math.max(...ys) / Math.min(...ys) > 20 };
}

/** Chart.js configuration: a line per model through its points in order of achieved rate. */
export function rateChartConfig(spec: RateChartSpec, panel?: RatePanelOptions): ChartConfiguration<'scatter', XY[]> {
  const datasets: ChartDataset<'scatter', XY[]>[] = spec.series.map((s) => ({
    label: s.label,
    data: s.points.map((p) => ({ x: p.x, y: p.y })),
    showLine: true,
    borderColor: s.color,
    borderDash: s.model === REFERENCE_MODEL ? [12, 6] : [],
    backgroundColor: s.points.map((p) => (p.saturated ? '#ffffff' : s.color)),
    borderWidth: 3,
    pointStyle: s.points.map((p) => (p.shortfall ? 'triangle' : 'circle')),
    pointRadius: s.points.map((p) => (p.shortfall ? 9 : 5)),
    pointBorderColor: s.points.map((p) => (p.shortfall ? LIMIT_COLOR : s.color)),
    pointBorderWidth: s.points.map((p) => (p.saturated || p.shortfall ? 3 : 1)),
  }));
  const axes = panel ?? rateAxes(spec);
  const yLog = axes.yLog;
  const small = panel !== undefined;
  // Panels share both axes, so a point's place means the same in every panel.
  const shared = small ? { x: { suggestedMax: axes.xMax }, y: { suggestedMin: axes.yMin, suggestedMax: axes.yMax } } : { x: {}, y: {} };
  const font = (size: number, weight: 'bold' | 'normal' = 'normal') => ({ family: FONT, size, weight });
  return {
    type: 'scatter',
    data: { datasets },
    options: {
      animation: false, responsive: false, maintainAspectRatio: false, devicePixelRatio: 1,
      layout: { padding: { left: 12, right: 24, top: 8, bottom: 8 } },
      plugins: {
        title: { display: true, text: spec.title, color: '#111', font: font(small ? 17 : 20, 'bold') },
        subtitle: { display: spec.subtitle.length > 0, text: spec.subtitle, color: '#333', font: font(13), padding: { bottom: 8 } },
        legend: { position: 'top', labels: { color: '#111', font: font(small ? 13 : 15), usePointStyle: true, boxWidth: 12, boxHeight: 12, padding: small ? 8 : 14 } },
      },
      scales: {
        x: { type: 'linear', beginAtZero: true, ...shared.x, title: { display: true, text: 'Achieved throughput (ops/s)', color: '#111', font: font(16) }, ticks: { color: '#222', font: font(14) } },
        y: {
          type: yLog ? 'logarithmic' : 'linear', beginAtZero: !yLog, ...shared.y,
          ...(small ? { afterFit: (axis: { width: number }) => { axis.width = PANEL_Y_AXIS_PX; } } : {}),
          title: { display: true, text: `p99 latency, corrected (${spec.yUnit})${yLog ? ', log scale' : ''}`, color: '#111', font: font(16) },
          ticks: { color: '#222', font: font(14) },
        },
      },
    },
    plugins: [whiteBackground, ...(panel?.legendHeight ? [legendAtLeast<'scatter'>(panel.legendHeight)] : [])],
  };
}

const whiteBackground: Plugin<'scatter'> = { id: 'whiteBackground', beforeDraw: (chart) => paintWhite(chart as unknown as Chart) };
