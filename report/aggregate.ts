// The repetitions of one (model, protocol, scenario, concurrency) folded into one point: what the
// charts and the report tables both show.
import type { Cell, CellStatus, Family, Protocol, Results, Scenario } from '../schema/results.js';
import { medianCI, median, type Interval } from './stats.js';

/** Every repetition of one (model, protocol, scenario, concurrency), in repetition order. */
export interface Point {
  model: string;
  family: Family;
  protocol: Protocol;
  scenario: Scenario;
  concurrency: number;
  /** What else sets the cell apart: `pooled` or `per-request` in io-wait, `4096 B` in payload, else ''. */
  variant: string;
  /** payload: the size, bytes. */
  payloadBytes?: number;
  /** Open loop: the target rate (explicit rates), else null. */
  rate: number | null;
  /** `--rate sweep` cells: the fraction of the closed-loop throughput, else undefined. */
  sweepFraction?: number;
  /** Equal-rate cells: the model whose closed-loop throughput the fraction was taken of. */
  sweepOf?: string;
  cells: Cell[];
  /** The repetitions with status `ok`: the only ones aggregated. */
  ok: Cell[];
  /** `ok` when at least one repetition is ok; otherwise `failed` if any failed, else `limit`. */
  status: CellStatus;
}

/** A median over the ok repetitions, with a confidence interval when there are two or more. */
export interface Summary {
  median: number;
  ci: Interval | null;
  n: number;
}

/** The reference ceiling: drawn dashed, in black. */
export const REFERENCE_MODEL = 'native-epoll';
export const MiB = 1024 * 1024;

/** Models in the order of settings.models, then any other model seen in the cells. */
export function modelOrder(results: Results): string[] {
  const order = [...(results.settings?.models ?? [])];
  for (const c of results.cells) if (!order.includes(c.model)) order.push(c.model);
  return order;
}

export function groupCells(cells: readonly Cell[]): Point[] {
  const byKey = new Map<string, Point>();
  for (const c of cells) {
    const rate = cellRate(c);
    const variant = variantOf(c);
    const key = cellKey(c, variant);
    let p = byKey.get(key);
    if (!p) {
      p = { model: c.model, family: c.family, protocol: c.protocol, scenario: c.scenario, variant, concurrency: c.concurrency, rate, cells: [], ok: [], status: 'limit' };
      if (c.payloadBytes !== undefined) p.payloadBytes = c.payloadBytes;
      if (c.sweepFraction !== undefined) p.sweepFraction = c.sweepFraction;
      if (c.sweepOf !== undefined) p.sweepOf = c.sweepOf;
      byKey.set(key, p);
    }
    p.cells.push(c);
  }
  for (const p of byKey.values()) {
    p.cells.sort((a, b) => a.repetition - b.repetition);
    p.ok = p.cells.filter((c) => c.status === 'ok');
    p.status = p.ok.length > 0 ? 'ok' : p.cells.some((c) => c.status === 'failed') ? 'failed' : 'limit';
  }
  return [...byKey.values()];
}

export function summarize(point: Point, value: (c: Cell) => number | null | undefined): Summary | null {
  const xs = point.ok.map(value).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (xs.length === 0) return null;
  return { median: median(xs), ci: xs.length > 1 ? medianCI(xs) : null, n: xs.length };
}

/** io-wait: `postgres pooled`, `postgres pooled, pool 8`, `service per-request`; payload: `4096 B`. */
/**
 * What sets a cell apart within its scenario besides model, concurrency and load: the backend and
 * its connections (io-wait), the size (payload). Within one run that is all; across runs (`run`
 * given, as compare does) the run's own settings that change the work join it: the database's
 * authentication and the backend's delay, the CPU per request, the default payload.
 */
export function variantOf(c: Pick<Cell, 'scenario' | 'backendConnections' | 'payloadBytes' | 'backend' | 'dbPool' | 'concurrency' | 'backendDelayMs'>, run?: Results['settings']): string {
  if (c.scenario === 'io-wait' || c.backendConnections) {
    // A pool as large as the connections never makes a request wait: it is no pool (as in version 3).
    const pool = c.dbPool !== undefined && c.dbPool < c.concurrency ? `, pool ${c.dbPool}` : '';
    const base = `${c.backend ?? 'service'} ${c.backendConnections ?? 'pooled'}${pool}`;
    // A slice's own delay sets its cells apart within the run (the run's delay is the settings').
    if (!run) return c.backendDelayMs === undefined ? base : `${base}, ${c.backendDelayMs} ms`;
    const auth = c.backend === 'postgres' ? `, ${run.database?.auth ?? '?'}` : '';
    return `${base}${auth}, ${c.backendDelayMs ?? run.backendDelayMs ?? '?'} ms backend`;
  }
  if (c.scenario === 'cpu' && run) return `${run.work?.us ?? '?'} µs of CPU`;
  if (c.payloadBytes !== undefined) return `${c.payloadBytes} B`;
  return c.scenario === 'payload' && run ? `${run.payloadBytes} B` : '';
}

