// report.md and report.html from a results file alone. Both are built from the same plain rows
// (pure); only writeReport touches the disk.
import { basename, dirname, join } from 'node:path';
import { describeClients, groupCells, inSection, isClosedLoop, MiB, modelOrder, sectionName, sections, serverCrowded, summarize, variantOf, type Point } from './aggregate.js';
import { writeFileAtomic } from '../schema/atomic-write.js';
import { formatNumber, formatSummary } from './format.js';
import { renderCharts } from './chart-render.js';
import { chartSpecs } from './charts.js';
import { rateChartSpecs } from './rate-charts.js';
import { scenarioChartSpecs } from './scenario-charts.js';
import { chartJsSource, embedJson, pageCharts, type PageChart } from './html-charts.js';
import { PAGE_SCRIPT } from './page-script.js';
import { findings, type FindingVerdict } from './findings.js';
import type { Cell, MicroResults, Protocol, Results, Scenario } from '../schema/results.js';
import { windowDrift } from '../schema/results.js';
import { readMicroNear, readResults } from '../schema/read-results.js';
import { memoryTrends } from './memory.js';
import { timelineConfig, timelineFile } from './timeline-chart.js';
import { renderConfigPng } from './chart-render.js';
import { SCORECARD_CSS, scorecardHtml, scorecardMarkdown } from './scorecard-render.js';
import { PANELS_TITLE } from './panels.js';
import { PER_HOST_NOTE, perHostTables } from './per-host.js';

export interface ReportOptions {
  /** The primitives of `npm run micro`, which findings use to say what a cost is made of. */
  micro?: MicroResults | null;
  /** A comparison table from the compare tool, included verbatim under "Comparison with baseline". */
  comparisonMarkdown?: string;
  comparisonHtml?: string;
}

export interface ReportFiles {
  markdown: string;
  html: string;
  charts: string[];
}

// ---------------------------------------------------------------------------------------------
// Plain rows, shared by both formats

const COLUMNS = ['model', 'concurrency', 'ops/s', 'p50 (µs)', 'p90 (µs)', 'p99 (µs)', 'p99.9 (µs)', 'server CPU (%)', 'peak RSS (MiB)', 'client µs/op', 'status'];
const OPEN_COLUMNS = ['model', 'concurrency', 'target', 'achieved ops/s', 'p50 (µs)', 'p99 (µs)', 'p99.9 (µs)', 'p99 uncorrected (µs)', 'client send lag p99 (µs)', 'client send gap (µs)', 'server CPU (%)', 'client µs/op', 'status'];
/** io-wait on PostgreSQL adds the database's side: its CPU, and the sessions it opened per query (1: one per request). */
const DB_COLUMNS = ['database CPU (%)', 'database sessions / query'];
const withDb = (columns: string[]): string[] => [...columns.slice(0, -1), ...DB_COLUMNS, columns.at(-1)!];
const NA = (first: string, second: string, why: string, db = false): string[] => [first, second, ...(db ? withDb(COLUMNS) : COLUMNS).slice(2, -1).map(() => 'n/a'), why];

interface Section {
  protocol: Protocol;
  scenario: Scenario;
  heading: string;
  columns: string[];
  rows: string[][];
}

export function tableSections(results: Results): Section[] {
  const points = groupCells(results.cells).filter(isClosedLoop);
  const models = modelOrder(results);
  return sections(points).map((key) => {
    const { protocol, scenario } = key;
    const here = points.filter((p) => inSection(p, key));
    const concurrencies = [...new Set(here.map((p) => p.concurrency))].sort((a, b) => a - b);
    const db = here.some((p) => p.cells.some((c) => c.database));
    const rows: string[][] = [];
    for (const model of models) {
      if (!here.some((p) => p.model === model)) {
        rows.push(NA(model, 'all', `n/a: not run for ${protocol}`, db));
        continue;
      }
      for (const n of concurrencies) {
        const p = here.find((q) => q.model === model && q.concurrency === n);
        rows.push(p ? (db ? databaseRow(p) : pointRow(p)) : NA(model, String(n), 'n/a: not measured', db));
      }
    }
    const clients = describeClients(here.flatMap((p) => p.cells));
    return { protocol, scenario, heading: `${sectionName(key)} (closed loop; measured by ${clients})`, columns: db ? withDb(COLUMNS) : COLUMNS, rows: marked(results, rows) };
  });
}

