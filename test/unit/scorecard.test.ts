// The scorecard on synthetic results: which setting each column takes, fractions of the best in
// both directions, limits, gaps and whole columns not measured, and where it stands in the reports.
import { describe, expect, it } from 'vitest';
import { cellText, MEMORY_FLOOR_BYTES, scorecard, type ColumnId, type Scorecard } from '../../report/scorecard.js';
import { heatColor, scorecardHtml, scorecardMarkdown } from '../../report/scorecard-render.js';
import { renderHtml, renderMarkdown, escapeHtml } from '../../report/report.js';
import type { Cell, Results } from '../../schema/results.js';
import { buildResults, type CellSpec } from '../helpers/results-builder.js';

type Extra = Partial<Pick<Cell, 'scenario' | 'backend' | 'backendConnections' | 'dbPool' | 'reason'>> & { pss?: number };
type Spec = CellSpec & Extra;

/** Cells with their scenario, backend and PSS set after building. */
function run(specs: Spec[]): Results {
  const r = buildResults(specs);
  let k = 0;
  for (const spec of specs) {
    for (let i = 0; i < spec.opsPerSec.length; i++) {
      const c = r.cells[k++]!;
      const { scenario, backend, backendConnections, dbPool, reason, pss } = spec;
      Object.assign(c, scenario ? { scenario } : {}, backend ? { backend, backendConnections: backendConnections ?? 'pooled' } : {}, dbPool ? { dbPool } : {}, reason && c.status !== 'ok' ? { reason } : {});
      if (pss !== undefined) c.server.pssPeakBytes = pss;
    }
  }
  return r;
}

const col = (card: Scorecard, id: ColumnId) => {
  const i = card.columns.findIndex((c) => c.id === id);
  return { column: card.columns[i]!, cell: (model: string) => card.rows.find((r) => r.model === model)!.cells[i]! };
};

