// Charts from a results file alone: a pure part (cells -> ChartSpec, testable without a canvas)
// and a thin rendering part (ChartSpec -> Chart.js on @napi-rs/canvas -> PNG).
import { join } from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import { Chart, Ticks, registerables, type ChartConfiguration, type ChartDataset, type Plugin } from 'chart.js';
import { cpuUsPerOp, groupCells, inSection, isClosedLoop, MiB, modelOrder, REFERENCE_MODEL, sections, summarize, type Point } from './aggregate.js';
import { writeFileAtomic } from '../schema/atomic-write.js';
import type { Cell, Protocol, Results, Scenario } from '../schema/results.js';
import type { Interval } from './stats.js';
import { FAILED_COLOR, LIMIT_COLOR, modelColor, paintWhite } from './chart-style.js';
import { rateChartConfig, rateChartSpecs } from './rate-charts.js';
import { CHART_FILES, type MetricId } from './chart-files.js';

export { FAILED_COLOR, LIMIT_COLOR, modelColor };

// ---------------------------------------------------------------------------------------------
// Chart specs (pure)

export interface Mark {
  status: 'limit' | 'failed';
  reason: string;
}

export interface Series {
  label: string;
  model: string;
  color: string;
  /** Line dash pattern in px; empty for a solid line. */
  dash: number[];
  pointStyle: 'circle' | 'triangle';
  /** False for a model's second line (processes), so the legend has one entry per model. */
  inLegend: boolean;
  /** One value per x label; null where the model has no ok repetition (the line breaks there). */
  values: (number | null)[];
  ci: (Interval | null)[];
  /** A limit or failed point at that x, drawn as a cross. */
  marks: (Mark | null)[];
  /** Points where a repetition's load generator was saturated: drawn hollow. */
  saturated: boolean[];
  /** Bar charts: one colour per value (the model's), so a family keeps its colours. */
  colors?: string[];
  /** Bar charts: drawn as a short black tick per bar group (the ideal beside the measured bars), not as bars. */
  ideal?: boolean;
}

export interface ChartSpec {
  /** `bar`: labels are models and each series a bar per model (scenario-charts.ts); else lines against concurrency. */
  kind?: 'bar';
  /** File name under the charts folder, e.g. `echo-throughput.png`. */
  file: string;
  protocol: Protocol;
  scenario: Scenario;
  metric: string;
  title: string;
  subtitle: string[];
  xTitle: string;
  yTitle: string;
  yLog: boolean;
  /** Concurrency values, ascending, as category labels. */
  labels: string[];
  series: Series[];
}

interface Part {
  suffix: string;
  value: (c: Cell) => number | null | undefined;
  pointStyle?: 'triangle';
}
interface MetricDef {
  id: MetricId;
  title: string;
  axis: string;
  unit: string;
  parts: Part[];
  /** Switch µs to ms when the values reach 10 ms. */
  msWhenLarge?: boolean;
  /** Note saturated clients on this chart. */
  saturation?: boolean;
  /** Drawn only when some cell of the section has this. */
  onlyIf?: (c: Cell) => boolean;
}

const hasPss = (c: Cell) => typeof c.server?.pssPeakBytes === 'number';
const METRICS: MetricDef[] = [
  { id: 'throughput', title: 'throughput', axis: 'Throughput', unit: 'ops/s', saturation: true, parts: [{ suffix: '', value: (c) => c.opsPerSec }] },
  { id: 'latency-p99', title: 'p99 latency', axis: 'p99 latency', unit: 'µs', msWhenLarge: true, saturation: true, parts: [{ suffix: '', value: (c) => c.latencyUs?.p99 }] },
  { id: 'rss', title: 'server peak RSS', axis: 'Peak RSS', unit: 'MiB', parts: [{ suffix: '', value: (c) => c.server?.rssPeakBytes / MiB }] },
  { id: 'cpu-per-1k-ops', title: 'server CPU per 1,000 operations', axis: 'Server CPU', unit: 'CPU s per 1,000 ops', parts: [{ suffix: '', value: (c) => { const us = cpuUsPerOp(c); return us === null ? null : us / 1000; } }] },
  { id: 'pss', title: 'server peak PSS', axis: 'Peak PSS', unit: 'MiB', onlyIf: hasPss, parts: [{ suffix: '', value: (c) => (hasPss(c) ? c.server.pssPeakBytes! / MiB : null) }] },
  {
    id: 'threads-processes', title: 'peak threads and processes', axis: 'Peak count', unit: 'threads ● solid, processes ▲ dotted', onlyIf: hasPss,
    parts: [{ suffix: '', value: (c) => c.server?.threadsPeak }, { suffix: ' processes', value: (c) => c.server?.processesPeak, pointStyle: 'triangle' }],
  },
];

