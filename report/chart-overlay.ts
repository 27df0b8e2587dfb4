// What Chart.js does not draw for us, over every chart: the white page, CI bars, the ideal's ticks
// over its bars, and a cross for every limit or failed point (a line chart's in the band kept free
// under its plot, so no height of theirs reads as data).
import type { Chart, Plugin } from 'chart.js';
import type { ChartSpec } from './charts.js';
import { FAILED_COLOR, FONT, LIMIT_COLOR, paintWhite } from './chart-style.js';

export const MARK_ROW_PX = 22;

/** Limit and failed points of a line chart: one row each in the band under its plot. */
export function markRows(spec: ChartSpec): number {
  return spec.series.reduce((n, s) => n + s.marks.filter((m) => m !== null).length, 0);
}

/** White background, CI bars, and a cross with a label for every limit/failed point. */
export function overlay(spec: ChartSpec): Plugin<'line'> {
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
      // A line chart's crosses go in the band kept free under the plot (MARK_ROW_PX a row): no height there reads as data.
      ctx.restore();
      ctx.save();
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
          const py = area.bottom + MARK_ROW_PX / 2 + 4 + row++ * MARK_ROW_PX;
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


/** Stretches the legend's box to `px`, so panels with fewer legend rows keep their plots level with the rest. */
export function legendAtLeast<T extends 'line' | 'scatter'>(px: number): Plugin<T> {
  return {
    id: 'legendAtLeast',
    beforeInit(chart) {
      const legend = chart.legend as unknown as { fit: () => void; height: number } | undefined;
      if (!legend) return;
      const fit = legend.fit.bind(legend);
      legend.fit = () => { fit(); legend.height = Math.max(legend.height, px); };
    },
  };
}


/** A panel's y axis, px: every panel's as wide as the others', so the plot areas line up across a row. */
export const PANEL_Y_AXIS_PX = 104;
