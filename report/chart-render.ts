// Charts drawn: ChartSpec -> Chart.js on @napi-rs/canvas -> PNG (charts.ts makes the specs).
import { join } from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import { Chart, Ticks, registerables, type ChartConfiguration, type ChartDataset, type Plugin } from 'chart.js';
import { writeFileAtomic } from '../schema/atomic-write.js';
import type { Results } from '../schema/results.js';
import { chartSpecs, type ChartSpec, type Series } from './charts.js';
import { FAILED_COLOR, LIMIT_COLOR, paintWhite } from './chart-style.js';
import { rateChartConfig, rateChartSpecs } from './rate-charts.js';

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