export function chartSpecs(results: Results): ChartSpec[] {
  const points = groupCells(results.cells).filter(isClosedLoop);
  const models = modelOrder(results);
  const specs: ChartSpec[] = [];
  // io-wait, cpu, churn and payload have their own charts (scenario-charts.ts), each answering its question.
  for (const key of sections(points).filter((s) => s.scenario === 'steady' || s.scenario === 'idle')) {
    const { protocol, scenario } = key;
    const here = points.filter((p) => inSection(p, key));
    const concurrencies = [...new Set(here.map((p) => p.concurrency))].sort((a, b) => a - b);
    const present = models.filter((m) => here.some((p) => p.model === m));
    for (const metric of METRICS) {
      if (metric.onlyIf && !here.some((p) => p.cells.some(metric.onlyIf!))) continue;
      specs.push(buildSpec(results, metric, protocol, scenario, here, present, concurrencies));
    }
  }
  return specs;
}

function buildSpec(
  results: Results, metric: MetricDef, protocol: Protocol, scenario: Scenario,
  here: Point[], models: string[], concurrencies: number[],
): ChartSpec {
  const series: Series[] = [];
  for (const model of models) {
    const row = concurrencies.map((n) => here.find((p) => p.model === model && p.concurrency === n));
    metric.parts.forEach((part, i) => {
      const sums = row.map((p) => (p ? summarize(p, part.value) : null));
      series.push({
        label: model + part.suffix + (model === REFERENCE_MODEL && i === 0 ? ' (reference, dashed)' : '') + (isExternal(results, model) && i === 0 ? ' (external)' : ''), model, color: modelColor(model, here.find((p) => p.model === model)?.family),
        dash: model === REFERENCE_MODEL ? [12, 6] : i > 0 ? [3, 4] : [],
        pointStyle: part.pointStyle ?? 'circle',
        inLegend: i === 0,
        values: sums.map((s) => s?.median ?? null),
        ci: sums.map((s) => s?.ci ?? null),
        marks: row.map((p) => (i === 0 && p && p.status !== 'ok' ? { status: p.status, reason: firstReason(p) } : null)),
        saturated: row.map((p) => metric.saturation === true && (p?.cells.some((c) => c.client?.saturated) ?? false)),
      });
    });
  }
  const ms = metric.msWhenLarge && series.some((s) => s.values.some((v) => v !== null && v >= 10_000));
  if (ms) for (const s of series) scaleSeries(s, 1 / 1000);
  const unit = ms ? 'ms' : metric.unit;
  const yLog = wantsLog(series);
  const reps = results.settings?.repetitions ?? 1;
  const where = scenario === 'steady' ? '' : ` (${scenario})`;
  return {
    file: CHART_FILES.metric(protocol, scenario, metric.id),
    protocol, scenario, metric: metric.id,
    title: `${protocol}${where}: ${metric.title} vs concurrency`,
    subtitle: [
      `run ${results.runId} · ${reps > 1 ? `median of up to ${reps} repetitions, bars: CI of the median${coverage(series)}` : 'one repetition per point'}`,
      ...wrapNotes(chartNotes(here, metric.saturation === true)),
    ],
    xTitle: 'Concurrency (connections)',
    yTitle: `${metric.axis} (${unit})${yLog ? ', log scale' : ''}`,
    yLog, labels: concurrencies.map(String), series,
  };
}

export function isExternal(results: Results, model: string): boolean {
  return (results.settings.externalModels ?? []).some((m) => m.name === model);
}

/** The coverage the CI bars reach, when below 95% (few repetitions cannot reach more). */
function coverage(series: Series[]): string {
  const levels = series.flatMap((s) => s.ci.flatMap((c) => (c ? [c.level] : [])));
  if (levels.length === 0 || Math.min(...levels) >= 0.95) return '';
  return ` (coverage ${Math.floor(Math.min(...levels) * 1000) / 10}%${Math.max(...levels) > Math.min(...levels) ? ' or more' : ''})`;
}

