import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImage } from '@napi-rs/canvas';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { groupCells } from '../../report/aggregate.js';
import { chartConfig, renderCharts } from '../../report/chart-render.js';
import { panelGrid } from '../../report/panel-render.js';
import { chartSpecs, modelColor, type ChartSpec } from '../../report/charts.js';
import { scenarioChartSpecs } from '../../report/scenario-charts.js';
import { type Results } from '../../schema/results.js';
import { readResults } from '../../schema/read-results.js';
import { buildResults } from '../helpers/results-builder.js';

const FIXTURE = new URL('../fixtures/results-small.json', import.meta.url).pathname;
const load = (): Results => readResults(FIXTURE);
const spec = (specs: ChartSpec[], file: string): ChartSpec => {
  const s = specs.find((x) => x.file === file);
  if (!s) throw new Error(`no chart ${file}; have ${specs.map((x) => x.file).join(', ')}`);
  return s;
};

describe('groupCells', () => {
  it('puts repetitions together and takes the worst status only when none is ok', () => {
    const points = groupCells(load().cells);
    const asyncEcho1 = points.find((p) => p.model === 'async' && p.protocol === 'echo' && p.concurrency === 1)!;
    expect(asyncEcho1.cells.map((c) => c.repetition)).toEqual([1, 2]);
    expect(asyncEcho1.status).toBe('ok');
    expect(points.find((p) => p.model === 'select' && p.protocol === 'http' && p.concurrency === 2000)!.status).toBe('failed');
  });
});

