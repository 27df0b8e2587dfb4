// The charts of report.html, as data embedded in the page as JSON, which page-script.ts draws with
// Chart.js: hover for exact values, a legend click hides a model, a button switches the y axis
// between linear and log, and limits and failures are marked points whose reason shows on hover.
// The same chart specs and the same panels as the PNGs, so the page and the Markdown report never disagree.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Results } from '../schema/results.js';
import { chartSpecs, type ChartSpec } from './charts.js';
import { rateAxes, rateChartSpecs, type RateChartSpec } from './rate-charts.js';
import { REFERENCE_MODEL } from './aggregate.js';
import { scenarioChartSpecs } from './scenario-charts.js';
import { panelLines, panelsOf, panelYTitle, sharedRange } from './panels.js';

/** One chart as the page draws it. */
export interface PageChart {
  id: string;
  /** `bar`: labels are models, each series a bar per model (or, with `ideal`, a black tick). */
  kind?: 'bar';
  /** Which table section it belongs to: `echo`, `http, idle`, ... */
  section: string;
  title: string;
  subtitle: string[];
  xTitle: string;
  yTitle: string;
  yLog: boolean;
  /** Category labels (concurrency); empty for a chart with a numeric x axis. */
  labels: string[];
  series: {
    label: string;
    /** The model (bars: the group) whose line this is. */
    model?: string;
    color: string;
    dash: number[];
    /** y per label, or {x, y} points for a numeric x axis. */
    data: (number | null | { x: number; y: number })[];
    /** Hollow points: the load generator was saturated there. */
    hollow: boolean[];
    triangle: boolean[];
    /** Bars: one colour per value. */
    colors?: string[];
    ideal?: boolean;
    inLegend?: boolean;
  }[];
  /** Limit and failed points: drawn as crosses at the bottom of the chart, with their reason. */
  marks: { label: string; status: 'limit' | 'failed'; model: string; reason: string }[];
  /**
   * A line chart's small multiples (panels.ts): each panel's title and the indices of its series;
   * its marks are those of its models. Absent for bars and the open-loop charts.
   */
  panels?: { id: string; title: string; series: number[] }[];
  /** The range every panel's y axis takes in. */
  range?: { min: number; max: number } | null;
  /** Open loop: the x axis every panel takes in, ops/s. */
  xMax?: number;
}

const sectionOf = (protocol: string, scenario: string): string => (scenario === 'steady' ? protocol : `${protocol}, ${scenario}`);

function fromSpec(s: ChartSpec, i: number): PageChart {
  const panels = s.kind === 'bar' ? [] : panelsOf(s);
  const y = panels.length > 0 ? panelYTitle(s.yTitle.replace(/, log scale$/, '')) : { title: s.yTitle.replace(/, log scale$/, ''), note: null };
  return {
    id: `chart-${i}`,
    ...(s.kind ? { kind: s.kind } : {}),
    section: sectionOf(s.protocol, s.scenario),
    title: s.title,
    subtitle: y.note ? [...s.subtitle, y.note] : s.subtitle,
    xTitle: s.xTitle,
    yTitle: y.title,
    yLog: s.yLog,
    labels: s.labels,
    series: s.series.map((x) => ({
      label: x.label, model: x.model, color: x.color, dash: x.dash, data: x.values, hollow: x.saturated, triangle: x.values.map(() => x.pointStyle === 'triangle'),
      ...(x.colors ? { colors: x.colors } : {}), ...(x.ideal ? { ideal: true } : {}), ...(x.inLegend ? {} : { inLegend: false }),
    })),
    marks: s.series.flatMap((x) => x.marks.flatMap((m, j) => (m ? [{ label: s.labels[j]!, status: m.status, model: x.model, reason: m.reason }] : []))),
    ...(panels.length > 0 ? {
      panels: panels.map((p, k) => ({ id: `chart-${i}-p${k}`, title: p.title, series: p.series.map((x) => s.series.indexOf(x)) })),
      range: sharedRange(s),
    } : {}),
  };
}

function fromRateSpec(s: RateChartSpec, i: number): PageChart {
  const id = `rate-chart-${i}`;
  const axes = rateAxes(s);
  return {
    id,
    section: `${sectionOf(s.protocol, s.scenario)} (open loop)`,
    title: s.title,
    subtitle: s.subtitle,
    xTitle: 'Achieved throughput (ops/s)',
    yTitle: `p99 latency, corrected (${s.yUnit})`,
    yLog: axes.yLog,
    labels: [],
    series: s.series.map((x) => ({
      label: x.label, model: x.model, color: x.color, dash: x.model === REFERENCE_MODEL ? [12, 6] : [],
      data: x.points.map((p) => ({ x: p.x, y: p.y })),
      hollow: x.points.map((p) => p.saturated),
      triangle: x.points.map((p) => p.shortfall),
    })),
    marks: [],
    panels: panelLines(s.series).map((p, k) => ({ id: `${id}-p${k}`, title: p.title, series: p.series.map((x) => s.series.indexOf(x)) })),
    range: { min: axes.yMin, max: axes.yMax },
    xMax: axes.xMax,
  };
}

export function pageCharts(results: Results): PageChart[] {
  return [...chartSpecs(results), ...scenarioChartSpecs(results)].map(fromSpec).concat(rateChartSpecs(results).map(fromRateSpec));
}

/** Chart.js's own UMD build, inlined: the page works from file:// with no network. */
export function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  const path = require.resolve('chart.js').replace(/chart\.cjs$/, 'chart.umd.min.js');
  return readFileSync(path, 'utf8').replace(/<\/script/gi, '<\\/script');
}

/** JSON safe inside a <script> element. */
export function embedJson(data: unknown): string {
  return JSON.stringify(data).replace(/</g, '\\u003c');
}

