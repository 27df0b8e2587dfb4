// One chart per scenario that answers its question at a glance, beside the tables:
// - io-wait: measured throughput against the ideal for each model's shape (bars and black ticks);
// - cpu: throughput (with its ideal) and p99 latency by model;
// - churn: requests per second and connect-to-first-byte by model;
// - payload: bytes per second against the size, one line per model.
// Bars are in each model's own colour, so a family looks alike here as on every other chart; a
// second bar of the same model (another concurrency or backend mode) is a lighter shade of it.
import type { Cell, Protocol, Results, Scenario } from '../schema/results.js';
import { groupCells, isClosedLoop, MiB, modelOrder, REFERENCE_MODEL, summarize, type Point } from './aggregate.js';
import { chartNotes, isExternal, type ChartSpec, type Series } from './charts.js';
import { modelColor, shade } from './chart-style.js';
import { CHART_FILES } from './chart-files.js';
import { panelOf } from './panels.js';

interface Group {
  /** `pooled, 64 connections`. */
  label: string;
  points: Point[];
}

const fmtSize = (n: number): string => (n >= MiB && n % MiB === 0 ? `${n / MiB} MiB` : n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`);

export function scenarioChartSpecs(results: Results): ChartSpec[] {
  const points = groupCells(results.cells).filter(isClosedLoop);
  const specs: ChartSpec[] = [];
  for (const protocol of ['echo', 'http'] as const) {
    const of = (scenario: Scenario): Point[] => points.filter((p) => p.protocol === protocol && p.scenario === scenario);
    const io = of('io-wait');
    if (io.length > 0) {
      specs.push(bars(results, protocol, 'io-wait', io, {
        file: CHART_FILES.ioWaitVsIdeal(protocol),
        title: `${protocol} (io-wait): throughput against the ideal, by model`,
        note: `every request waits ${delays(results, io)} on the backend; bars: measured, black ticks: the ideal, the lower of min(connections, what the model can hold) / delay and what the server's CPUs serve at the CPU per request measured`,
        axis: 'Throughput (ops/s)', value: (c) => c.opsPerSec, ideal: true,
      }));
      specs.push(...poolSweeps(results, protocol, io));
    }
    const cpu = of('cpu');
    if (cpu.length > 0) {
      const pin = cpu.flatMap((p) => p.cells).find((c) => c.cpus)?.cpus;
      const clientCpu = summarizeAll(cpu, (c) => c.client?.cpuPercent);
      const where = pin?.server ? `the server had every CPU (${pin.server.join(',')}) and the client CPU ${pin.client?.join(',')} (using about ${Math.round(clientCpu)}% of a core)` : 'unpinned';
      const work = results.settings.work;
      const note = `every request burns ${work?.us ?? '?'} µs of CPU; ${where}`;
      specs.push(bars(results, protocol, 'cpu', cpu, {
        file: CHART_FILES.cpuByModel(protocol, 'throughput'), title: `${protocol} (cpu): throughput by model`, note: `${note}; black ticks: the ideal`,
        axis: 'Throughput (ops/s)', value: (c) => c.opsPerSec, ideal: true,
      }));
      specs.push(bars(results, protocol, 'cpu', cpu, {
        file: CHART_FILES.cpuByModel(protocol, 'p99'), title: `${protocol} (cpu): p99 latency by model`, note: `${note}; one thread makes every request wait for the others' work`,
        axis: 'p99 latency (µs)', value: (c) => c.latencyUs?.p99,
      }));
    }
    const churn = of('churn');
    if (churn.length > 0) {
      specs.push(bars(results, protocol, 'churn', churn, {
        file: CHART_FILES.churnByModel(protocol, 'throughput'), title: `${protocol} (churn): requests per second with a new connection each`,
        note: 'every request opens, uses and closes its own connection', axis: 'Requests (ops/s)', value: (c) => c.opsPerSec,
      }));
      specs.push(bars(results, protocol, 'churn', churn, {
        file: CHART_FILES.churnByModel(protocol, 'connect'), title: `${protocol} (churn): connect to first byte, p50, by model`,
        note: 'from connect() to the first answer: accepting, and any process or thread started for the connection', axis: 'Connect to first byte, p50 (µs)', value: (c) => c.connectUs?.p50,
      }));
    }
    const payload = of('payload');
    if (payload.length > 0) specs.push(payloadLines(results, protocol, payload));
  }
  return specs;
}

