// Small multiples on a run of thirty models: every line chart splits into family panels, each with
// the C reference, none drawing more lines than a reader can tell apart, all on one y range.
import { describe, expect, it } from 'vitest';
import { chartConfig } from '../../report/chart-render.js';
import { chartSpecs, type ChartSpec } from '../../report/charts.js';
import { pageCharts } from '../../report/html-charts.js';
import { MAX_LINES_PER_PANEL, panelOf, panelsOf, sharedRange } from '../../report/panels.js';
import { scenarioChartSpecs } from '../../report/scenario-charts.js';
import { MODELS } from '../../schema/catalog.js';
import type { Family, Results } from '../../schema/results.js';
import { buildResults } from '../helpers/results-builder.js';

const PYTHON = ['py-threading', 'py-threadpool', 'py-multiprocessing', 'py-selectors', 'py-asyncio', 'py-gevent', 'py-tornado', 'py-twisted', 'py-aiohttp', 'py-rq'];

/** Every built-in model, the ten Python programs and nginx: steady at 1 and 64 on both protocols, with PSS, and a payload sweep. */
function thirtyModels(): Results {
  const models: { name: string; family: Family }[] = [...MODELS.map((m) => ({ name: m.name, family: m.family })), ...PYTHON.map((name) => ({ name, family: 'external' as Family })), { name: 'nginx', family: 'external' }];
  const r = buildResults(models.flatMap((m, k) => (['echo', 'http'] as const).flatMap((protocol) => [1, 64].map((concurrency) => ({
    model: m.name, family: m.family, protocol, concurrency, opsPerSec: [1000 * (k + 1) * (concurrency === 1 ? 1 : 3)],
    ...(m.name === 'thread-pool' && concurrency === 64 ? { status: 'limit' as const } : {}),
  })))));
  r.cells.forEach((c, i) => Object.assign(c.server, { pssPeakBytes: (20 + i) * 2 ** 20, processesPeak: c.model.includes('process') ? c.concurrency : 1 }));
  // payload: the same models at three sizes, lines against the size.
  const payload = r.cells.filter((c) => c.concurrency === 64 && c.protocol === 'http').flatMap((c) => [64, 4096, 65536].map((size) => ({ ...c, scenario: 'payload' as const, payloadBytes: size })));
  r.cells.push(...payload);
  r.settings.externalModels = [
    ...PYTHON.map((name) => ({ name, family: 'external' as Family, command: ['/usr/bin/python3', `${name.slice(3)}_server.py`, '{port}'], protocols: ['echo' as const, 'http' as const], shell: false, version: null })),
    { name: 'nginx', family: 'external', command: ['sh', 'nginx.sh', '{port}'], protocols: ['http'], shell: false, version: null },
  ];
  return r;
}

const lineCharts = (r: Results): ChartSpec[] => [...chartSpecs(r), ...scenarioChartSpecs(r)].filter((s) => s.kind !== 'bar');

describe('panelOf', () => {
  it('puts each model in its family\'s panel, the C ceilings beside their designs, and the Python programs apart from other external ones', () => {
    const r = thirtyModels();
    const of = (model: string, family: Family) => panelOf(r, model, family);
    expect(of('async', 'async')).toBe('event loops');
    expect(of('busy-poll', 'nonblocking-poll')).toBe('selectors');
    expect(of('epoll', 'selector')).toBe('selectors');
    expect(of('thread-pool', 'worker-thread')).toBe('threads');
    expect(of('native-threads', 'native')).toBe('threads');
    expect(of('prefork', 'per-process')).toBe('processes');
    expect(of('native-fork', 'native')).toBe('processes');
    expect(of('native-io-uring', 'native')).toBe('completion');
    expect(of('py-gevent', 'external')).toBe('Python');
    expect(of('nginx', 'external')).toBe('external');
    expect(of('native-epoll', 'native')).toBeNull();
  });
});

describe('panelsOf on thirty models', () => {
  const r = thirtyModels();
  const charts = lineCharts(r);

  it(`draws no panel with more than ${MAX_LINES_PER_PANEL} lines, in every line chart, the reference in each`, () => {
    expect(charts.map((c) => c.file)).toContain('echo-threads-processes.png');
    expect(charts.map((c) => c.file)).toContain('http-payload-bytes-per-second.png');
    for (const spec of charts) {
      const panels = panelsOf(spec);
      expect(panels.length).toBeGreaterThan(1);
      for (const p of panels) {
        expect(p.series.length, `${spec.file}: ${p.title}`).toBeLessThanOrEqual(MAX_LINES_PER_PANEL);
        expect(p.series.filter((s) => s.model === 'native-epoll').every((s) => s.dash.length > 0)).toBe(true);
        expect(p.series.some((s) => s.model === 'native-epoll'), `${spec.file}: ${p.title}`).toBe(true);
      }
      // Every model is drawn once, the reference once per panel.
      const drawn = panels.flatMap((p) => p.series.filter((s) => s.model !== 'native-epoll'));
      expect(drawn.length).toBe(spec.series.filter((s) => s.model !== 'native-epoll').length);
    }
  });

  it('splits a family over the budget into numbered panels, a model\'s lines kept together', () => {
    const t = panelsOf(charts.find((c) => c.file === 'http-throughput.png')!);
    expect(t.map((p) => p.title)).toEqual(['event loops', 'selectors', 'threads', 'processes', 'completion', 'Python (1 of 2)', 'Python (2 of 2)', 'external']);
    const tp = panelsOf(charts.find((c) => c.file === 'echo-threads-processes.png')!);
    for (const p of tp) {
      const models = p.series.map((s) => s.model);
      for (const m of new Set(models)) expect(models.filter((x) => x === m), `${p.title}: ${m}`).toHaveLength(2); // threads and processes
    }
  });

  it('gives every panel the same y range, the whole chart\'s', () => {
    const spec = charts.find((c) => c.file === 'echo-pss.png')!;
    const range = sharedRange(spec)!;
    const all = spec.series.flatMap((s) => s.values).filter((v): v is number => v !== null);
    expect(range).toEqual({ min: Math.min(...all), max: Math.max(...all) });
    for (const p of panelsOf(spec)) {
      const y = chartConfig({ ...spec, series: p.series }, { range, xTitle: true, yTitle: true, markRows: 1 }).options!.scales!.y as { suggestedMin: number; suggestedMax: number };
      expect([y.suggestedMin, y.suggestedMax]).toEqual([range.min, range.max]);
    }
  });

  it('the page draws the same panels, and keeps each limit with its model\'s panel', () => {
    const page = pageCharts(r).filter((c) => c.panels);
    expect(page.length).toBe(charts.length);
    for (const c of page) for (const p of c.panels!) expect(p.series.length).toBeLessThanOrEqual(MAX_LINES_PER_PANEL);
    const echo = page.find((c) => c.title.startsWith('echo: throughput'))!;
    expect(echo.marks).toEqual([expect.objectContaining({ model: 'thread-pool', status: 'limit', label: '64' })]);
    const threads = echo.panels!.find((p) => p.title === 'threads')!;
    expect(threads.series.map((i) => echo.series[i]!.model)).toContain('thread-pool');
    // A y title too long for a panel's side: the short form there, the whole in the notes.
    const tp = page.find((c) => c.title.startsWith('echo: peak threads'))!;
    expect(tp.yTitle).toBe('Peak count');
    expect(tp.subtitle.at(-1)).toBe('y axis: Peak count (threads ● solid, processes ▲ dotted)');
  });
});
