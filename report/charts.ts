// Charts from a results file alone, the pure part: cells -> ChartSpec, testable without a canvas
// (chart-render.ts draws a spec).
import { cpuUsPerOp, groupCells, inSection, isClosedLoop, MiB, modelOrder, REFERENCE_MODEL, sections, summarize, type Point } from './aggregate.js';
import type { Cell, Protocol, Results, Scenario } from '../schema/results.js';
import type { Interval } from './stats.js';
import { FAILED_COLOR, LIMIT_COLOR, modelColor } from './chart-style.js';
import { CHART_FILES, type MetricId } from './chart-files.js';
import { panelOf } from './panels.js';

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
  /** Line charts: the small-multiples panel of the model's family (panels.ts); null for the reference, drawn in every panel. */
  panel?: string | null;
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
    const panel = panelOf(results, model, here.find((p) => p.model === model)?.family);
    metric.parts.forEach((part, i) => {
      const sums = row.map((p) => (p ? summarize(p, part.value) : null));
      series.push({
        label: model + part.suffix + (model === REFERENCE_MODEL && i === 0 ? ' (reference, dashed)' : '') + (isExternal(results, model) && i === 0 ? ' (external)' : ''), model, color: modelColor(model, here.find((p) => p.model === model)?.family),
        dash: model === REFERENCE_MODEL ? [12, 6] : i > 0 ? [3, 4] : [],
        pointStyle: part.pointStyle ?? 'circle',
        inLegend: i === 0, panel,
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