describe('chartSpecs', () => {
  const specs = chartSpecs(load());

  it('makes one chart per protocol per metric, with PSS and threads charts when PSS was measured', () => {
    expect(specs.map((s) => s.file)).toEqual([
      'echo-throughput.png', 'echo-latency-p99.png', 'echo-rss.png', 'echo-cpu-per-1k-ops.png', 'echo-pss.png', 'echo-threads-processes.png',
      'http-throughput.png', 'http-latency-p99.png', 'http-rss.png', 'http-cpu-per-1k-ops.png', 'http-pss.png', 'http-threads-processes.png',
    ]);
  });

  it('leaves out the PSS and threads charts when no cell has PSS', () => {
    const r = load();
    for (const c of r.cells) delete c.server.pssPeakBytes;
    const files = chartSpecs(r).map((s) => s.file);
    expect(files).not.toContain('echo-pss.png');
    expect(files).not.toContain('http-threads-processes.png');
    expect(files).toContain('http-throughput.png');
  });

  it('has one dataset per model, in settings order, with medians in concurrency order', () => {
    const t = spec(specs, 'echo-throughput.png');
    expect(t.labels).toEqual(['1', '2000']);
    expect(t.series.map((s) => s.label)).toEqual(['async', 'select']);
    expect(t.series[0]!.values).toEqual([11000, 42000]);
    expect(t.series[1]!.values).toEqual([9000, null]);
    expect(t.series[0]!.ci[0]).toEqual({ lo: 10000, hi: 12000, level: 0.5 });
    expect(t.series[1]!.ci[0]).toBeNull(); // one repetition: no interval
    expect(t.xTitle).toMatch(/Concurrency/);
    expect(t.yTitle).toBe('Throughput (ops/s)');
    expect(t.yLog).toBe(false);
  });

  it('marks limit and failed cells at their concurrency and lists them in the subtitle', () => {
    const echo = spec(specs, 'echo-throughput.png');
    expect(echo.series[1]!.marks[0]).toBeNull();
    expect(echo.series[1]!.marks[1]).toEqual({ status: 'limit', reason: 'concurrency 2000 exceeds FD_SETSIZE (1024)' });
    expect(echo.subtitle.join('\n')).toContain('select: limit at 2000 (concurrency 2000 exceeds FD_SETSIZE (1024))');
    expect(echo.subtitle.join('\n')).toContain('○ hollow point: the load generator was saturated there');
    expect(echo.series.find((s) => s.model === 'async')!.saturated).toEqual([false, true]);
    expect(echo.subtitle[0]).toContain('bars: CI of the median (coverage 50%)');
    const http = spec(specs, 'http-rss.png');
    expect(http.series[1]!.marks[1]?.status).toBe('failed');
    expect(http.series[0]!.marks.every((m) => m === null)).toBe(true);
  });

  it('adds legend entries for the limit and failed crosses', () => {
    const labels = (file: string) => chartConfig(spec(specs, file)).data.datasets.map((d) => d.label);
    expect(labels('echo-throughput.png')).toEqual(['async', 'select', 'limit']);
    expect(labels('http-throughput.png')).toEqual(['async', 'select', 'failed']);
  });

  it('switches p99 latency to ms on a log axis when the range is wide', () => {
    const l = spec(specs, 'echo-latency-p99.png');
    expect(l.yTitle).toBe('p99 latency (ms), log scale');
    expect(l.yLog).toBe(true);
    expect(l.series[0]!.values).toEqual([0.19, 28]);
    expect(chartConfig(l).options?.scales?.y?.type).toBe('logarithmic');
  });

  it('computes server CPU seconds per 1,000 operations, RSS in MiB, threads and processes', () => {
    const cpu = spec(specs, 'echo-cpu-per-1k-ops.png').series[0]!.values[0]!;
    expect(cpu).toBeCloseTo(((2 + 1.5) / 50000 * 1000 + (2.2 + 1.3) / 60000 * 1000) / 2, 10);
    expect(spec(specs, 'echo-rss.png').series[1]!.values).toEqual([45, null]);
    const tp = spec(specs, 'http-threads-processes.png');
    expect(tp.series.map((s) => s.label)).toEqual(['async', 'async processes', 'select', 'select processes']);
    expect(tp.series.map((s) => s.inLegend)).toEqual([true, false, true, false]);
    expect(tp.series[0]!.values).toEqual([7, 7]);
    expect(tp.series[3]!.values).toEqual([1, null]);
  });

  it('draws native-epoll dashed and gives each model a fixed, distinct colour', () => {
    const r = load();
    for (const c of r.cells) if (c.model === 'select') Object.assign(c, { model: 'native-epoll', family: 'native' });
    r.settings.models = ['async', 'native-epoll'];
    const [a, n] = spec(chartSpecs(r), 'echo-throughput.png').series;
    expect(a!.dash).toEqual([]);
    expect(n!.dash.length).toBeGreaterThan(0);
    expect(n!.label).toContain('native-epoll');
    expect(a!.color).not.toBe(n!.color);
  });

  // "Fixed" is what lets a reader match a line across charts and runs: a colour handed out by
  // position in the run, or in order of first use, would give a model another colour elsewhere.
  it('gives a model without a fixed colour the same one whichever models share the run, in any order', async () => {
    const colours = (models: [string, string]): Record<string, string> => {
      const r = load();
      for (const c of r.cells) Object.assign(c, { model: c.model === 'async' ? models[0] : models[1], family: 'external' });
      r.settings.models = [...models];
      return Object.fromEntries(spec(chartSpecs(r), 'echo-throughput.png').series.map((x) => [x.model, x.color]));
    };
    const first = colours(['some-new-model', 'another-model']);
    expect(first['some-new-model']).not.toBe(first['another-model']);
    expect(colours(['another-model', 'some-new-model'])).toEqual(first);
    expect(colours(['some-new-model', 'a-third-model'])['some-new-model']).toBe(first['some-new-model']);
    // A process that has coloured nothing yet, asked in the other order, as the next run is.
    vi.resetModules();
    const fresh = (await import('../../report/chart-style.js')).modelColor;
    expect(fresh('another-model', 'external')).toBe(first['another-model']);
    expect(fresh('some-new-model', 'external')).toBe(first['some-new-model']);
  });
});

describe('renderCharts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'charts-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a PNG per chart: a line chart as its panels side by side, as wide as the grid', async () => {
    const files = await renderCharts(load(), dir);
    expect(files).toHaveLength(12);
    expect(files[0]).toBe(join(dir, 'echo-throughput.png'));
    const bytes = readFileSync(files[0]!);
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    // async (event loops) and select (selectors): two panels, side by side.
    const grid = panelGrid(2);
    expect(bytes.readUInt32BE(16)).toBe(grid.width); // IHDR width
    expect(bytes.readUInt32BE(20)).toBeGreaterThan(grid.panelHeight); // the title and notes above one row of panels
    const img = await loadImage(readFileSync(files[6]!));
    expect(img.width).toBe(grid.width);
  });
});