function summarizeAll(points: Point[], value: (c: Cell) => number | null | undefined): number {
  const xs = points.flatMap((p) => p.ok.map(value)).filter((x): x is number => typeof x === 'number');
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

interface BarOptions {
  file: string;
  title: string;
  note: string;
  axis: string;
  value: (c: Cell) => number | null | undefined;
  /** Draw each bar's ideal (cell.ideal) as a black tick. */
  ideal?: boolean;
}

/** Groups in reading order: by backend, pooled before per request, then the rest by name. */
function variantRank(v: string): string {
  return v.replace(' per-request', ' ~').replace(/^(?!postgres|service)/, '~');
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Bars by model: one bar per (variant, concurrency) group, in the model's colour. */
function bars(results: Results, protocol: Protocol, scenario: Scenario, here: Point[], o: BarOptions): ChartSpec {
  const models = modelOrder(results).filter((m) => here.some((p) => p.model === m));
  const family = (m: string): string | undefined => here.find((p) => p.model === m)?.family;
  const keys = [...new Set(here.map((p) => `${p.variant}\0${p.concurrency}`))]
    .map((k) => k.split('\0') as [string, string])
    .sort((a, b) => byCodeUnit(variantRank(a[0]), variantRank(b[0])) || Number(a[1]) - Number(b[1]));
  const groups: Group[] = keys.map(([variant, n]) => ({
    label: `${variant ? `${variant}, ` : ''}${n} connection${n === '1' ? '' : 's'}`,
    points: here.filter((p) => p.variant === variant && String(p.concurrency) === n),
  }));
  const series: Series[] = [];
  groups.forEach((g, k) => {
    const row = models.map((m) => g.points.find((p) => p.model === m));
    const sums = row.map((p) => (p ? summarize(p, o.value) : null));
    series.push({
      label: g.label, model: g.label, color: shade('#555555', k), dash: [], pointStyle: 'circle', inLegend: true,
      values: sums.map((s) => s?.median ?? null), ci: sums.map((s) => s?.ci ?? null),
      marks: row.map((p) => (p && p.status !== 'ok' ? { status: p.status, reason: p.cells.find((c) => c.reason)?.reason ?? '' } : null)),
      saturated: row.map(() => false),
      colors: models.map((m) => shade(modelColor(m, family(m)), k)),
    });
    if (o.ideal) {
      series.push({
        label: 'ideal', model: 'ideal', color: '#111111', dash: [], pointStyle: 'circle', inLegend: k === 0, ideal: true,
        values: row.map((p) => p?.cells.find((c) => c.ideal)?.ideal?.opsPerSec ?? null), ci: row.map(() => null), marks: row.map(() => null), saturated: row.map(() => false),
      });
    }
  });
  const values = series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0);
  const yLog = values.length > 1 && Math.max(...values) / Math.min(...values) > 50;
  return {
    kind: 'bar', file: o.file, protocol, scenario, metric: o.file.replace(/\.png$/, ''),
    title: o.title,
    subtitle: [`run ${results.runId} · ${o.note}`, ...crossesNote(here)],
    xTitle: 'Model (bar colour: the model\'s own; lighter: the next group)',
    yTitle: `${o.axis}${yLog ? ', log scale' : ''}`,
    yLog,
    labels: models.map((m) => (isExternal(results, m) ? `${m} (external)` : m)),
    series,
  };
}

/** One line for a bar chart's crosses: how many, and where their reasons are. */
function crossesNote(here: Point[]): string[] {
  const count = (status: string): number => here.filter((p) => p.status === status).length;
  const [limits, failed] = [count('limit'), count('failed')];
  if (limits + failed === 0) return [];
  const what = [limits > 0 ? `${limits} limit` : '', failed > 0 ? `${failed} failed` : ''].filter(Boolean).join(', ');
  return [`✕ at the foot of a bar: no figure there (${what}); each reason is in the report's Notes and in the page's tooltips`];
}

/**
 * How big should the pool be: with --db-pool LIST, throughput and p99 against the pool size, one
 * line per model, at the backend and concurrency where most pool sizes were run.
 */
/** The delays an io-wait chart's bars waited: the run's, and any slice's own (`10 ms`, `10 ms (100 ms at 1000 connections)`). */
function delays(results: Results, io: Point[]): string {
  const run = results.settings.backendDelayMs;
  const own = [...new Set(io.flatMap((p) => p.cells.filter((c) => c.backendDelayMs !== undefined && c.backendDelayMs !== run).map((c) => `${c.backendDelayMs} ms at ${c.concurrency} connections`)))];
  return `${run ?? '?'} ms${own.length ? ` (${own.join(', ')})` : ''}`;
}

function poolSweeps(results: Results, protocol: Protocol, io: Point[]): ChartSpec[] {
  const pooled = io.filter((p) => p.cells[0]?.backendConnections === 'pooled' && p.cells[0]?.dbPool !== undefined);
  const at = new Map<string, Point[]>();
  for (const p of pooled) {
    const key = `${p.cells[0]!.backend ?? 'service'}\0${p.concurrency}`;
    at.set(key, [...(at.get(key) ?? []), p]);
  }
  const best = [...at.entries()].map(([k, ps]) => ({ k, ps, sizes: new Set(ps.map((p) => p.cells[0]!.dbPool!)) })).sort((a, b) => b.sizes.size - a.sizes.size)[0];
  if (!best || best.sizes.size < 2) return [];
  const [backend, n] = best.k.split('\0') as [string, string];
  const sizes = [...best.sizes].sort((a, b) => a - b);
  const models = modelOrder(results).filter((m) => best.ps.some((p) => p.model === m));
  const line = (file: string, title: string, yTitle: string, value: (c: Cell) => number): ChartSpec => ({
    file, protocol, scenario: 'io-wait', metric: file.replace(/\.png$/, ''), title,
    subtitle: [`run ${results.runId} · ${backend}, ${n} connections, every request waiting ${results.settings.backendDelayMs ?? '?'} ms; pool: connections per server process`],
    xTitle: 'Pool size (database connections per server process)', yTitle, yLog: false,
    labels: sizes.map(String),
    series: models.map((model) => {
      const row = sizes.map((size) => best.ps.find((p) => p.model === model && p.cells[0]!.dbPool === size));
      const sums = row.map((p) => (p ? summarize(p, value) : null));
      return {
        label: model, model, color: modelColor(model, row.find((p) => p)?.family), dash: [], pointStyle: 'circle', inLegend: true, panel: panelOf(results, model, row.find((p) => p)?.family),
        values: sums.map((x) => x?.median ?? null), ci: sums.map((x) => x?.ci ?? null),
        marks: row.map((p) => (p && p.status !== 'ok' ? { status: p.status, reason: p.cells.find((c) => c.reason)?.reason ?? '' } : null)),
        saturated: row.map((p) => p?.cells.some((c) => c.client?.saturated) ?? false),
      };
    }),
  });
  return [
    line(CHART_FILES.ioWaitPool(protocol, 'throughput'), `${protocol} (io-wait): throughput against the pool size`, 'Throughput (ops/s)', (c) => c.opsPerSec),
    line(CHART_FILES.ioWaitPool(protocol, 'p99'), `${protocol} (io-wait): p99 latency against the pool size`, 'p99 latency (µs)', (c) => c.latencyUs.p99),
  ];
}

/** Bytes per second against the size, one line per model (at the largest concurrency measured). */
function payloadLines(results: Results, protocol: Protocol, here: Point[]): ChartSpec {
  const n = Math.max(...here.map((p) => p.concurrency));
  const at = here.filter((p) => p.concurrency === n);
  const sizes = [...new Set(at.map((p) => p.payloadBytes ?? 0))].sort((a, b) => a - b);
  const models = modelOrder(results).filter((m) => at.some((p) => p.model === m));
  const series: Series[] = models.map((model) => {
    const row = sizes.map((size) => at.find((p) => p.model === model && p.payloadBytes === size));
    const sums = row.map((p) => (p ? summarize(p, (c) => c.bytesPerSec / MiB) : null));
    return {
      label: model, model, color: modelColor(model, at.find((p) => p.model === model)?.family), dash: model === REFERENCE_MODEL ? [12, 6] : [], pointStyle: 'circle', inLegend: true,
      panel: panelOf(results, model, at.find((p) => p.model === model)?.family),
      values: sums.map((s) => s?.median ?? null), ci: sums.map((s) => s?.ci ?? null),
      marks: row.map((p) => (p && p.status !== 'ok' ? { status: p.status, reason: p.cells.find((c) => c.reason)?.reason ?? '' } : null)),
      saturated: row.map((p) => p?.cells.some((c) => c.client?.saturated) ?? false),
    };
  });
  const what = protocol === 'echo' ? 'echo: bytes sent plus received' : 'GET /bytes/N: response bytes received';
  return {
    file: CHART_FILES.payloadBytes(protocol), protocol, scenario: 'payload', metric: 'payload-bytes',
    title: `${protocol} (payload): MiB/s against the size, ${n} connections`,
    subtitle: [`run ${results.runId} · ${what}; hollow: the load generator was saturated`, ...chartNotes(at, true).slice(0, 3)],
    xTitle: 'Payload size', yTitle: 'Throughput (MiB/s)', yLog: false,
    labels: sizes.map(fmtSize), series,
  };
}
