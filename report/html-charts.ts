// The charts of report.html, drawn in the page by Chart.js from data embedded as JSON: hover for
// exact values, a legend click hides a model, a button switches the y axis between linear and log,
// and limits and failures are marked points whose reason shows on hover. The same chart specs as
// the PNGs, so the page and the Markdown report never disagree.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Results } from '../schema/results.js';
import { chartSpecs, type ChartSpec } from './charts.js';
import { FAILED_COLOR, LIMIT_COLOR } from './chart-style.js';
import { rateChartSpecs, type RateChartSpec } from './rate-charts.js';
import { scenarioChartSpecs } from './scenario-charts.js';

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
}

const sectionOf = (protocol: string, scenario: string): string => (scenario === 'steady' ? protocol : `${protocol}, ${scenario}`);

function fromSpec(s: ChartSpec, i: number): PageChart {
  return {
    id: `chart-${i}`,
    ...(s.kind ? { kind: s.kind } : {}),
    section: sectionOf(s.protocol, s.scenario),
    title: s.title,
    subtitle: s.subtitle,
    xTitle: s.xTitle,
    yTitle: s.yTitle.replace(/, log scale$/, ''),
    yLog: s.yLog,
    labels: s.labels,
    series: s.series.map((x) => ({
      label: x.label, color: x.color, dash: x.dash, data: x.values, hollow: x.saturated, triangle: x.values.map(() => x.pointStyle === 'triangle'),
      ...(x.colors ? { colors: x.colors } : {}), ...(x.ideal ? { ideal: true } : {}), ...(x.inLegend ? {} : { inLegend: false }),
    })),
    marks: s.series.flatMap((x) => x.marks.flatMap((m, j) => (m ? [{ label: s.labels[j]!, status: m.status, model: x.model, reason: m.reason }] : []))),
  };
}