function scaleSeries(s: Series, f: number): void {
  s.values = s.values.map((v) => (v === null ? null : v * f));
  s.ci = s.ci.map((c) => (c ? { ...c, lo: c.lo * f, hi: c.hi * f } : null));
}

/** Log scale when every value is positive and they span more than a factor of 20. */
function wantsLog(series: Series[]): boolean {
  const xs = series.flatMap((s) => [...s.values, ...s.ci.flatMap((c) => (c ? [c.lo, c.hi] : []))]).filter((v): v is number => v !== null);
  if (xs.length < 2 || xs.some((v) => v <= 0)) return false;
  return Math.max(...xs) / Math.min(...xs) > 20;
}

function firstReason(p: Point): string {
  return p.cells.find((c) => c.status !== 'ok' && c.reason)?.reason ?? 'no reason recorded';
}

/**
 * One line per limit, failure or partial failure; saturated clients get one line for the chart,
 * since their points are drawn hollow.
 */
export function chartNotes(points: readonly Point[], saturation: boolean): string[] {
  const notes: string[] = [];
  if (saturation && points.some((p) => p.cells.some((c) => c.client?.saturated))) {
    notes.push("○ hollow point: the load generator was saturated there, so the figure is the client's limit, not the server's");
  }
  for (const p of points) {
    if (p.status !== 'ok') notes.push(`✕ ${p.model}: ${p.status} at ${p.concurrency} (${clip(firstReason(p), 70)})`);
    else if (p.ok.length < p.cells.length) notes.push(`${p.model}: ${p.cells.length - p.ok.length} of ${p.cells.length} repetitions not ok at ${p.concurrency}`);
  }
  return notes;
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

function wrapNotes(notes: string[], width = 150, maxLines = 4): string[] {
  const lines: string[] = [];
  for (const note of notes) {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + 3 + note.length <= width) lines[lines.length - 1] = `${last} · ${note}`;
    else lines.push(note);
  }
  if (lines.length <= maxLines) return lines;
  return [...lines.slice(0, maxLines - 1), `… and more: see the report's Notes`];
}

// ---------------------------------------------------------------------------------------------
// Rendering

const WIDTH = 1200;
const HEIGHT = 600;
const FONT = "'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";
Chart.register(...registerables);

/** The Chart.js configuration for a spec: pure, so tests can inspect it without a canvas. */
export function chartConfig(spec: ChartSpec): ChartConfiguration<'line', (number | null)[], string> {
  const bar = spec.kind === 'bar';
  const datasets = spec.series.map((s) => bar ? barDataset(s) : ({
    label: s.label, data: s.values, borderColor: s.color, backgroundColor: s.color, borderWidth: 3,
    borderDash: s.dash, pointStyle: s.pointStyle, spanGaps: false, tension: 0, fill: false,
    pointRadius: s.saturated.map((x) => (x ? 7 : 5)),
    pointBackgroundColor: s.saturated.map((x) => (x ? '#ffffff' : s.color)),
    pointBorderWidth: s.saturated.map((x) => (x ? 3 : 1)),
  })) as ChartDataset<'line', (number | null)[]>[];
  // Empty datasets whose only job is a legend entry for the crosses.
  for (const [status, color] of [['limit', LIMIT_COLOR], ['failed', FAILED_COLOR]] as const) {
    if (spec.series.some((s) => s.marks.some((m) => m?.status === status))) {
      datasets.push({ label: status, data: [], borderColor: color, backgroundColor: color, borderWidth: 3, borderDash: [], pointStyle: 'crossRot' as 'circle', pointRadius: 8, spanGaps: false, tension: 0, fill: false });
    }
  }
  const font = (size: number, weight: 'bold' | 'normal' = 'normal') => ({ family: FONT, size, weight });
  // Let the axis take in the CI bars too, not only the medians.
  const all = spec.series.flatMap((s) => [...s.values, ...s.ci.flatMap((c) => (c ? [c.lo, c.hi] : []))]).filter((v): v is number => v !== null);
  const range = all.length > 0 ? { suggestedMin: Math.min(...all), suggestedMax: Math.max(...all) } : {};
  return {
    type: bar ? ('bar' as 'line') : 'line',
    data: { labels: spec.labels, datasets },
    options: {
      animation: false, responsive: false, maintainAspectRatio: false, devicePixelRatio: 1,
      layout: { padding: { left: 12, right: 24, top: 8, bottom: 8 } },
      plugins: {
        title: { display: true, text: spec.title, color: '#111', font: font(22, 'bold') },
        subtitle: { display: spec.subtitle.length > 0, text: spec.subtitle, color: '#333', font: font(14), padding: { bottom: 8 } },
        legend: {
          position: 'top',
          labels: {
            color: '#111', font: font(15), usePointStyle: true, boxWidth: 12, boxHeight: 12, padding: 14,
            filter: (item) => spec.series[item.datasetIndex ?? -1]?.inLegend ?? true,
            // A bar series has a colour per model: its legend swatch is its group's grey instead.
            ...(bar ? { generateLabels: (chart: Chart) => Chart.defaults.plugins.legend.labels.generateLabels(chart).map((l) => {
              const s = spec.series[l.datasetIndex ?? -1];
              return s && !s.ideal ? { ...l, fillStyle: s.color, strokeStyle: '#333' } : l;
            }) } : {}),
          },
        },
      },
      scales: {
        x: { type: 'category', offset: true, title: { display: true, text: spec.xTitle, color: '#111', font: font(16) }, ticks: { color: '#222', font: font(14) } },
        y: {
          type: spec.yLog ? 'logarithmic' : 'linear', beginAtZero: !spec.yLog, ...range,
          title: { display: true, text: spec.yTitle, color: '#111', font: font(16) },
          ticks: { color: '#222', font: font(14), ...(spec.yLog ? { callback: logTick } : {}) },
        },
      },
    },
    plugins: [overlay(spec)],
  };
}