/**
 * The open-loop rate cells are grouped at, or null. A sweep's rates differ between repetitions
 * (each follows its own closed-loop cell): its repetitions meet at the same fraction instead.
 */
export function cellRate(c: Pick<Cell, 'rate' | 'sweepFraction'>): number | null {
  return c.sweepFraction !== undefined ? null : (c.rate ?? null);
}

/** The one key cells are grouped by, in a run and between two runs: repetitions of a cell share it. */
export function cellKey(c: Pick<Cell, 'model' | 'protocol' | 'scenario' | 'concurrency' | 'rate' | 'sweepFraction' | 'sweepOf'>, variant: string): string {
  // An equal-rate cell is a sweep of another model's throughput; the key of a plain sweep is unchanged.
  const key = [c.model, c.protocol, c.scenario, variant, c.concurrency, cellRate(c), c.sweepFraction ?? null];
  return JSON.stringify(c.sweepOf === undefined ? key : [...key, c.sweepOf]);
}

/**
 * The server's pinned CPUs were full while the server itself used less than 80% of them: its
 * neighbours (the database, the service, the kernel's softirq work) took the rest, so the cell's
 * figure is not the server's alone. A server that fills its own CPUs is what closed loop measures.
 */
export function serverCrowded(c: Pick<Cell, 'status' | 'cores' | 'server'>): boolean {
  if (c.status !== 'ok' || !c.cores?.full.includes('server')) return false;
  const busy = c.cores.server.reduce((sum, x) => sum + x.busyPercent, 0);
  return c.server.cpuPercent < 0.8 * busy;
}

/** Server CPU microseconds per operation (user and system, the whole tree). */
export function cpuUsPerOp(c: Pick<Cell, 'ops' | 'server'>): number | null {
  return c.ops > 0 ? ((c.server.cpuUserS + c.server.cpuSysS) / c.ops) * 1e6 : null;
}

export interface SectionKey {
  protocol: Protocol;
  scenario: Scenario;
  variant: string;
}

/** `http, io-wait, pooled`: how a section is named in headings and the page. */
export function sectionName(s: SectionKey): string {
  return [s.protocol, ...(s.scenario === 'steady' ? [] : [s.scenario]), ...(s.variant ? [s.variant] : [])].join(', ');
}

export function inSection(p: Point, s: SectionKey): boolean {
  return p.protocol === s.protocol && p.scenario === s.scenario && p.variant === s.variant;
}

const SCENARIO_RANK: readonly string[] = ['steady', 'idle', 'io-wait', 'cpu', 'churn', 'payload'];

/** (protocol, scenario, variant) in a stable order: echo before http, scenarios in their listed order, sizes ascending. */
export function sections(points: readonly Point[]): SectionKey[] {
  const seen = new Map<string, SectionKey & { size: number }>();
  for (const p of points) seen.set(`${p.protocol}\0${p.scenario}\0${p.variant}`, { protocol: p.protocol, scenario: p.scenario, variant: p.variant, size: p.payloadBytes ?? 0 });
  const rank = (s: string): number => (SCENARIO_RANK.includes(s) ? SCENARIO_RANK.indexOf(s) : SCENARIO_RANK.length);
  return [...seen.values()]
    .sort((a, b) => a.protocol.localeCompare(b.protocol) || rank(a.scenario) - rank(b.scenario) || a.size - b.size || a.variant.localeCompare(b.variant))
    .map(({ protocol, scenario, variant }) => ({ protocol, scenario, variant }));
}

/** Closed-loop points: what the tables and charts against concurrency show. */
export function isClosedLoop(p: Point): boolean {
  return p.rate === null && p.sweepFraction === undefined;
}

/** "native client, 1 thread" etc.: which load generators measured these cells. */
export function describeClients(cells: readonly Cell[]): string {
  const seen = new Map<string, number>();
  for (const c of cells) if (c.status === 'ok' && c.client?.tool) seen.set(c.client.tool, Math.max(seen.get(c.client.tool) ?? 0, c.client.threads ?? 1));
  if (seen.size === 0) return 'no cell measured';
  return [...seen].map(([tool, threads]) => `${tool} client, ${threads} thread${threads === 1 ? '' : 's'}`).join('; ');
}
