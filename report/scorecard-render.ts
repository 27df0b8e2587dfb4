// The scorecard as report.md and report.html show it, at the top of each: a table of fractions of
// the best, a heat map in the page, and under it how every column was read and which model was best.
import type { Results } from '../schema/results.js';
import { cellText, MEMORY_FLOOR_BYTES, scorecard, type ScoreCell, type ScoreColumn, type Scorecard } from './scorecard.js';

export const SCORECARD_NOTE =
  "Each cell is a model's figure as a fraction of the best model's in that column (100%: the best; for memory, the best's growth divided by the model's). Every column takes its figure at one setting, the same for every model: the protocol, backend and concurrency with the most models in it (then the most connections). — : not measured at that setting; limit or failed: measured, no figure (the reason is in the hover and in Notes); ○ : the load generator was saturated, so the figure is at least this. Medians over repetitions, without their intervals: the findings below say which differences are larger than the noise.";

/** `steady echo: throughput (ops/s), higher is better, at echo, 256 connections; best: epoll (41,000/s)`. */
export function columnLine(c: ScoreColumn): string {
  if (!c.setting) return `${c.title}: not measured in this run`;
  const best = c.best ? `best: ${c.best.model} (${c.best.shown})` : 'no model has a figure here';
  return `${c.title}: ${c.figure}, at ${c.setting}; ${best}`;
}

/** One line per limit or failed cell: where and why. */
function limitLines(card: Scorecard): string[] {
  return card.rows.flatMap((r) => r.cells.flatMap((c, i) => (c.reason ? [`${r.label} in ${card.columns[i]!.title}: ${c.status}: ${clip(c.reason, 140)}`] : [])));
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

/** The Markdown section; `md` escapes text for a table cell. */
export function scorecardMarkdown(results: Results, md: (s: string) => string): string[] {
  const card = scorecard(results);
  if (card.rows.length === 0) return [];
  const header = ['model', ...card.columns.map((c) => (c.setting ? c.title : `${c.title} (not measured)`))];
  const rows = card.rows.map((r) => [md(r.label), ...r.cells.map((c) => (c.best ? `**${md(cellText(c))}**` : md(cellText(c))))]);
  const best = ['**best**', ...card.columns.map((c) => (c.best ? md(c.best.model) : c.setting ? 'none' : 'not measured'))];
  const limits = limitLines(card);
  return [
    '## The answer at a glance', '', SCORECARD_NOTE, '',
    `| ${header.map(md).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`,
    ...[...rows, best].map((r) => `| ${r.join(' | ')} |`), '',
    ...card.columns.map((c) => `- ${md(columnLine(c))}`),
    ...(limits.length > 0 ? ['', 'Limits and failures in the scorecard:', '', ...limits.map((l) => `- ${md(l)}`)] : []),
    '',
  ];
}

/**
 * A fraction's background: one green from pale (0) to dark (1), lightness linear in the fraction,
 * so the eye reads the order without a legend and readers who cannot tell red from green lose nothing.
 */
export function heatColor(fraction: number): { background: string; color: string } {
  const f = Math.min(1, Math.max(0, fraction));
  const lightness = Math.round(96 - f * 70);
  return { background: `hsl(140, 45%, ${lightness}%)`, color: lightness < 55 ? '#ffffff' : '#111111' };
}

export const SCORECARD_CSS = `table.scorecard td,table.scorecard th{text-align:center;min-width:6.5em}table.scorecard td:first-child,table.scorecard th:first-child{text-align:left}
table.scorecard th small{display:block;font-weight:normal;color:#444;white-space:normal}table.scorecard td.limit{background:#fff0e0;color:#b35900}
table.scorecard td.failed{background:#fde0dc;color:#a01010}table.scorecard td.none{color:#888}table.scorecard td.best{font-weight:bold;outline:2px solid #111;outline-offset:-2px}
table.scorecard tr.best-row td{background:#f6f6f6;font-weight:bold}`;

function cellHtml(c: ScoreCell, column: ScoreColumn, model: string, esc: (s: unknown) => string): string {
  const title = c.status === 'ok'
    ? `${model}: ${c.shown}${c.saturated ? ' (load generator saturated: at least this)' : ''} at ${column.setting}; ${Math.round(c.fraction! * 1000) / 10}% of ${column.best!.model}'s ${column.best!.shown}`
    : c.status === 'not measured' ? `${model}: not measured at ${column.setting ?? 'any setting of this column'}` : `${model}: ${c.status} at ${column.setting}: ${c.reason}`;
  if (c.status !== 'ok') return `<td class="${c.status === 'not measured' ? 'none' : c.status}" title="${esc(title)}">${esc(cellText(c))}</td>`;
  const { background, color } = heatColor(c.fraction!);
  return `<td class="heat${c.best ? ' best' : ''}" data-fraction="${c.fraction!.toFixed(4)}" style="background:${background};color:${color}" title="${esc(title)}">${esc(cellText(c))}</td>`;
}

/** The HTML section; `esc` escapes text and attributes. */
export function scorecardHtml(results: Results, esc: (s: unknown) => string): string {
  const card = scorecard(results);
  if (card.rows.length === 0) return '';
  const th = card.columns.map((c) => `<th data-column="${c.id}" title="${esc(columnLine(c))}">${esc(c.title)}<small>${esc(c.setting ?? 'not measured')}</small></th>`).join('');
  const rows = card.rows.map((r) => `<tr><td>${esc(r.label)}</td>${r.cells.map((c, i) => cellHtml(c, card.columns[i]!, r.model, esc)).join('')}</tr>`);
  const best = `<tr class="best-row"><td>best</td>${card.columns.map((c) => `<td>${esc(c.best?.model ?? (c.setting ? 'none' : 'not measured'))}</td>`).join('')}</tr>`;
  const lines = card.columns.map((c) => `<li>${esc(columnLine(c))}</li>`).join('');
  return [
    '<h2 id="scorecard">The answer at a glance</h2>', `<p>${esc(SCORECARD_NOTE)}</p>`,
    `<div class="scroll"><table class="scorecard"><thead><tr><th>model</th>${th}</tr></thead><tbody>\n${rows.join('\n')}\n${best}\n</tbody></table></div>`,
    `<details><summary>how each column was read</summary><ul>${lines}</ul><p>Memory slopes under ${MEMORY_FLOOR_BYTES / 1024} KiB per connection count as ${MEMORY_FLOOR_BYTES / 1024} KiB: below that the heap's own movement between two cells decides the order.</p></details>`,
  ].join('\n');
}