function fromRateSpec(s: RateChartSpec, i: number): PageChart {
  return {
    id: `rate-chart-${i}`,
    section: `${sectionOf(s.protocol, s.scenario)} (open loop)`,
    title: s.title,
    subtitle: s.subtitle,
    xTitle: 'Achieved throughput (ops/s)',
    yTitle: `p99 latency, corrected (${s.yUnit})`,
    yLog: false,
    labels: [],
    series: s.series.map((x) => ({
      label: x.label, color: x.color, dash: [],
      data: x.points.map((p) => ({ x: p.x, y: p.y })),
      hollow: x.points.map((p) => p.saturated),
      triangle: x.points.map((p) => p.shortfall),
    })),
    marks: [],
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

/** The page's own script: builds every chart from the embedded data. */
export const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('bench-data').textContent);
  var LIMIT = ${JSON.stringify(LIMIT_COLOR)}, FAILED = ${JSON.stringify(FAILED_COLOR)};
  window.__charts = [];
  data.charts.forEach(function (c) {
    var canvas = document.getElementById(c.id);
    if (!canvas) return;
    var numericX = c.labels.length === 0, bar = c.kind === 'bar';
    var datasets = c.series.map(function (s) {
      if (bar && s.ideal) return { type: 'line', label: s.label, data: s.data, borderColor: '#111', backgroundColor: '#111', showLine: false, pointStyle: 'line', pointRadius: 0, pointHoverRadius: 0, borderWidth: 3, ideal: true };
      if (bar) return { type: 'bar', label: s.label, data: s.data, backgroundColor: s.colors || s.color, borderColor: '#333', borderWidth: 1 };
      return {
        label: s.label, data: s.data, borderColor: s.color, backgroundColor: s.color,
        pointBackgroundColor: s.hollow.map(function (h) { return h ? '#ffffff' : s.color; }),
        borderDash: s.dash, borderWidth: 2, tension: 0, spanGaps: false, showLine: true,
        pointStyle: s.triangle.map(function (t) { return t ? 'triangle' : 'circle'; }),
        pointRadius: s.hollow.map(function (h, i) { return h || s.triangle[i] ? 6 : 4; }),
        pointBorderColor: s.triangle.map(function (t) { return t ? LIMIT : s.color; }),
        pointBorderWidth: s.hollow.map(function (h) { return h ? 3 : 1; })
      };
    });
    // Limit and failed points have no value: they sit at the lowest value drawn, as crosses.
    var values = [];
    c.series.forEach(function (s) { s.data.forEach(function (v) { var y = v && typeof v === 'object' ? v.y : v; if (typeof y === 'number' && y > 0) values.push(y); }); });
    var markY = values.length ? Math.min.apply(null, values) : 1;
    ['limit', 'failed'].forEach(function (status) {
      var marks = c.marks.filter(function (m) { return m.status === status; });
      if (marks.length === 0) return;
      datasets.push({
        type: bar ? 'line' : undefined,
        label: status, data: marks.map(function (m) { return { x: m.label, y: markY }; }), reasons: marks,
        borderColor: status === 'limit' ? LIMIT : FAILED, backgroundColor: status === 'limit' ? LIMIT : FAILED,
        pointStyle: 'crossRot', pointRadius: 9, pointBorderWidth: 3, showLine: false
      });
    });
    // Ideal ticks go across the bar they belong to (the dataset before them), not the category's centre.
    var idealTicks = { id: 'idealTicks', afterDatasetsDraw: function (ch) {
      var ctx = ch.ctx, y = ch.scales.y;
      ch.data.datasets.forEach(function (ds, i) {
        if (!ds.ideal || i === 0 || !ch.isDatasetVisible(i)) return;
        var bars = ch.getDatasetMeta(i - 1).data;
        ds.data.forEach(function (v, j) {
          var b = bars[j];
          if (v === null || !b || !ch.isDatasetVisible(i - 1)) return;
          var half = Math.max(6, (b.width || 12) / 2 + 3), py = y.getPixelForValue(v);
          ctx.save(); ctx.strokeStyle = '#111'; ctx.lineWidth = 3; ctx.beginPath(); ctx.moveTo(b.x - half, py); ctx.lineTo(b.x + half, py); ctx.stroke(); ctx.restore();
        });
      });
    } };
    var chart = new Chart(canvas, {
      plugins: bar ? [idealTicks] : [],
      type: numericX ? 'scatter' : bar ? 'bar' : 'line',
      data: numericX ? { datasets: datasets } : { labels: c.labels, datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, interaction: { mode: 'nearest', intersect: true },
        plugins: {
          title: { display: true, text: c.title, font: { size: 16 } },
          legend: { labels: {
            filter: function (item) { var s = c.series[item.datasetIndex]; return !s || s.inLegend !== false; },
            // A bar series has a colour per model: its legend swatch is its group's grey instead.
            generateLabels: function (ch) {
              return Chart.defaults.plugins.legend.labels.generateLabels(ch).map(function (l) {
                var s = c.series[l.datasetIndex];
                if (bar && s && !s.ideal) { l.fillStyle = s.color; l.strokeStyle = '#333'; }
                return l;
              });
            }
          } },
          subtitle: { display: c.subtitle.length > 0, text: c.subtitle },
          tooltip: { callbacks: { label: function (ctx) {
            var ds = ctx.dataset;
            if (ds.reasons) { var m = ds.reasons[ctx.dataIndex]; return m.model + ' ' + m.status + ': ' + m.reason; }
            var v = ctx.parsed.y, x = ctx.parsed.x;
            return ds.label + ': ' + (v === null ? 'n/a' : v.toLocaleString('en-US', { maximumFractionDigits: 2 })) + (numericX ? ' at ' + x.toLocaleString('en-US', { maximumFractionDigits: 0 }) + ' ops/s' : '');
          } } }
        },
        scales: {
          x: numericX ? { type: 'linear', beginAtZero: true, title: { display: true, text: c.xTitle } } : { type: 'category', offset: true, title: { display: true, text: c.xTitle } },
          y: { type: c.yLog ? 'logarithmic' : 'linear', beginAtZero: !c.yLog, title: { display: true, text: c.yTitle } }
        }
      }
    });
    window.__charts.push(chart);
    var button = document.getElementById(c.id + '-scale');
    if (button) button.addEventListener('click', function () {
      var y = chart.options.scales.y, log = y.type !== 'logarithmic';
      y.type = log ? 'logarithmic' : 'linear'; y.beginAtZero = !log;
      button.textContent = log ? 'linear y axis' : 'log y axis';
      chart.update();
    });
  });
})();
`;