/** A bar series as bars in its models' colours; an ideal series as black ticks over them. */
function barDataset(s: Series): ChartDataset<'line', (number | null)[]> {
  if (s.ideal) {
    // Drawn by the overlay, as a tick over its own bar (Chart.js would put it at the category's centre).
    return { type: 'line', label: s.label, data: s.values, borderColor: '#111', backgroundColor: '#111', showLine: false, pointStyle: 'line', pointRadius: 0, pointHoverRadius: 0, borderWidth: 4 } as ChartDataset<'line', (number | null)[]>;
  }
  return { type: 'bar', label: s.label, data: s.values, backgroundColor: s.colors ?? s.color, borderColor: '#333', borderWidth: 1 } as unknown as ChartDataset<'line', (number | null)[]>;
}

/** Chart.js's own choice of which log ticks to label, printed without trailing zeros. */
function logTick(this: unknown, value: number | string, index: number, ticks: { value: number }[]): string {
  const shown = Ticks.formatters.logarithmic.call(this as never, Number(value), index, ticks as never);
  return shown === '' ? '' : Number(value).toLocaleString('en-US', { maximumSignificantDigits: 3 });
}

/** White background, CI bars, and a cross with a label for every limit/failed point. */
function overlay(spec: ChartSpec): Plugin<'line'> {
  return {
    id: 'benchOverlay',
    beforeDraw: paintWhite,
    afterDatasetsDraw(chart) {
      const { ctx, chartArea: area, scales } = chart;
      const x = scales.x!;
      const y = scales.y!;
      ctx.save();
      ctx.beginPath();
      ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
      ctx.clip();
      spec.series.forEach((s, si) => s.ci.forEach((ci, j) => {
        if (!ci) return;
        // A bar sits beside its group's other bars: its own x, not the category's centre.
        const px = spec.kind === 'bar' ? (chart.getDatasetMeta(si).data[j]?.x ?? x.getPixelForValue(j)) : x.getPixelForValue(j);
        const [top, bottom] = [y.getPixelForValue(ci.hi), y.getPixelForValue(ci.lo)];
        ctx.strokeStyle = s.color;
        ctx.lineWidth = 2;
        ctx.setLineDash([]);
        ctx.beginPath();
        ctx.moveTo(px, top); ctx.lineTo(px, bottom);
        ctx.moveTo(px - 6, top); ctx.lineTo(px + 6, top);
        ctx.moveTo(px - 6, bottom); ctx.lineTo(px + 6, bottom);
        ctx.stroke();
      }));
      if (spec.kind === 'bar') drawIdealTicks(chart, spec);
      ctx.font = `bold 14px ${FONT}`;
      ctx.textBaseline = 'middle';
      // One row per cross, counted over the whole chart, so no two labels can overlap. A bar chart
      // instead puts a small cross, unlabelled, at the foot of the missing bar: its model is on the axis.
      let row = 0;
      spec.labels.forEach((_, j) => {
        spec.series.forEach((s, si) => {
          const mark = s.marks[j];
          if (!mark) return;
          if (spec.kind === 'bar') {
            const bx = chart.getDatasetMeta(si).data[j]?.x ?? x.getPixelForValue(j);
            ctx.strokeStyle = mark.status === 'failed' ? FAILED_COLOR : LIMIT_COLOR;
            ctx.lineWidth = 3;
            ctx.setLineDash([]);
            ctx.beginPath();
            ctx.moveTo(bx - 5, area.bottom - 15); ctx.lineTo(bx + 5, area.bottom - 5);
            ctx.moveTo(bx + 5, area.bottom - 15); ctx.lineTo(bx - 5, area.bottom - 5);
            ctx.stroke();
            return;
          }
          const px = x.getPixelForValue(j);
          const py = area.bottom - 16 - row++ * 22;
          const color = mark.status === 'failed' ? FAILED_COLOR : LIMIT_COLOR;
          ctx.strokeStyle = color;
          ctx.lineWidth = 4;
          ctx.setLineDash([]);
          ctx.beginPath();
          ctx.moveTo(px - 8, py - 8); ctx.lineTo(px + 8, py + 8);
          ctx.moveTo(px + 8, py - 8); ctx.lineTo(px - 8, py + 8);
          ctx.stroke();
          const text = `${s.model} ${mark.status}`;
          const left = px + 14 + ctx.measureText(text).width > area.right;
          ctx.textAlign = left ? 'right' : 'left';
          ctx.fillStyle = color;
          ctx.fillText(text, left ? px - 14 : px + 14, py);
        });
      });
      ctx.restore();
    },
  };
}

