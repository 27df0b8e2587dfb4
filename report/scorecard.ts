// The answer at a glance: models × workloads, each cell the model's figure as a fraction of the best
// in its column. Every column takes its figure at one setting (a protocol, a backend, a
// concurrency), chosen by the same rule for every model, so a row never compares a model at 256
// connections with another at 1. Pure: results in, plain rows out; scorecard-render.ts draws them.
import type { Cell, Protocol, Results, Scenario } from '../schema/results.js';
import { groupCells, isClosedLoop, modelOrder, summarize, type Point } from './aggregate.js';
import { formatNumber } from './format.js';

export type ColumnId = 'steady-echo' | 'steady-http' | 'io-wait-db' | 'io-wait-1000' | 'cpu' | 'churn' | 'memory';

/** One model in one column. */
export interface ScoreCell {
  /** `not measured`: the model has no cell at the column's setting (shown as —). */
  status: 'ok' | 'limit' | 'failed' | 'not measured';
  /** The figure, in the column's unit; null unless ok. */
  figure: number | null;
  /** The figure against the column's best: 1 is the best, smaller is worse (either direction of "better"). */
  fraction: number | null;
  /** The figure as printed, with its unit. */
  shown: string;
  /** Limit or failed: the first recorded reason. */
  reason?: string;
  /** The load generator was saturated in some repetition: the figure is at least this. */
  saturated?: boolean;
  best?: boolean;
}

export interface ScoreColumn {
  id: ColumnId;
  /** `steady echo`. */
  title: string;
  /** What is compared: `throughput (ops/s), higher is better`. */
  figure: string;
  /** Where it was taken, the same for every model: `echo, 256 connections`; null when nothing was measured. */
  setting: string | null;
  higherIsBetter: boolean;
  /** The best model and its figure; null when no model has an ok cell here. */
  best: { model: string; shown: string } | null;
}

export interface ScoreRow {
  model: string;
  /** The model's name as shown, `(external)` marked. */
  label: string;
  cells: ScoreCell[];
}

export interface Scorecard {
  columns: ScoreColumn[];
  rows: ScoreRow[];
}

/**
 * Memory slopes below one page per connection count as one page. The figure is the difference of
 * two peaks taken in two cells, and the heap's own movement between them (a GC cycle, a JIT
 * tier) is worth more than that; below it, the order of two models is noise, not design.
 */
export const MEMORY_FLOOR_BYTES = 4096;

interface ThroughputColumn {
  id: ColumnId;
  title: string;
  /** The closed-loop points this column may take its setting from. */
  accepts: (p: Point) => boolean;
  /** Among settings with as many models, these win first (the database before the stand-in service). */
  prefer?: (p: Point) => boolean;
}

const pooledNoSmallPool = (p: Point): boolean => {
  const c = p.cells[0]!;
  return (c.backendConnections ?? 'pooled') === 'pooled' && (c.dbPool === undefined || c.dbPool >= c.concurrency);
};

const THROUGHPUT_COLUMNS: ThroughputColumn[] = [
  { id: 'steady-echo', title: 'steady echo', accepts: (p) => p.scenario === 'steady' && p.protocol === 'echo' },
  { id: 'steady-http', title: 'steady HTTP', accepts: (p) => p.scenario === 'steady' && p.protocol === 'http' },
  {
    id: 'io-wait-db', title: 'waiting on a database',
    accepts: (p) => p.scenario === 'io-wait' && p.concurrency < 1000 && pooledNoSmallPool(p),
    prefer: (p) => p.cells[0]!.backend === 'postgres',
  },
  { id: 'io-wait-1000', title: 'waiting on 1,000 connections', accepts: (p) => p.scenario === 'io-wait' && p.concurrency >= 1000 && pooledNoSmallPool(p) },
  { id: 'cpu', title: 'CPU work', accepts: (p) => p.scenario === 'cpu' },
  { id: 'churn', title: 'a connection per request', accepts: (p) => p.scenario === 'churn' },
];

