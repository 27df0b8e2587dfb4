// One cell's window over time: correct operations per second and p99 latency in each interval, the
// chart load tools draw to show a stall, a warm-up that was too short, or a slow drift.
import type { Chart, ChartConfiguration } from 'chart.js';
import { modelColor, paintWhite } from './chart-style.js';
import type { Cell, Results } from '../schema/results.js';
import { variantOf } from './aggregate.js';

export class TimelineError extends Error {
  readonly code = 'ETIMELINE';
}

/** `model/protocol/concurrency[/repetition]`, e.g. `epoll/http/64` (repetition 1 by default). */
export function findTimelineCell(results: Results, selector: string): Cell {
  const [model, protocol, conc, rep] = selector.split('/');
  const matches = results.cells.filter((c) => c.model === model && c.protocol === protocol && String(c.concurrency) === conc && c.repetition === Number(rep ?? 1));
  const withTimeline = matches.filter((c) => c.timeline && c.timeline.ops.length > 0);
  if (withTimeline.length === 0) {
    const known = [...new Set(results.cells.filter((c) => c.timeline).map((c) => `${c.model}/${c.protocol}/${c.concurrency}`))].join(', ');
    const why = matches.length === 0 ? 'no such cell' : 'that cell has no timeline (autocannon, wrk, or not measured)';
    throw new TimelineError(`--timeline: ${why}: "${selector}"; cells with a timeline: ${known || 'none'} (form: model/protocol/concurrency[/repetition])`);
  }
  return withTimeline[0]!;
}

export function timelineFile(c: Cell): string {
  const rate = c.rate !== null ? `-r${Math.round(c.rate)}` : '';
  // Scenario and variant too: io-wait's pooled and per-request cells at 64 are not steady's.
  const scenario = c.scenario === 'steady' ? '' : `-${c.scenario}`;
  const variant = variantOf(c).replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '');
  return `timeline-${c.model}-${c.protocol}${scenario}${variant ? `-${variant}` : ''}-c${c.concurrency}${rate}-rep${c.repetition}.png`;
}

export function timelineConfig(results: Results, c: Cell): ChartConfiguration<'line', (number | null)[], string> {
  const t = c.timeline!;
  const labels = t.ops.map((_, k) => ((k + 1) * t.intervalS).toFixed(t.intervalS < 1 ? 1 : 0));
  const font = (size: number, weight: 'bold' | 'normal' = 'normal') => ({ family: "'DejaVu Sans', Arial, sans-serif", size, weight });
  const load = c.rate !== null ? `open loop at ${Math.round(c.rate).toLocaleString('en-US')}/s` : 'closed loop';
  return {
    type: 'line',
    data: {
      labels,
      datasets: [
        { label: 'ops/s', data: t.ops.map((n) => n / t.intervalS), borderColor: modelColor(c.model, c.family), backgroundColor: modelColor(c.model, c.family), yAxisID: 'ops', borderWidth: 3, tension: 0 },
        { label: 'p99 latency (ms)', data: t.p99Us.map((us) => (us > 0 ? us / 1000 : null)), borderColor: '#d62728', backgroundColor: '#d62728', yAxisID: 'p99', borderWidth: 2, borderDash: [6, 4], tension: 0 },
        ...memorySets(t),
      ],
    },
    options: {
      animation: false, responsive: false, maintainAspectRatio: false, devicePixelRatio: 1,
      plugins: {
        title: { display: true, text: `${c.model} ${c.protocol}, ${c.concurrency} connections, ${load}: the window over time`, color: '#111', font: font(20, 'bold') },
        subtitle: { display: true, text: `run ${results.runId} · repetition ${c.repetition} · one point per ${t.intervalS} s · latency corrected in open loop`, color: '#333', font: font(13) },
        legend: { labels: { color: '#111', font: font(15) } },
      },
      scales: {
        x: { title: { display: true, text: 'seconds into the window', color: '#111', font: font(16) } },
        ops: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: 'correct operations per second', color: '#111', font: font(16) } },
        p99: { type: 'linear', position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'p99 latency (ms)', color: '#111', font: font(16) } },
        ...(memorySets(t).length > 0 ? { mem: { type: 'linear' as const, position: 'right' as const, beginAtZero: false, grid: { drawOnChartArea: false }, title: { display: true, text: 'server memory (MiB)', color: '#111', font: font(16) } } } : {}),
      },
    },
    plugins: [{ id: 'whiteBackground', beforeDraw: (chart) => paintWhite(chart as unknown as Chart) }],
  };
}

/** The server tree's PSS and RSS per interval (schema 5 on), in MiB; gaps where no reading fell, bridged. */
function memorySets(t: NonNullable<Cell['timeline']>) {
  const mib = (b: number | null | undefined): number | null => (b === null || b === undefined ? null : b / 1048576);
  const sets = [];
  if (t.pssBytes?.some((b) => b !== null)) sets.push({ label: 'PSS (MiB)', data: t.pssBytes.map(mib), borderColor: '#2ca02c', backgroundColor: '#2ca02c', yAxisID: 'mem', borderWidth: 2, tension: 0, spanGaps: true });
  if (t.rssBytes?.some((b) => b !== null)) sets.push({ label: 'RSS (MiB)', data: t.rssBytes.map(mib), borderColor: '#9467bd', backgroundColor: '#9467bd', yAxisID: 'mem', borderWidth: 1, borderDash: [2, 3], tension: 0, spanGaps: true });
  return sets;
}
