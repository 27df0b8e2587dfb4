// report.html's own script: builds every chart from the embedded data (html-charts.ts). A line chart
// is a set of panels (panels.ts) sharing one y range and one axis button; their limit and failed
// points are crosses in a band under the plot, whose reason shows on hover (the open-loop charts,
// panels on a numeric x axis, have none). Bar charts keep their crosses at the foot of the bars.
import { FAILED_COLOR, LIMIT_COLOR } from './chart-style.js';

/** Height of one row of crosses under a panel's plot, px. */
const MARK_ROW_PX = 20;

export const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('bench-data').textContent);
  var LIMIT = ${JSON.stringify(LIMIT_COLOR)}, FAILED = ${JSON.stringify(FAILED_COLOR)}, ROW = ${MARK_ROW_PX};
  window.__charts = [];
  window.__figures = [];

  function lineSet(s) {
    return {
      label: s.label, data: s.data, borderColor: s.color, backgroundColor: s.color,
      pointBackgroundColor: s.hollow.map(function (h) { return h ? '#ffffff' : s.color; }),
      borderDash: s.dash, borderWidth: 2, tension: 0, spanGaps: false, showLine: true,
      pointStyle: s.triangle.map(function (t) { return t ? 'triangle' : 'circle'; }),
      pointRadius: s.hollow.map(function (h, i) { return h || s.triangle[i] ? 6 : 4; }),
      pointBorderColor: s.triangle.map(function (t) { return t ? LIMIT : s.color; }),
      pointBorderWidth: s.hollow.map(function (h) { return h ? 3 : 1; })
    };
  }

  // The crosses of a panel, one row each under the plot, and their reason as the canvas's title
  // (the browser's own tooltip) while the pointer is on one.
  function crosses(marks, labels) {
    var spots = [];
    return {
      id: 'crosses',
      afterDatasetsDraw: function (ch) {
        var ctx = ch.ctx, area = ch.chartArea, x = ch.scales.x;
        spots = [];
        marks.forEach(function (m, row) {
          var legend = ch.data.datasets.findIndex(function (d) { return d.legendOnly === m.status; });
          if (legend >= 0 && !ch.isDatasetVisible(legend)) return;
          var px = x.getPixelForValue(labels.indexOf(m.label)), py = area.bottom + ROW / 2 + 4 + row * ROW;
          var color = m.status === 'failed' ? FAILED : LIMIT;
          ctx.save(); ctx.strokeStyle = color; ctx.lineWidth = 3; ctx.beginPath();
          ctx.moveTo(px - 6, py - 6); ctx.lineTo(px + 6, py + 6); ctx.moveTo(px + 6, py - 6); ctx.lineTo(px - 6, py + 6); ctx.stroke();
          var text = m.model + ' ' + m.status;
          ctx.font = 'bold 12px sans-serif'; ctx.fillStyle = color; ctx.textBaseline = 'middle';
          var left = px + 10 + ctx.measureText(text).width > area.right;
          ctx.textAlign = left ? 'right' : 'left'; ctx.fillText(text, left ? px - 10 : px + 10, py);
          ctx.restore();
          spots.push({ x: px, y: py, text: m.model + ' ' + m.status + ' at ' + m.label + ': ' + m.reason });
        });
      },
      afterEvent: function (ch, args) {
        var e = args.event, hit = spots.find(function (s) { return Math.abs(s.x - e.x) <= 10 && Math.abs(s.y - e.y) <= 10; });
        ch.canvas.title = hit ? hit.text : '';
      }
    };
  }

  // Every panel's legend as tall as the tallest, so their plots stand level.
  function levelLegends(charts) {
    var h = Math.max.apply(null, charts.map(function (ch) { return ch.legend ? ch.legend.height : 0; }));
    charts.forEach(function (ch) {
      if (!ch.legend) return;
      var fit = ch.legend.fit.bind(ch.legend);
      ch.legend.fit = function () { fit(); ch.legend.height = Math.max(ch.legend.height, h); };
      ch.update();
    });
  }

  function panelChart(c, p) {
    var series = p.series.map(function (i) { return c.series[i]; });
    var models = series.map(function (s) { return s.model; });
    var marks = c.marks.filter(function (m) { return models.indexOf(m.model) >= 0; });
    var rows = Math.max.apply(null, c.panels.map(function (q) {
      var ms = q.series.map(function (i) { return c.series[i].model; });
      return c.marks.filter(function (m) { return ms.indexOf(m.model) >= 0; }).length;
    }));
    var datasets = series.map(lineSet);
    ['limit', 'failed'].forEach(function (status) {
      if (!marks.some(function (m) { return m.status === status; })) return;
      var color = status === 'limit' ? LIMIT : FAILED;
      datasets.push({ label: status, legendOnly: status, data: [], borderColor: color, backgroundColor: color, pointStyle: 'crossRot', pointRadius: 7, pointBorderWidth: 3, showLine: false });
    });
    var r = c.range || {}, numericX = c.labels.length === 0;
    return new Chart(document.getElementById(p.id), {
      type: numericX ? 'scatter' : 'line', plugins: [crosses(marks, c.labels)],
      data: numericX ? { datasets: datasets } : { labels: c.labels, datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, interaction: { mode: 'nearest', intersect: true },
        plugins: {
          title: { display: true, text: p.title, font: { size: 14 } },
          legend: { labels: { boxWidth: 10, font: { size: 11 }, filter: function (item) { var s = series[item.datasetIndex]; return !s || s.inLegend !== false; } } },
          tooltip: { callbacks: { label: function (ctx) {
            var v = ctx.parsed.y;
            return ctx.dataset.label + ': ' + (v === null ? 'n/a' : v.toLocaleString('en-US', { maximumFractionDigits: 2 })) + (numericX ? ' at ' + ctx.parsed.x.toLocaleString('en-US', { maximumFractionDigits: 0 }) + ' ops/s' : '');
          } } }
        },
        scales: {
          x: numericX ? { type: 'linear', beginAtZero: true, suggestedMax: c.xMax, title: { display: true, text: c.xTitle } } : { type: 'category', offset: true, title: { display: true, text: c.xTitle }, ticks: { padding: 4 + rows * ROW } },
          y: { type: c.yLog ? 'logarithmic' : 'linear', beginAtZero: !c.yLog, suggestedMin: r.min, suggestedMax: r.max, title: { display: true, text: c.yTitle }, afterFit: function (axis) { axis.width = 78; } }
        }
      }
    });
  }

  function singleChart(c, canvas) {
    var numericX = c.labels.length === 0, bar = c.kind === 'bar';
    var datasets = c.series.map(function (s) {
      if (bar && s.ideal) return { type: 'line', label: s.label, data: s.data, borderColor: '#111', backgroundColor: '#111', showLine: false, pointStyle: 'line', pointRadius: 0, pointHoverRadius: 0, borderWidth: 3, ideal: true };
      if (bar) return { type: 'bar', label: s.label, data: s.data, backgroundColor: s.colors || s.color, borderColor: '#333', borderWidth: 1 };
      return lineSet(s);
    });
    // A bar chart's limit and failed points have no value: they sit at the lowest value drawn, as crosses.
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
    return new Chart(canvas, {
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
  }

  data.charts.forEach(function (c) {
    var charts;
    if (c.panels) {
      charts = c.panels.filter(function (p) { return document.getElementById(p.id); }).map(function (p) { return panelChart(c, p); });
      levelLegends(charts);
    } else {
      var canvas = document.getElementById(c.id);
      charts = canvas ? [singleChart(c, canvas)] : [];
    }
    if (charts.length === 0) return;
    window.__figures.push({ id: c.id, title: c.title, first: window.__charts.length, panels: charts.length });
    charts.forEach(function (ch) { window.__charts.push(ch); });
    var button = document.getElementById(c.id + '-scale');
    if (button) button.addEventListener('click', function () {
      var log = charts[0].options.scales.y.type !== 'logarithmic';
      charts.forEach(function (ch) { var y = ch.options.scales.y; y.type = log ? 'logarithmic' : 'linear'; y.beginAtZero = !log; ch.update(); });
      button.textContent = log ? 'linear y axis' : 'log y axis';
    });
  });
})();
`;
