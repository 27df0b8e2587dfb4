// The comparison as Markdown (terminal, CI step summary) and as HTML (report.html), from one table.
import { escapeHtml } from './report.js';
import { formatP, formatSignificant } from './format.js';
import { type Comparison, type ComparisonRow, type Metric, type MetricComparison, type Verdict } from './compare.js';

const METRIC_LABEL: Record<Metric, string> = { throughput: 'ops/s', p99: 'p99 µs' };
const COLUMNS = ['cell', 'cell verdict', 'metric', 'base', 'current', 'Δ% (95% CI)', 'p', 'n (base/current)', 'verdict'];

/** The comparison as plain text pieces, formatted by both renderers below. */
interface Table {
  title: string;
  summary: string;
  method: string;
  warnings: string[];
  /** Two rows per cell (throughput, p99); the label and cell verdict only on the first. */
  rows: { cells: string[]; verdicts: [Verdict | null, Verdict] }[];
  notes: string[];
}

function table(c: Comparison): Table {
  const o = c.options;
  const n = c.counts;
  return {
    title: `Comparison: ${c.base.runId} (base) → ${c.current.runId} (current)`,
    summary: `${c.exitCode === 0 ? 'PASS' : 'FAIL'}: ${n.regression} regression, ${n.improvement} improvement, ${n['no change']} no change, ${n.inconclusive} inconclusive`,
    method:
      `noise band ±${formatSignificant(o.threshold * 100)}%, ${o.level * 100}% bootstrap CI (${o.iterations} resamples, seed ${o.seed}), ` +
      `two-sided Mann-Whitney U over repetitions, α = ${o.alpha}${o.strict ? ', strict' : ''}`,
    warnings: c.warnings,
    rows: c.rows.flatMap((r) => [r.throughput, r.p99].map((m, i) => metricRow(r, m, i === 0))),
    notes: notes(c),
  };
}

function metricRow(r: ComparisonRow, m: MetricComparison, first: boolean): Table['rows'][number] {
  return {
    cells: [
      first ? r.label : '',
      first ? r.verdict : '',
      METRIC_LABEL[m.metric],
      formatSignificant(m.base.median),
      formatSignificant(m.current.median),
      formatDelta(m),
      m.p === null ? '–' : formatP(m.p),
      `${m.base.n}/${m.current.n}`,
      m.verdict,
    ],
    verdicts: [first ? r.verdict : null, m.verdict],
  };
}

/** Every reason a cell was not judged, and every metric's own reason that those do not already say. */
function notes(c: Comparison): string[] {
  const out: string[] = [];
  for (const r of c.rows) {
    const problems = r.problems.join('; ');
    if (problems) out.push(`${r.label}: ${problems}`);
    for (const m of [r.throughput, r.p99]) {
      if (m.reason && !problems.includes(m.reason)) out.push(`${r.label} ${METRIC_LABEL[m.metric]}: ${m.reason}`);
    }
  }
  if (c.onlyInBase.length > 0) out.push(`only in base (not compared): ${c.onlyInBase.join(', ')}`);
  if (c.onlyInCurrent.length > 0) out.push(`only in current (not compared): ${c.onlyInCurrent.join(', ')}`);
  return out;
}

/** Markdown for a terminal or a CI step summary: summary line, warnings, the table, notes. */
export function comparisonMarkdown(c: Comparison): string {
  const t = table(c);
  const bold = (v: string): string => (v === 'regression' ? '**regression**' : v);
  const lines = [
    `## ${t.title}`,
    '',
    `**${t.summary}** · ${t.method}`,
    '',
    ...t.warnings.map((w) => `> warning: ${escapeCell(w)}`),
    ...(t.warnings.length > 0 ? [''] : []),
    `| ${COLUMNS.join(' | ')} |`,
    '|---|---|---|--:|--:|---|--:|--:|---|',
    ...t.rows.map((r) => `| ${r.cells.map((x, i) => (i === 1 || i === 8 ? bold(x) : escapeCell(x))).join(' | ')} |`),
    '',
    ...(t.notes.length > 0 ? ['Notes:', '', ...t.notes.map((x) => `- ${escapeCell(x)}`)] : []),
  ];
  return lines.join('\n').replace(/\n+$/, '') + '\n';
}

/** The same as an HTML fragment for report.html, verdicts coloured. */
export function comparisonHtml(c: Comparison): string {
  const t = table(c);
  const tone = (v: Verdict | null): string => (v === 'regression' ? ' class="bad"' : v === 'improvement' ? ' class="good"' : '');
  const rows = t.rows.map((r) => {
    const tds = r.cells.map((x, i) => `<td${i === 1 ? tone(r.verdicts[0]) : i === 8 ? tone(r.verdicts[1]) : ''}>${escapeHtml(x)}</td>`);
    return `<tr>${tds.join('')}</tr>`;
  });
  return [
    `<p><strong>${escapeHtml(t.summary)}</strong> · ${escapeHtml(t.method)}</p>`,
    ...t.warnings.map((w) => `<p class="warning">warning: ${escapeHtml(w)}</p>`),
    `<table><thead><tr>${COLUMNS.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>`,
    ...rows,
    '</tbody></table>',
    t.notes.length > 0 ? `<ul>${t.notes.map((x) => `<li>${escapeHtml(x)}</li>`).join('')}</ul>` : '',
  ].join('\n');
}

function formatDelta(m: MetricComparison): string {
  if (!Number.isFinite(m.ratio)) return '–';
  const pct = (r: number): string => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;
  return m.ci ? `${pct(m.ratio)} (${pct(m.ci.lo)} … ${pct(m.ci.hi)})` : pct(m.ratio);
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}