/** Open-loop cells, one table per (protocol, scenario): target against achieved rate and corrected latency. */
export function openLoopSections(results: Results): Section[] {
  const points = groupCells(results.cells).filter((p) => !isClosedLoop(p));
  const models = modelOrder(results);
  return sections(points).map((key) => {
    const { protocol, scenario } = key;
    const here = points.filter((p) => inSection(p, key));
    const order = (p: Point): number => p.sweepFraction ?? p.rate ?? 0;
    const rows = models.flatMap((m) => here.filter((p) => p.model === m).sort((a, b) => a.concurrency - b.concurrency || order(a) - order(b)).map(openRow));
    const clients = describeClients(here.flatMap((p) => p.cells));
    return { protocol, scenario, heading: `${sectionName(key)} (open loop; measured by ${clients})`, columns: OPEN_COLUMNS, rows: marked(results, rows) };
  });
}

function openRow(p: Point): string[] {
  const s = (f: (c: Cell) => number | null | undefined, digits: number) => formatSummary(summarize(p, f), digits);
  const target = p.sweepFraction !== undefined ? `${Math.round(p.sweepFraction * 100)}% of closed loop (${s((c) => c.rate, 0)}/s)` : `${formatNumber(p.rate ?? 0, 0)}/s`;
  return [
    p.model, String(p.concurrency), target, s((c) => c.opsPerSec, 0),
    s((c) => c.latencyUs?.p50, 0), s((c) => c.latencyUs?.p99, 0), s((c) => c.latencyUs?.p999, 0), s((c) => c.latencyUncorrectedUs?.p99, 0),
    s((c) => c.client?.sendLagUs?.p99, 0), s((c) => c.client?.sendBatchUs, 0), s((c) => c.server?.cpuPercent, 1), s((c) => c.client?.cpuUsPerOp, 1), pointStatus(p),
  ];
}

/** Rows name external models as such: they are programs measured from outside, not built here. */
function marked(results: Results, rows: string[][]): string[][] {
  const ext = new Set((results.settings.externalModels ?? []).map((m) => m.name));
  return rows.map((r) => (ext.has(r[0]!) ? [`${r[0]} (external)`, ...r.slice(1)] : r));
}

function pointRow(p: Point): string[] {
  const s = (f: (c: Cell) => number | null | undefined, digits: number) => formatSummary(summarize(p, f), digits);
  return [
    p.model, String(p.concurrency),
    s((c) => c.opsPerSec, 0),
    s((c) => c.latencyUs?.p50, 0), s((c) => c.latencyUs?.p90, 0), s((c) => c.latencyUs?.p99, 0), s((c) => c.latencyUs?.p999, 0),
    s((c) => c.server?.cpuPercent, 1), s((c) => c.server?.rssPeakBytes / MiB, 1), s((c) => c.client?.cpuUsPerOp, 1),
    pointStatus(p),
  ];
}

function databaseRow(p: Point): string[] {
  const row = pointRow(p);
  const s = (f: (c: Cell) => number | null | undefined, digits: number) => formatSummary(summarize(p, f), digits);
  const perQuery = (c: Cell): number | null => (c.database && c.database.queries > 0 ? c.database.sessionsOpened / c.database.queries : null);
  return [...row.slice(0, -1), s((c) => c.database?.cpuPercent, 1), s(perQuery, 3), row.at(-1)!];
}

function pointStatus(p: Point): string {
  if (p.status !== 'ok') return `${p.status} (see Notes)`;
  const parts = ['ok'];
  if (p.ok.length < p.cells.length) parts.push(`${p.cells.length - p.ok.length} of ${p.cells.length} repetitions not ok`);
  const short = p.ok.filter((c) => c.rateShortfall);
  if (short.length > 0) {
    const worst = short.reduce((a, c) => (c.rateShortfall!.achievedOpsPerSec / c.rateShortfall!.targetOpsPerSec < a.rateShortfall!.achievedOpsPerSec / a.rateShortfall!.targetOpsPerSec ? c : a));
    parts.push(`RATE SHORTFALL: ${formatNumber(worst.rateShortfall!.achievedOpsPerSec, 0)} of ${formatNumber(worst.rateShortfall!.targetOpsPerSec, 0)}/s`);
  }
  if (p.cells.some((c) => c.client?.saturated)) parts.push("client saturated: the client's limit, not the server's");
  const reconnects = p.ok.reduce((a, c) => a + (c.reconnects ?? 0), 0);
  if (reconnects > 0) parts.push(`${formatNumber(reconnects, 0)} reconnects (keep-alive not kept)`);
  return parts.join(', ');
}