describe('modelColor', () => {
  it('gives every model one colour, and models of a family related ones', async () => {
    const { modelColor } = await import('../../report/chart-style.js');
    expect(modelColor('epoll', 'selector')).toBe(modelColor('epoll'));
    const hue = (c: string): number => Number(/^hsl\((\d+)/.exec(c)![1]);
    for (const name of ['py-threading', 'py-asyncio', 'nginx', 'mine']) {
      expect(hue(modelColor(name, 'external'))).toBeGreaterThanOrEqual(165);
      expect(hue(modelColor(name, 'external'))).toBeLessThan(190);
    }
    // Related, yet each its own line.
    const shades = ['py-threading', 'py-asyncio', 'nginx', 'mine'].map((name) => modelColor(name, 'external'));
    expect(new Set(shades).size).toBe(shades.length);
  });
});

describe('the pool-size charts', () => {
  /** io-wait cells on PostgreSQL at 32 connections, pooled, one per (model, pool size). */
  function poolRun(sizes: number[]): Results {
    const r = buildResults(['epoll', 'async'].flatMap((model) => sizes.map((size) => ({ model, protocol: 'http' as const, concurrency: 32, opsPerSec: [size * (model === 'epoll' ? 100 : 90)], p99: [100_000 / size] }))));
    let k = 0;
    for (const model of ['epoll', 'async']) for (const size of sizes) Object.assign(r.cells[k++]!, { model, scenario: 'io-wait', backend: 'postgres', backendConnections: 'pooled', dbPool: size });
    return r;
  }

  it('with several pool sizes: throughput and p99 against the size, a line per model', () => {
    const specs = scenarioChartSpecs(poolRun([2, 8, 32]));
    const t = spec(specs, 'http-io-wait-pool-throughput.png');
    expect(t.labels).toEqual(['2', '8', '32']);
    expect(t.series.map((x) => x.label).sort()).toEqual(['async', 'epoll']);
    expect(t.series.find((x) => x.label === 'epoll')!.values).toEqual([200, 800, 3200]);
    expect(spec(specs, 'http-io-wait-pool-p99.png').series.find((x) => x.label === 'async')!.values).toEqual([50_000, 12_500, 3125]);
  });

  it('with one pool size there is nothing to sweep, and no such chart', () => {
    expect(scenarioChartSpecs(poolRun([32])).map((x) => x.file)).not.toContain('http-io-wait-pool-throughput.png');
  });
});

describe('scenarioChartSpecs', () => {
  const r = readResults(new URL('../fixtures/results-scenarios.json', import.meta.url).pathname);
  const specs = scenarioChartSpecs(r);

  it('draws one chart per question, and leaves those scenarios out of the lines against concurrency', () => {
    expect(specs.map((s) => s.file).sort()).toEqual([
      'echo-payload-bytes-per-second.png', 'http-churn-connect-by-model.png', 'http-churn-throughput-by-model.png',
      'http-cpu-p99-by-model.png', 'http-cpu-throughput-by-model.png', 'http-io-wait-vs-ideal.png', 'http-payload-bytes-per-second.png',
    ]);
    expect(chartSpecs(r)).toEqual([]);
  });

  it('io-wait: a bar per backend mode and concurrency, each followed by its ideal; limits as crosses', () => {
    const s = spec(specs, 'http-io-wait-vs-ideal.png');
    expect(s.kind).toBe('bar');
    expect(s.labels).toEqual(['async', 'epoll', 'thread-pool', 'thread-per-connection', 'native-epoll']);
    expect(s.series.map((x) => `${x.label}${x.ideal ? ' (ideal)' : ''}`)).toEqual([
      'service pooled, 4 connections', 'ideal (ideal)', 'service pooled, 64 connections', 'ideal (ideal)', 'service per-request, 64 connections', 'ideal (ideal)',
    ]);
    const [pooled4, ideal4, pooled64, ideal64] = s.series;
    expect(ideal4!.values.slice(0, 4)).toEqual([400, 400, 400, 400]);
    expect(ideal64!.values[0]).toBe(6400);
    expect(ideal64!.values[2]).toBe(400); // thread-pool's 4 workers, even where it is a limit
    expect(pooled64!.marks[2]?.status).toBe('limit');
    expect(pooled4!.marks[4]?.reason).toMatch(/C ceilings/);
    // Each bar in its model's colour, lighter for the next group.
    expect(pooled4!.colors![0]).toBe(modelColor('async'));
    expect(pooled64!.colors![0]).not.toBe(pooled4!.colors![0]);
  });

  it('cpu says where each side ran; payload plots MiB/s against the size', () => {
    expect(spec(specs, 'http-cpu-throughput-by-model.png').subtitle[0]).toMatch(/the server had every CPU \(0,1\) and the client CPU 0/);
    const p = spec(specs, 'echo-payload-bytes-per-second.png');
    expect(p.labels).toEqual(['64 B', '4 KiB', '64 KiB']);
    const epoll = p.series.find((x) => x.model === 'epoll')!;
    expect(epoll.values[2]!).toBeGreaterThan(epoll.values[0]!);
  });
});
