// The comparison as Markdown, for a terminal or a CI step summary.
import { formatNumber, formatP, type Comparison, type ComparisonRow, type Metric, type MetricComparison, type Verdict } from './compare.js';

const METRIC_LABEL: Record<Metric, string> = { throughput: 'ops/s', p99: 'p99 µs' };

/** The comparison as Markdown: a summary line, warnings, one table row per cell per metric, and notes. */
export function comparisonMarkdown(c: Comparison): string {
  const o = c.options;
  const lines = [
    `## Comparison: ${c.base.runId} (base) → ${c.current.runId} (current)`,
    '',
    `**${summaryLine(c)}** · noise band ±${formatNumber(o.threshold * 100)}%, ` +
      `${o.level * 100}% bootstrap CI (${o.iterations} resamples, seed ${o.seed}), ` +
      `two-sided Mann-Whitney U over repetitions, α = ${o.alpha}${o.strict ? ', strict' : ''}`,
    '',
    ...c.warnings.map((w) => `> warning: ${escapeCell(w)}`),
    ...(c.warnings.length > 0 ? [''] : []),
    `| cell | cell verdict | metric | base | current | Δ% (${o.level * 100}% CI) | p | n (base/current) | verdict |`,
    '|---|---|---|--:|--:|---|--:|--:|---|',
    ...c.rows.flatMap(rowLines),
    '',
    ...notes(c),
  ];
  return lines.join('\n').replace(/\n+$/, '') + '\n';
}

function summaryLine(c: Comparison): string {
  const n = c.counts;
  const result = c.exitCode === 0 ? 'PASS' : 'FAIL';
  return `${result}: ${n.regression} regression, ${n.improvement} improvement, ${n['no change']} no change, ${n.inconclusive} inconclusive`;
}

function rowLines(r: ComparisonRow): string[] {
  return [r.throughput, r.p99].map((m, i) => {
    const first = i === 0;
    const cells = [
      first ? escapeCell(r.label) : '',
      first ? verdictText(r.verdict) : '',
      METRIC_LABEL[m.metric],
      formatNumber(m.base.median),
      formatNumber(m.current.median),
      formatDelta(m),
      m.p === null ? '–' : formatP(m.p),
      `${m.base.n}/${m.current.n}`,
      verdictText(m.verdict),
    ];
    return `| ${cells.join(' | ')} |`;
  });
}

function notes(c: Comparison): string[] {
  const out: string[] = [];
  for (const r of c.rows) {
    if (r.problems.length > 0) out.push(`- ${r.label}: ${r.problems.join('; ')}`);
    else for (const m of [r.throughput, r.p99]) if (m.reason) out.push(`- ${r.label} ${METRIC_LABEL[m.metric]}: ${m.reason}`);
  }
  if (c.onlyInBase.length > 0) out.push(`- only in base (not compared): ${c.onlyInBase.join(', ')}`);
  if (c.onlyInCurrent.length > 0) out.push(`- only in current (not compared): ${c.onlyInCurrent.join(', ')}`);
  return out.length > 0 ? ['Notes:', '', ...out.map(escapeCell)] : [];
}

function verdictText(v: Verdict): string {
  return v === 'regression' ? '**regression**' : v;
}

function formatDelta(m: MetricComparison): string {
  if (!Number.isFinite(m.ratio)) return '–';
  const pct = (r: number): string => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;
  return m.ci ? `${pct(m.ratio)} (${pct(m.ci.lo)} … ${pct(m.ci.hi)})` : pct(m.ratio);
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}