function coresBusy(cs: readonly { cpu: number; busyPercent: number; softirqPercent: number }[]): string {
  return cs.map((x) => `CPU ${x.cpu} ${formatNumber(x.busyPercent, 0)}% busy (softirq ${formatNumber(x.softirqPercent, 0)}%)`).join(', ');
}

/** Models left out of the plan, every failed/limit repetition with its reason, and every saturated client. */
export function notes(results: Results): string[] {
  const out: string[] = (results.settings.skipped ?? []).map((s) => `${s.model} was left out of this run: ${s.reason}`);
  for (const c of results.cells) {
    const rate = c.rate !== null && c.rate !== undefined ? ` at ${formatNumber(c.rate, 0)} ops/s` : '';
    const where = `${c.model} ${c.protocol}${c.scenario === 'steady' ? '' : ` ${c.scenario}`} at concurrency ${c.concurrency}${rate}, repetition ${c.repetition}`;
    if (c.status !== 'ok') out.push(`${where}: ${c.status}: ${c.reason ?? 'no reason recorded'}`);
    if (c.status === 'ok' && (c.errors?.total ?? 0) > 0) {
      const codes = Object.entries(c.errors.byCode).map(([k, v]) => `${k} ${v}`).join(', ');
      out.push(`${where}: ${c.errors.total} errors during the cell (${codes})`);
    }
    if (c.client?.saturated) {
      const core = c.cores?.full.includes('client') ? `; its CPUs were ${coresBusy(c.cores.client)}` : '';
      out.push(`${where}: the load generator (${c.client.tool ?? 'client'}) was saturated (busiest thread ${formatNumber(c.client.threadCpuPercentMax ?? c.client.cpuPercent, 0)}% of a core${core}): this figure is the load side's limit, not the server's`);
    }
    if (serverCrowded(c) && c.cores) {
      out.push(`${where}: the server's CPUs were ${coresBusy(c.cores.server)}, of which the server used ${formatNumber(c.server.cpuPercent, 0)}% of a core: others filled them (database, service, softirq), so this figure is not the server's alone`);
    }
    if (c.rateShortfall) {
      out.push(`${where}: rate shortfall: achieved ${formatNumber(c.rateShortfall.achievedOpsPerSec, 0)} of the ${formatNumber(c.rateShortfall.targetOpsPerSec, 0)} ops/s asked for${c.client?.saturated ? ' (the client was saturated)' : ''}`);
    }
    // windowDrift is recomputed, so that files from before the field are judged too.
    const drift = c.status === 'ok' ? c.drift ?? windowDrift(c.timeline) : null;
    if (drift?.drifts) out.push(`${where}: the window drifted: ${formatNumber(drift.firstOpsPerSec, 0)} ops/s in its first fifth against ${formatNumber(drift.lastOpsPerSec, 0)} in its last (${drift.ratio}×${drift.noisePercent !== undefined ? `, beyond its intervals' noise of ±${formatNumber(drift.noisePercent, 1)}%` : ''})${drift.ratio < 1 ? ': the load had not settled when the window opened' : ''}`);
    if ((c.reconnects ?? 0) > 0) out.push(`${where}: the server closed keep-alive connections after a response ${c.reconnects} times; the client reconnected`);
  }
  return out;
}

function machine(results: Results): [string, string][] {
  const e = results.env;
  const pin = e.pinning;
  const pinning = pin && (pin.server || pin.client)
    ? `server CPUs ${pin.server?.join(',') ?? 'any'}, client CPUs ${pin.client?.join(',') ?? 'any'} (method: ${pin.method})`
    : `not pinned (method: ${pin?.method ?? 'unknown'})`;
  return [
    ['CPU', `${e.cpuModel} × ${e.cpus}`],
    ['Memory', `${formatNumber(e.memoryBytes / 1024 ** 3, 1)} GiB`],
    ['Kernel', `${e.platform} ${e.kernel}`],
    ['Node', e.node],
    ['Git commit', e.gitCommit ?? 'unknown'],
    ['Pinning', pinning],
  ];
}

function settings(results: Results): [string, string][] {
  const s = results.settings;
  return [
    ['Measured window', `${s.durationS} s per cell`],
    ['Warm-up', `${s.warmupS} s per cell (not measured)`],
    ['Payload', `${s.payloadBytes} bytes (echo)`],
    ['Repetitions', String(s.repetitions)],
    ['Workers', String(s.workers)],
    ['Sample interval', `${s.sampleIntervalMs} ms`],
    ['Models', s.models.join(', ')],
    ['Concurrency', s.concurrency.join(', ')],
    ['Load', `${s.rates === null || s.rates === undefined ? 'closed loop' : s.rates === 'sweep' ? `closed loop, then open loop at ${s.sweepFractions.map((f) => `${f * 100}%`).join(', ')} of each closed-loop throughput` : `open loop at ${s.rates.join(', ')} ops/s`}; ${s.pipeline ?? 1} request(s) in flight per connection`],
    ['Load generators', `echo: native; http: ${s.httpClient ?? 'autocannon'}; ${s.clientThreads ?? 1} load thread(s) per client`],
    ['Error threshold', `a cell whose errors exceed ${(s.errorThreshold ?? 1) * 100}% of its attempts is failed`],
    ...(s.externalModels ?? []).map((m): [string, string] => [`External model ${m.name}`, `${m.shell ? 'sh -c ' : ''}${m.command.join(' ')}${m.version ? ` (${m.version})` : ''}`]),
    ['Started', `${results.startedAt}; finished ${results.finishedAt ?? 'not finished'}`],
  ];
}

const FINDINGS_NOTE =
  'Each finding is a rule over this results file (see the README); "not measured" means the run had no data for it, and "no clear difference" that its margin is within the noise: repetitions whose intervals overlap, or a ratio that two readings of one unchanged cell (the run\'s noise probe) would show one time in twenty. Each margin is printed beside the noise it had to beat.';

export function verdictMark(v: FindingVerdict): string {
  return v === 'holds' ? 'HOLDS' : v === 'does not hold' ? 'DOES NOT HOLD' : v === 'no clear difference' ? 'NO CLEAR DIFFERENCE' : 'not measured';
}

const AGGREGATION_NOTE =
  'Figures are medians over the ok repetitions; with more than one, brackets give a distribution-free confidence interval for the median, with its coverage when that is below 95% (few repetitions cannot reach more).';

function chartTitles(results: Results): Map<string, string> {
  return new Map([...chartSpecs(results), ...scenarioChartSpecs(results), ...rateChartSpecs(results)].map((s) => [s.file, s.title]));
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** Markdown text that renders as the literal string: no tables broken, no HTML let through. */
function md(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/[\\`*_|]/g, (c) => `\\${c}`)
    .replace(/\]\(/g, '\\](')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n/g, ' ');
}

function mdTable(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(md).join(' | ')} |`)];
}

function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}\n${text}\n${f}`;
}

const MEMORY_NOTE = 'For each cell whose window holds 5 or more memory readings (3 s or longer: a soak): a least-squares line through the server tree\'s PSS over the window, its slope with a 95% confidence interval. "Grew" when the whole interval is above zero and makes 1 MiB or more over the window; "no growth" when even its top makes less than 1 MiB.';

/** One line per cell with a memory trend, for report.md, report.html and the terminal. */
export function memoryLines(results: Results): { cell: string; sentence: string; chart: string }[] {
  return memoryTrends(results.cells).map(({ cell, trend }) => ({
    cell: `${cell.model} ${cell.protocol}, ${cell.concurrency} connections, repetition ${cell.repetition}`,
    sentence: trend.sentence,
    chart: timelineFile(cell),
  }));
}

/** report.md; chart files are embedded as `charts/<file name>`, relative to the run folder. */
export function renderMarkdown(results: Results, chartFiles: readonly string[], options: ReportOptions = {}): string {
  const titles = chartTitles(results);
  const out = [`# concurrency-bench run ${md(results.runId)}`, '', ...scorecardMarkdown(results, md)];
  out.push('## Findings', '', FINDINGS_NOTE, '', ...findings(results, options.micro ?? null).map((f) => {
    const chart = f.chart && chartFiles.some((c) => basename(c) === f.chart) ? ` ([chart](charts/${encodeURI(f.chart)}))` : '';
    return `- **${md(f.question)}** ${verdictMark(f.verdict)}: ${md(f.sentence)}${chart}${f.margin ? `\n  - Margin: ${md(f.margin)}.` : ''}${f.caveat ? `\n  - Caveat: ${md(f.caveat)}.` : ''}`;
  }), '');
  const memory = memoryLines(results);
  if (memory.length > 0) {
    out.push('## Memory over the window', '', MEMORY_NOTE, '', ...memory.map((m) => {
      const chart = chartFiles.some((c) => basename(c) === m.chart) ? ` ([timeline](charts/${encodeURI(m.chart)}))` : '';
      return `- **${md(m.cell)}**: ${md(m.sentence)}${chart}`;
    }), '');
  }
  out.push('## Machine', '', ...machine(results).map(([k, v]) => `- **${k}**: ${md(v)}`), '');
  out.push('## Settings', '', ...settings(results).map(([k, v]) => `- **${k}**: ${md(v)}`), '- **Command**:', '', fence(results.command), '');
  out.push('## Results', '', AGGREGATION_NOTE, '');
  for (const s of [...tableSections(results), ...openLoopSections(results)]) out.push(`### ${md(s.heading)}`, '', ...mdTable(s.columns, s.rows), '');
  const hosts = perHostTables(results);
  if (hosts.length > 0) {
    out.push('## Each host\'s part', '', PER_HOST_NOTE, '');
    for (const t of hosts) out.push(`### ${md(t.heading)}`, '', ...mdTable(t.columns, t.rows), '');
  }
  if (chartFiles.length > 0) {
    out.push('## Charts', '');
    for (const f of chartFiles) out.push(`![${md(titles.get(basename(f)) ?? basename(f))}](charts/${encodeURI(basename(f))})`, '');
  }
  if (options.comparisonMarkdown) out.push('## Comparison with baseline', '', options.comparisonMarkdown, '');
  const n = notes(results);
  out.push('## Notes', '', ...(n.length > 0 ? n.map((x) => `- ${md(x)}`) : ['No cell hit a limit, failed, or saturated the load generator.']), '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// HTML

export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function htmlTable(header: string[], rows: string[][]): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

function htmlList(items: [string, string][]): string {
  return `<dl>${items.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`;
}

const DETAIL_COLUMNS = [
  'model', 'conc.', 'rep.', 'status', 'reason', 'ops', 'ops/s', 'window (s)', 'p50 (µs)', 'p90', 'p99', 'p99.9', 'max', 'mean',
  'CPU user (s)', 'CPU sys (s)', 'CPU (%)', 'RSS peak (MiB)', 'RSS mean (MiB)', 'PSS peak (MiB)', 'threads', 'processes',
  'ctx vol.', 'ctx invol.', 'errors', 'errors by code', 'client CPU (%)', 'client saturated', 'connect p50/p99/max (µs)',
];

function detailRow(c: Cell): string[] {
  const n = (x: number | null | undefined, d = 0) => (typeof x === 'number' ? formatNumber(x, d) : '–');
  const l = c.latencyUs;
  const sv = c.server;
  const codes = Object.entries(c.errors?.byCode ?? {}).map(([k, v]) => `${k}: ${v}`).join(', ');
  return [
    c.model, String(c.concurrency), String(c.repetition), c.status, c.reason ?? '', n(c.ops), n(c.opsPerSec), n(c.durationS, 2),
    n(l?.p50), n(l?.p90), n(l?.p99), n(l?.p999), n(l?.max), n(l?.mean, 1),
    n(sv?.cpuUserS, 2), n(sv?.cpuSysS, 2), n(sv?.cpuPercent, 1), n(sv?.rssPeakBytes / MiB, 1), n(sv?.rssMeanBytes / MiB, 1),
    typeof sv?.pssPeakBytes === 'number' ? n(sv.pssPeakBytes / MiB, 1) : '–',
    n(sv?.threadsPeak), n(sv?.processesPeak), n(sv?.ctxVoluntary), n(sv?.ctxInvoluntary), n(c.errors?.total), codes,
    n(c.client?.cpuPercent, 1), c.client?.saturated ? 'yes' : 'no',
    c.connectUs ? `${n(c.connectUs.p50)} / ${n(c.connectUs.p99)} / ${n(c.connectUs.max)}` : '–',
  ];
}

const CSS = `body{font:15px/1.45 system-ui,'DejaVu Sans',sans-serif;margin:2em auto;max-width:1280px;padding:0 1em;color:#111}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:14px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#f2f2f2}td:first-child,td:last-child{text-align:left}.scroll{overflow-x:auto}.detail td,.detail th{font-size:12px}
.detail td:nth-child(5){white-space:normal;min-width:16em;text-align:left}dl{display:grid;grid-template-columns:max-content auto;gap:2px 1em}
td.bad{background:#fde0dc;color:#a01010;font-weight:bold}td.good{background:#dff3e0;color:#106010}.warning{color:#a05000}
dt{font-weight:bold}dd{margin:0}pre{background:#f6f6f6;padding:.6em;overflow-x:auto}img{max-width:100%;border:1px solid #ddd}
figure{margin:1em 0}li{margin:.2em 0}.chart{position:relative;height:420px}figure button{font-size:12px;margin-top:4px}
details{margin:.3em 0 1.2em}summary{cursor:pointer;color:#333}.verdict{font-weight:bold}.margin{color:#555;font-size:.92em}
.panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:6px}.panel{position:relative;height:340px;border:1px solid #eee}
figcaption{text-align:center;margin-bottom:4px}figcaption small{color:#444}`;

/**
 * report.html: one file that works from file:// with nothing fetched. Findings first, then each
 * section's charts (drawn in the page by Chart.js from the results embedded as JSON) with its table
 * folded under them, then notes, the machine, the settings and every cell.
 */
export function renderHtml(results: Results, options: ReportOptions = {}): string {
  const charts = pageCharts(results);
  const body: string[] = [`<h1>concurrency-bench run ${escapeHtml(results.runId)}</h1>`, scorecardHtml(results, escapeHtml)];
  body.push('<h2>Findings</h2>', `<p>${escapeHtml(FINDINGS_NOTE)}</p>`, `<ul>${findings(results, options.micro ?? null).map((f) => {
    const chart = charts.find((c) => f.chart && chartFileOf(results, c) === f.chart);
    const link = chart ? ` <a href="#${chart.id}">chart</a>` : '';
    const margin = (f.margin ? `<br><span class="margin">Margin: ${escapeHtml(f.margin)}.</span>` : '') + (f.caveat ? `<br><span class="margin caveat">Caveat: ${escapeHtml(f.caveat)}.</span>` : '');
    return `<li><b>${escapeHtml(f.question)}</b> <span class="verdict">${escapeHtml(verdictMark(f.verdict))}</span>: ${escapeHtml(f.sentence)}${link}${margin}</li>`;
  }).join('\n')}</ul>`);
  const memory = memoryLines(results);
  if (memory.length > 0) {
    body.push('<h2>Memory over the window</h2>', `<p>${escapeHtml(MEMORY_NOTE)}</p>`, `<ul>${memory.map((m) => `<li><b>${escapeHtml(m.cell)}</b>: ${escapeHtml(m.sentence)}</li>`).join('\n')}</ul>`);
  }
  body.push('<h2>Results</h2>', `<p>${escapeHtml(AGGREGATION_NOTE)} Hover a point for its value; click a model in a legend to hide it.</p>`);
  const placed = new Set<string>();
  for (const s of [...tableSections(results), ...openLoopSections(results)]) {
    const section = s.heading.replace(/ \((closed|open) loop; .*$/, (_m, loop: string) => (loop === 'open' ? ' (open loop)' : ''));
    body.push(`<h3>${escapeHtml(s.heading)}</h3>`);
    // A scenario's own chart covers all its variants (io-wait pooled and per-request): it goes above the first.
    for (const c of charts.filter((x) => !placed.has(x.id) && (x.section === section || section.startsWith(`${x.section}, `)))) {
      placed.add(c.id);
      body.push(figureHtml(c));
    }
    body.push(`<details><summary>table</summary><div class="scroll">${htmlTable(s.columns, s.rows)}</div></details>`);
  }
  const hosts = perHostTables(results);
  if (hosts.length > 0) {
    body.push('<h2>Each host\'s part</h2>', `<p>${escapeHtml(PER_HOST_NOTE)}</p>`);
    for (const t of hosts) body.push(`<h3>${escapeHtml(t.heading)}</h3>`, `<div class="scroll">${htmlTable(t.columns, t.rows)}</div>`);
  }
  if (options.comparisonHtml) body.push('<h2>Comparison with baseline</h2>', options.comparisonHtml);
  const n = notes(results);
  body.push('<h2>Notes</h2>', n.length > 0 ? `<ul>${n.map((x) => `<li>${escapeHtml(x)}</li>`).join('\n')}</ul>` : '<p>No cell hit a limit, failed, or saturated the load generator.</p>');
  body.push('<h2>Machine</h2>', htmlList(machine(results)));
  body.push('<h2>Settings</h2>', htmlList(settings(results)), `<p><b>Command</b></p><pre>${escapeHtml(results.command)}</pre>`);
  body.push('<h2>Every cell</h2>');
  for (const key of sections(groupCells(results.cells))) {
    const cells = results.cells.filter((c) => c.protocol === key.protocol && c.scenario === key.scenario && variantOf(c) === key.variant);
    body.push(`<details><summary>${escapeHtml(sectionName(key))}: ${cells.length} cells</summary><div class="scroll detail">${htmlTable(DETAIL_COLUMNS, cells.map(detailRow))}</div></details>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>concurrency-bench ${escapeHtml(results.runId)}</title>
<style>${CSS}
${SCORECARD_CSS}</style></head>
<body>
${body.join('\n')}
<script type="application/json" id="bench-data">${embedJson({ charts })}</script>
<script>${chartJsSource()}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

/** A chart's figure: one canvas, or a line chart's panels under its title and notes; one axis button for all. */
function figureHtml(c: PageChart): string {
  const button = `<button id="${c.id}-scale" type="button">${c.yLog ? 'linear y axis' : 'log y axis'}</button>`;
  if (!c.panels) return `<figure><div class="chart"><canvas id="${c.id}" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div>${button}</figure>`;
  const caption = `<figcaption><b>${escapeHtml(PANELS_TITLE(c.title))}</b>${c.subtitle.map((l) => `<br><small>${escapeHtml(l)}</small>`).join('')}</figcaption>`;
  const panels = c.panels.map((p) => `<div class="panel"><canvas id="${p.id}" role="img" aria-label="${escapeHtml(`${c.title}: ${p.title}`)}"></canvas></div>`).join('');
  return `<figure id="${c.id}">${caption}<div class="panels">${panels}</div>${button}</figure>`;
}

/** The PNG file name of a page chart, to link findings (which name PNGs) to it. */
function chartFileOf(results: Results, c: PageChart): string | undefined {
  return [...chartSpecs(results), ...scenarioChartSpecs(results), ...rateChartSpecs(results)].find((s) => s.title === c.title)?.file;
}

// ---------------------------------------------------------------------------------------------
// Files

/**
 * Read `runDir/results.json` (or a results file path, whose folder is then the run folder), draw the
 * charts into `charts/`, and write report.md and report.html beside it, each atomically.
 */
export async function writeReport(runDir: string, options: ReportOptions = {}): Promise<ReportFiles> {
  const dir = runDir.endsWith('.json') ? dirname(runDir) : runDir;
  const results = readResults(runDir);
  options = { micro: readMicroNear(dir), ...options };
  const charts = await renderCharts(results, join(dir, 'charts'), scenarioChartSpecs(results));
  // A cell long enough for a memory line (a soak) gets its timeline drawn: the line is the answer.
  for (const { cell } of memoryTrends(results.cells)) {
    const path = join(dir, 'charts', timelineFile(cell));
    writeFileAtomic(path, renderConfigPng(timelineConfig(results, cell) as unknown as Parameters<typeof renderConfigPng>[0]));
    charts.push(path);
  }
  const markdown = join(dir, 'report.md');
  const html = join(dir, 'report.html');
  writeFileAtomic(markdown, renderMarkdown(results, charts, options));
  writeFileAtomic(html, renderHtml(results, options));
  return { markdown, html, charts };
}