describe('scorecard', () => {
  it('takes every model at the setting with the most models, then the most connections, as a fraction of the best', () => {
    const r = run([
      { model: 'epoll', family: 'selector', concurrency: 1, opsPerSec: [10_000] },
      { model: 'epoll', family: 'selector', concurrency: 64, opsPerSec: [40_000] },
      { model: 'async', concurrency: 1, opsPerSec: [12_000] },
      { model: 'async', concurrency: 64, opsPerSec: [30_000] },
      // poll at 64 only and select's limit there make 64 the setting with the most models.
      { model: 'poll', family: 'selector', concurrency: 64, opsPerSec: [20_000] },
      { model: 'select', family: 'selector', concurrency: 1, opsPerSec: [11_000] },
    ]);
    r.cells.push({ ...r.cells.find((c) => c.model === 'select')!, concurrency: 64, status: 'limit', reason: 'cannot watch descriptors at or above FD_SETSIZE' });
    const { column, cell } = col(scorecard(r), 'steady-echo');
    expect(column.setting).toBe('echo, 64 connections');
    expect(column.best).toEqual({ model: 'epoll', shown: '40,000/s' });
    expect(cell('epoll').fraction).toBe(1);
    expect(cell('epoll').best).toBe(true);
    expect(cell('async').fraction).toBe(0.75);
    expect(cellText(cell('async'))).toBe('75%');
    expect(cell('poll').fraction).toBe(0.5);
    expect(cell('select')).toMatchObject({ status: 'limit', reason: 'cannot watch descriptors at or above FD_SETSIZE', fraction: null });
    expect(cellText(cell('select'))).toBe('limit');
  });

  it('shows a model with no cell at the column\'s setting as —, and a column nobody measured as not measured', () => {
    const r = run([
      { model: 'epoll', family: 'selector', concurrency: 64, opsPerSec: [40_000] },
      { model: 'async', concurrency: 64, opsPerSec: [30_000] },
      { model: 'node-http', protocol: 'http', concurrency: 64, opsPerSec: [20_000] },
    ]);
    const card = scorecard(r);
    expect(cellText(col(card, 'steady-echo').cell('node-http'))).toBe('—');
    const c1000 = col(card, 'io-wait-1000');
    expect(c1000.column.setting).toBeNull();
    expect(c1000.column.best).toBeNull();
    expect(card.rows.map((row) => cellText(c1000.cell(row.model)))).toEqual(['—', '—', '—']);
    const md = scorecardMarkdown(r, (s) => s).join('\n');
    expect(md).toContain('waiting on 1,000 connections (not measured)');
    expect(md).toContain('- waiting on 1,000 connections: not measured in this run');
    expect(scorecardHtml(r, escapeHtml)).toMatch(/<th data-column="io-wait-1000"[^>]*>waiting on 1,000 connections<small>not measured<\/small><\/th>/);
  });

  it('waits on the database before the stand-in service, with no pool smaller than the connections; 1,000 waits on anything', () => {
    const io = (model: string, ops: number, extra: Extra & { concurrency?: number }): Spec => ({ model, protocol: 'http', concurrency: 64, opsPerSec: [ops], scenario: 'io-wait', ...extra });
    const r = run([
      // The service at more connections: the database still comes first, as many models measured there.
      io('epoll', 6000, { backend: 'service', concurrency: 256 }), io('async', 5000, { backend: 'service', concurrency: 256 }),
      io('epoll', 900, { backend: 'postgres' }), io('async', 800, { backend: 'postgres' }),
      // A pool of 4 at 64 connections answers another question (how big a pool should be).
      io('epoll', 5000, { backend: 'postgres', dbPool: 4 }), io('async', 99_999, { backend: 'postgres', dbPool: 4 }),
      io('epoll', 24_000, { backend: 'service', concurrency: 1000 }), io('async', 9000, { backend: 'service', concurrency: 1000 }),
    ]);
    const card = scorecard(r);
    const db = col(card, 'io-wait-db');
    expect(db.column.setting).toBe('http, postgres pooled, 64 connections');
    expect(db.cell('async').figure).toBe(800);
    expect(db.column.best!.model).toBe('epoll');
    const c1000 = col(card, 'io-wait-1000');
    expect(c1000.column.setting).toBe('http, service pooled, 1,000 connections');
    expect(c1000.cell('async').fraction).toBeCloseTo(9000 / 24_000, 10);
  });

  it('memory: growth per connection over the same two concurrencies for every model, lower is better, floored at a page', () => {
    const MiB = 2 ** 20;
    const r = run([
      { model: 'epoll', family: 'selector', concurrency: 1, opsPerSec: [1], pss: 20 * MiB },
      { model: 'epoll', family: 'selector', concurrency: 101, opsPerSec: [1], pss: 20 * MiB + 100 * 1024 }, // 1 KiB each: under the floor
      { model: 'async', concurrency: 1, opsPerSec: [1], pss: 30 * MiB },
      { model: 'async', concurrency: 101, opsPerSec: [1], pss: 30 * MiB + 100 * 16 * 1024 }, // 16 KiB each
      { model: 'thread-per-connection', family: 'worker-thread', concurrency: 1, opsPerSec: [1], pss: 40 * MiB },
      { model: 'thread-per-connection', family: 'worker-thread', concurrency: 101, opsPerSec: [1], pss: 40 * MiB + 100 * MiB }, // 1 MiB each
      { model: 'prefork', family: 'per-process', concurrency: 1, opsPerSec: [1], pss: 40 * MiB },
      { model: 'prefork', family: 'per-process', concurrency: 101, opsPerSec: [1], status: 'limit', reason: 'serves at most 4 connections at once' },
    ]);
    const { column, cell } = col(scorecard(r), 'memory');
    expect(column.setting).toBe('echo, 1 to 101 connections');
    expect(column.figure).toMatch(/^PSS growth per connection added, lower is better/);
    expect(column.higherIsBetter).toBe(false);
    expect(cell('epoll')).toMatchObject({ figure: MEMORY_FLOOR_BYTES, fraction: 1, shown: '< 4 KiB', best: true });
    expect(cell('async').shown).toBe('16.0 KiB');
    expect(cell('async').fraction).toBeCloseTo(4 / 16, 10);
    expect(cell('thread-per-connection').fraction).toBeCloseTo(4 / 1024, 10);
    expect(cellText(cell('thread-per-connection'))).toBe('<1%');
    expect(cell('prefork')).toMatchObject({ status: 'limit', reason: 'serves at most 4 connections at once' });
  });

  it('marks a figure taken with a saturated load generator', () => {
    const r = run([
      { model: 'epoll', family: 'selector', opsPerSec: [40_000], saturated: true },
      { model: 'async', opsPerSec: [20_000] },
    ]);
    const { cell } = col(scorecard(r), 'steady-echo');
    expect(cell('epoll').saturated).toBe(true);
    expect(cellText(cell('epoll'))).toBe('100% ○');
    expect(cell('async').saturated).toBeUndefined();
  });

  it('colours a better fraction darker, and prints light text on the dark end', () => {
    const light = (f: number): number => Number(/(\d+)%\)$/.exec(heatColor(f).background)![1]);
    expect(light(1)).toBeLessThan(light(0.5));
    expect(light(0.5)).toBeLessThan(light(0));
    expect(heatColor(1).color).toBe('#ffffff');
    expect(heatColor(0).color).toBe('#111111');
  });

  it('opens report.md and report.html, before the findings, with the best named and a limit\'s reason on hover', () => {
    const r = run([
      { model: 'epoll', family: 'selector', opsPerSec: [40_000] },
      { model: 'thread-pool', family: 'worker-thread', opsPerSec: [1], status: 'limit', reason: 'serves at most 4 connections at once' },
    ]);
    const md = renderMarkdown(r, []);
    expect(md.indexOf('## The answer at a glance')).toBeGreaterThan(0);
    expect(md.indexOf('## The answer at a glance')).toBeLessThan(md.indexOf('## Findings'));
    expect(md).toContain('| epoll | **100%** |');
    expect(md).toContain('| **best** | epoll |');
    expect(md).toContain('- thread-pool in steady echo: limit: serves at most 4 connections at once');
    const html = renderHtml(r);
    expect(html.indexOf('<h2 id="scorecard">')).toBeLessThan(html.indexOf('<h2>Findings</h2>'));
    expect(html).toMatch(/<td class="limit" title="thread-pool: limit at echo, 64 connections: serves at most 4 connections at once">limit<\/td>/);
    expect(html).toMatch(/<td class="heat best" data-fraction="1.0000" style="background:hsl\(140, 45%, 26%\);color:#ffffff"/);
  });
});
