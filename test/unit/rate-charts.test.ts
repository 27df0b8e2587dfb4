import { describe, expect, it } from 'vitest';
import { rateAxes, rateChartConfig, rateChartSpecs } from '../../report/rate-charts.js';
import { panelLines } from '../../report/panels.js';
import { pageCharts } from '../../report/html-charts.js';
import { openLoopSections, renderMarkdown } from '../../report/report.js';
import { chartSpecs } from '../../report/charts.js';
import type { Cell, Results } from '../../schema/results.js';
import { buildResults } from '../helpers/results-builder.js';

/** epoll and async at 16 connections: a closed-loop cell, then sweep cells at 50% and 100% of it. */
function sweepRun(): Results {
  const r = buildResults([
    { model: 'epoll', concurrency: 16, opsPerSec: [100_000] },
    { model: 'async', concurrency: 16, opsPerSec: [50_000] },
  ]);
  const open = (model: string, fraction: number, achieved: number, p99: number, shortfall: boolean): Cell => {
    const base = r.cells.find((c) => c.model === model)!;
    const target = Math.round(base.opsPerSec * fraction);
    return {
      ...base, rate: target, sweepFraction: fraction, opsPerSec: achieved, ops: achieved * base.durationS,
      latencyUs: { ...base.latencyUs, p99 }, latencyUncorrectedUs: { ...base.latencyUs, p99: p99 / 10 },
      rateShortfall: shortfall ? { targetOpsPerSec: target, achievedOpsPerSec: achieved } : null,
      client: { ...base.client, sendLagUs: { p50: 3, p99: Math.round(p99 / 7), max: p99 }, sendBatchUs: fraction >= 1 ? 50 : 0 },
    };
  };
  r.cells.push(open('epoll', 1, 80_000, 40_000, true), open('epoll', 0.5, 50_000, 300, false), open('async', 0.5, 25_000, 500, false), open('async', 1, 49_800, 2_000, false));
  r.settings.rates = 'sweep';
  r.settings.sweepFractions = [0.5, 1];
  return r;
}

describe('latency vs achieved rate', () => {
  it('draws one chart per concurrency with a line per model in order of achieved rate', () => {
    const specs = rateChartSpecs(sweepRun());
    expect(specs.map((s) => s.file)).toEqual(['echo-latency-vs-rate-c16.png']);
    const [spec] = specs;
    expect(spec!.yUnit).toBe('ms'); // 40,000 µs is shown in ms
    const epoll = spec!.series.find((s) => s.model === 'epoll')!;
    expect(epoll.points.map((p) => [p.x, p.y, p.shortfall])).toEqual([[50_000, 0.3, false], [80_000, 40, true]]);
    expect(spec!.series.find((s) => s.model === 'async')!.points.map((p) => p.x)).toEqual([25_000, 49_800]);
    const config = rateChartConfig(spec!);
    expect(config.data.datasets).toHaveLength(2);
    expect(config.data.datasets[0]!.pointStyle).toEqual(['circle', 'triangle']);
  });

  it('keeps open-loop cells out of the charts and tables against concurrency', () => {
    const r = sweepRun();
    const throughput = chartSpecs(r).find((s) => s.metric === 'throughput')!;
    expect(throughput.series.find((s) => s.model === 'epoll')!.values).toEqual([100_000]);
    const md = renderMarkdown(r, []);
    expect(md).toContain('### echo (open loop; measured by native client, 1 thread)');
    expect(md).toMatch(/\| epoll \| 16 \| 100% of closed loop \(100,000\/s\) \| 80,000 \| .* RATE SHORTFALL: 80,000 of 100,000\/s \|/);
    expect(md).toContain('echo at concurrency 16 at 100,000 ops/s, repetition 1: rate shortfall: achieved 80,000 of the 100,000 ops/s asked for');
    expect(openLoopSections(r)[0]!.rows).toHaveLength(4);
  });

  it('splits by family like every line chart: epoll among the selectors, async among the event loops, both axes shared', () => {
    const r = sweepRun();
    for (const c of r.cells) if (c.model === 'epoll') c.family = 'selector';
    const [spec] = rateChartSpecs(r);
    const panels = panelLines(spec!.series);
    expect(panels.map((p) => [p.title, p.series.map((s) => s.model)])).toEqual([['event loops', ['async']], ['selectors', ['epoll']]]);
    const axes = rateAxes(spec!);
    expect(axes).toEqual({ xMax: 80_000, yMin: 0.3, yMax: 40, yLog: true });
    for (const p of panels) {
      const scales = rateChartConfig({ ...spec!, series: p.series }, axes).options!.scales!;
      expect(scales.x).toMatchObject({ suggestedMax: 80_000 });
      expect(scales.y).toMatchObject({ type: 'logarithmic', suggestedMin: 0.3, suggestedMax: 40 });
    }
    // The page draws the same panels.
    const page = pageCharts(r).find((c) => c.id.startsWith('rate-chart-'))!;
    expect(page.panels!.map((p) => p.title)).toEqual(['event loops', 'selectors']);
    expect(page.xMax).toBe(80_000);
  });

  it("shows the client's send lag p99 beside the corrected and uncorrected latency, and a dash for a file without it", () => {
    const r = sweepRun();
    const [section] = openLoopSections(r);
    const col = section!.columns.indexOf('client send lag p99 (µs)');
    expect(col).toBeGreaterThan(section!.columns.indexOf('p99 uncorrected (µs)'));
    const epoll50 = section!.rows.find((row) => row[0] === 'epoll' && row[2]!.startsWith('50%'))!;
    expect(epoll50[col]).toBe('43'); // 300 / 7
    for (const c of r.cells) delete c.client.sendLagUs; // a file from before the field
    expect(openLoopSections(r)[0]!.rows.every((row) => row[col] === '–')).toBe(true);
  });

  it('shows the gap the client kept between batches of sends beside its send lag, and a dash for a file without it', () => {
    const r = sweepRun();
    const [section] = openLoopSections(r);
    const col = section!.columns.indexOf('client send gap (µs)');
    expect(col).toBe(section!.columns.indexOf('client send lag p99 (µs)') + 1);
    const row = (fraction: string) => section!.rows.find((x) => x[0] === 'epoll' && x[2]!.startsWith(fraction))!;
    expect(row('50%')[col]).toBe('0');
    expect(row('100%')[col]).toBe('50');
    for (const c of r.cells) delete c.client.sendBatchUs; // schema 8
    expect(openLoopSections(r)[0]!.rows.every((x) => x[col] === '–')).toBe(true);
  });

  it('draws nothing for a closed-loop run', () => {
    expect(rateChartSpecs(buildResults([{ model: 'epoll', opsPerSec: [1] }]))).toEqual([]);
  });
});