/** A setting: the points of one protocol, variant and concurrency. */
interface Setting {
  protocol: Protocol;
  scenario: Scenario;
  variant: string;
  concurrency: number;
  points: Point[];
}

function settingsOf(points: readonly Point[]): Setting[] {
  const by = new Map<string, Setting>();
  for (const p of points) {
    const key = JSON.stringify([p.protocol, p.scenario, p.variant, p.concurrency]);
    const s = by.get(key) ?? { protocol: p.protocol, scenario: p.scenario, variant: p.variant, concurrency: p.concurrency, points: [] };
    s.points.push(p);
    by.set(key, s);
  }
  return [...by.values()];
}

/**
 * The setting with the most models in it (any status: a limit is an answer too), then the
 * preferred kind, then the most connections (where models part), then HTTP (what users serve).
 */
function pickSetting(settings: Setting[], prefer?: (p: Point) => boolean): Setting | null {
  const rank = (s: Setting): number[] => [
    new Set(s.points.map((p) => p.model)).size,
    prefer && prefer(s.points[0]!) ? 1 : 0,
    s.concurrency,
    s.protocol === 'http' ? 1 : 0,
  ];
  const sorted = [...settings].sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return rb[i]! - ra[i]!;
    return a.variant.localeCompare(b.variant);
  });
  return sorted[0] ?? null;
}

function describe(s: Setting): string {
  return [s.protocol, s.variant, `${s.concurrency.toLocaleString('en-US')} connection${s.concurrency === 1 ? '' : 's'}`].filter(Boolean).join(', ');
}

const reasonOf = (p: Point): string => p.cells.find((c) => c.status !== 'ok' && c.reason)?.reason ?? 'no reason recorded';
const notMeasured = (): ScoreCell => ({ status: 'not measured', figure: null, fraction: null, shown: '—' });

function notOk(p: Point): ScoreCell {
  return { status: p.status as 'limit' | 'failed', figure: null, fraction: null, shown: p.status, reason: reasonOf(p) };
}

function throughputColumn(def: ThroughputColumn, points: readonly Point[], models: readonly string[]): { column: ScoreColumn; cells: ScoreCell[] } {
  const setting = pickSetting(settingsOf(points.filter(def.accepts)), def.prefer);
  const column: ScoreColumn = { id: def.id, title: def.title, figure: 'throughput (ops/s), higher is better', setting: setting ? describe(setting) : null, higherIsBetter: true, best: null };
  const cells = models.map((m): ScoreCell => {
    const p = setting?.points.find((x) => x.model === m);
    if (!p) return notMeasured();
    if (p.status !== 'ok') return notOk(p);
    const s = summarize(p, (c) => c.opsPerSec);
    if (!s) return notMeasured();
    const saturated = p.ok.some((c) => c.client?.saturated);
    return { status: 'ok', figure: s.median, fraction: null, shown: `${formatNumber(s.median, 0)}/s`, ...(saturated ? { saturated } : {}) };
  });
  return { column, cells };
}

/** The server tree's peak PSS, or RSS for a file (or model) without PSS. */
function memoryOf(c: Cell, measure: 'PSS' | 'RSS'): number | null {
  const b = measure === 'PSS' ? c.server?.pssPeakBytes : c.server?.rssPeakBytes;
  return typeof b === 'number' ? b : null;
}

/**
 * Memory per connection: the growth of the server's peak memory from the fewest connections of
 * steady echo (HTTP when echo was not run) to the setting with the most models, divided by the
 * connections added. The same two concurrencies and the same measure (PSS when every cell read it,
 * else RSS) for every model.
 */