/** Each ideal value as a black tick across the bar just before it in the series (its measured bar). */
function drawIdealTicks(chart: Chart<'line'>, spec: ChartSpec): void {
  const { ctx } = chart;
  const y = chart.scales.y!;
  spec.series.forEach((s, si) => {
    if (!s.ideal || si === 0) return;
    const bars = chart.getDatasetMeta(si - 1).data as unknown as { x: number; width?: number }[];
    s.values.forEach((v, j) => {
      const b = bars[j];
      if (v === null || !b) return;
      const half = Math.max(8, (b.width ?? 16) / 2 + 4);
      const py = y.getPixelForValue(v);
      ctx.strokeStyle = '#111';
      ctx.lineWidth = 4;
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(b.x - half, py); ctx.lineTo(b.x + half, py);
      ctx.stroke();
    });
  });
}

/** Render one spec to PNG bytes at 1200×600. */
function renderPng(spec: ChartSpec): Buffer {
  return renderConfigPng(chartConfig(spec) as ChartConfiguration);
}

export function renderConfigPng(config: ChartConfiguration): Buffer {
  const canvas = createCanvas(WIDTH, HEIGHT);
  // Chart.js takes a DOM canvas context; @napi-rs/canvas implements the same drawing API, and with
  // responsive: false and no window Chart.js uses its DOM-free BasicPlatform.
  const chart = new Chart(canvas.getContext('2d') as any, config);
  try {
    return canvas.toBuffer('image/png');
  } finally {
    chart.destroy();
  }
}

/** Draw every chart of a results file into outDir; returns the paths written. */
export async function renderCharts(results: Results, outDir: string, extra: readonly ChartSpec[] = []): Promise<string[]> {
  const written: string[] = [];
  for (const spec of [...chartSpecs(results), ...extra]) {
    const path = join(outDir, spec.file);
    writeFileAtomic(path, renderPng(spec));
    written.push(path);
  }
  for (const spec of rateChartSpecs(results)) {
    const path = join(outDir, spec.file);
    writeFileAtomic(path, renderConfigPng(rateChartConfig(spec) as unknown as ChartConfiguration));
    written.push(path);
  }
  return written;
}
