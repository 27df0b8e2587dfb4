// Charts drawn: ChartSpec -> Chart.js on @napi-rs/canvas -> PNG (charts.ts makes the specs).
import { join } from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import { Chart, Ticks, registerables, type ChartConfiguration, type ChartDataset } from 'chart.js';
import { writeFileAtomic } from '../schema/atomic-write.js';
import type { Results } from '../schema/results.js';
import { chartSpecs, type ChartSpec, type Series } from './charts.js';
import { FAILED_COLOR, FONT, LIMIT_COLOR } from './chart-style.js';
import { legendAtLeast, MARK_ROW_PX, markRows, overlay, PANEL_Y_AXIS_PX } from './chart-overlay.js';
import { rateAxes, rateChartConfig, rateChartSpecs, type RateChartSpec } from './rate-charts.js';
import { panelLines, PANELS_TITLE, panelsOf, panelYTitle, sharedRange } from './panels.js';
import { composePanels } from './panel-render.js';

const WIDTH = 1200;
const HEIGHT = 600;
Chart.register(...registerables);

/** How a spec is drawn as one panel of several (panels.ts): the shared range, and which axis titles it shows. */
export interface PanelOptions {
  range: { min: number; max: number } | null;
  xTitle: boolean;
  yTitle: boolean;
  /** Rows of crosses to keep free under the plot: the most any panel of the chart needs, so their plots line up. */
  markRows: number;
  /** The legend's height, px: the tallest panel's, for the same reason. */
  legendHeight?: number;
}

/** The Chart.js configuration for a spec (or one panel of it): pure, so tests can inspect it without a canvas. */
export function chartConfig(spec: ChartSpec, panel?: PanelOptions): ChartConfiguration<'line', (number | null)[], string> {
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
  const own = all.length > 0 ? { min: Math.min(...all), max: Math.max(...all) } : null;
  // Panels share one range, so a line's height means the same in every panel.
  const shared = panel ? panel.range : own;
  const range = shared ? { suggestedMin: shared.min, suggestedMax: shared.max } : {};
  const small = panel !== undefined;
  return {
    type: bar ? ('bar' as 'line') : 'line',
    data: { labels: spec.labels, datasets },
    options: {
      animation: false, responsive: false, maintainAspectRatio: false, devicePixelRatio: 1,
      layout: { padding: { left: 12, right: 24, top: 8, bottom: 8 } },
      plugins: {
        title: { display: true, text: spec.title, color: '#111', font: font(small ? 17 : 22, 'bold'), padding: small ? 4 : 10 },
        subtitle: { display: spec.subtitle.length > 0, text: spec.subtitle, color: '#333', font: font(14), padding: { bottom: 8 } },
        legend: {
          position: 'top',
          labels: {
            color: '#111', font: font(small ? 13 : 15), usePointStyle: true, boxWidth: 12, boxHeight: 12, padding: small ? 8 : 14,
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
        x: { type: 'category', offset: true, title: { display: panel?.xTitle ?? true, text: spec.xTitle, color: '#111', font: font(small ? 14 : 16) }, ticks: { color: '#222', font: font(14), ...(bar ? {} : { padding: 4 + (panel?.markRows ?? markRows(spec)) * MARK_ROW_PX }) } },
        y: {
          type: spec.yLog ? 'logarithmic' : 'linear', beginAtZero: !spec.yLog, ...range,
          title: { display: panel?.yTitle ?? true, text: spec.yTitle, color: '#111', font: font(small ? 14 : 16) },
          // Every panel's axis as wide as the others', so the plot areas line up across a row.
          ...(small ? { afterFit: (axis: { width: number }) => { axis.width = PANEL_Y_AXIS_PX; } } : {}),
          ticks: { color: '#222', font: font(14), ...(spec.yLog ? { callback: logTick } : {}) },
        },
      },
    },
    plugins: [overlay(spec), ...(panel?.legendHeight ? [legendAtLeast(panel.legendHeight)] : [])],
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

/** A bar chart: one chart at 1200×600. A line chart: its panels (panels.ts) under one title. */
function renderPng(spec: ChartSpec): Buffer {
  return spec.kind === 'bar' ? renderConfigPng(chartConfig(spec) as ChartConfiguration) : renderPanelsPng(spec);
}

/** The panels of a line chart side by side on one canvas, with the chart's title and notes above them. */
function renderPanelsPng(spec: ChartSpec): Buffer {
  const panels = panelsOf(spec);
  const y = panelYTitle(spec.yTitle);
  const whole: ChartSpec = { ...spec, yTitle: y.title, subtitle: y.note ? [...spec.subtitle, y.note] : spec.subtitle };
  const range = sharedRange(spec);
  const rows = Math.max(...panels.map((p) => markRows({ ...spec, series: p.series })));
  return composePanels(PANELS_TITLE(spec.title), whole.subtitle, panels.map((panel) => (legendHeight?: number) => {
    const part: ChartSpec = { ...whole, title: panel.title, subtitle: [], series: panel.series };
    return chartConfig(part, { range, xTitle: true, yTitle: true, markRows: rows, ...(legendHeight ? { legendHeight } : {}) }) as ChartConfiguration;
  }));
}

/** An open-loop chart's panels: the same families, both axes shared. */
function renderRatePanelsPng(spec: RateChartSpec): Buffer {
  const axes = rateAxes(spec);
  return composePanels(PANELS_TITLE(spec.title), spec.subtitle, panelLines(spec.series).map((panel) => (legendHeight?: number) =>
    rateChartConfig({ ...spec, title: panel.title, subtitle: [], series: panel.series }, { ...axes, ...(legendHeight ? { legendHeight } : {}) }) as unknown as ChartConfiguration));
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
    writeFileAtomic(path, renderRatePanelsPng(spec));
    written.push(path);
  }
  return written;
}