function memoryColumn(points: readonly Point[], models: readonly string[]): { column: ScoreColumn; cells: ScoreCell[] } {
  const steady = points.filter((p) => p.scenario === 'steady');
  const protocol: Protocol = steady.some((p) => p.protocol === 'echo') ? 'echo' : 'http';
  const here = steady.filter((p) => p.protocol === protocol);
  const lo = Math.min(...here.map((p) => p.concurrency));
  const hiSetting = pickSetting(settingsOf(here.filter((p) => p.concurrency > lo)));
  const column: ScoreColumn = { id: 'memory', title: 'memory per connection', figure: '', setting: null, higherIsBetter: false, best: null };
  if (!hiSetting) {
    column.figure = 'peak memory growth per connection added, lower is better';
    return { column, cells: models.map(() => notMeasured()) };
  }
  const hi = hiSetting.concurrency;
  const pair = (m: string): [Point | undefined, Point | undefined] => [here.find((p) => p.model === m && p.concurrency === lo), hiSetting.points.find((p) => p.model === m)];
  const measured = models.flatMap((m) => pair(m)).filter((p): p is Point => p !== undefined).flatMap((p) => p.ok);
  const measure = measured.length > 0 && measured.every((c) => memoryOf(c, 'PSS') !== null) ? 'PSS' : 'RSS';
  column.figure = `${measure} growth per connection added, lower is better (under ${MEMORY_FLOOR_BYTES / 1024} KiB counts as ${MEMORY_FLOOR_BYTES / 1024} KiB)`;
  column.setting = `${protocol}, ${lo} to ${hi} connections`;
  const cells = models.map((m): ScoreCell => {
    const [a, b] = pair(m);
    if (!a || !b) return notMeasured();
    const bad = [a, b].find((p) => p.status !== 'ok');
    if (bad) return notOk(bad);
    const [ma, mb] = [summarize(a, (c) => memoryOf(c, measure)), summarize(b, (c) => memoryOf(c, measure))];
    if (!ma || !mb) return notMeasured();
    const slope = (mb.median - ma.median) / (hi - lo);
    const shown = slope < MEMORY_FLOOR_BYTES ? `< ${MEMORY_FLOOR_BYTES / 1024} KiB` : `${formatNumber(slope / 1024, slope < 100 * 1024 ? 1 : 0)} KiB`;
    return { status: 'ok', figure: Math.max(slope, MEMORY_FLOOR_BYTES), fraction: null, shown };
  });
  return { column, cells };
}

/** Fractions of the best, and the best named (the first in model order on a tie). */
function score(column: ScoreColumn, cells: ScoreCell[], models: readonly string[]): void {
  const figures = cells.flatMap((c) => (c.figure !== null && c.figure > 0 ? [c.figure] : []));
  if (figures.length === 0) return;
  const best = column.higherIsBetter ? Math.max(...figures) : Math.min(...figures);
  cells.forEach((c) => {
    if (c.figure === null) return;
    c.fraction = column.higherIsBetter ? c.figure / best : best / c.figure;
    if (c.figure === best) c.best = true;
  });
  const k = cells.findIndex((c) => c.best);
  column.best = { model: models[k]!, shown: cells[k]!.shown };
}

export function scorecard(results: Results): Scorecard {
  const points = groupCells(results.cells).filter(isClosedLoop);
  const models = modelOrder(results).filter((m) => points.some((p) => p.model === m));
  const built = [...THROUGHPUT_COLUMNS.map((def) => throughputColumn(def, points, models)), memoryColumn(points, models)];
  for (const b of built) score(b.column, b.cells, models);
  const external = new Set((results.settings.externalModels ?? []).map((m) => m.name));
  return {
    columns: built.map((b) => b.column),
    rows: models.map((model, i) => ({ model, label: external.has(model) ? `${model} (external)` : model, cells: built.map((b) => b.cells[i]!) })),
  };
}

/** `82%`, `<1%`, or the cell's status. */
export function cellText(c: ScoreCell): string {
  if (c.fraction === null) return c.status === 'not measured' ? '—' : c.status;
  const pct = c.fraction * 100;
  return `${pct < 1 ? '<1' : Math.round(pct)}%${c.saturated ? ' ○' : ''}`;
}
