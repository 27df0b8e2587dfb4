import { describe, expect, it } from 'vitest';
import type { Cell } from '../../schema/results.js';
import { memoryTrend, memoryTrends } from '../../report/memory.js';
import { buildResults } from '../helpers/results-builder.js';

const MiB = 1048576;

/** A steady cell whose timeline holds `pss` (bytes, one per 1 s interval). */
function soakCell(pss: (number | null)[], rss?: (number | null)[]): Cell {
  const c = buildResults([{ model: 'epoll', protocol: 'http', opsPerSec: [10_000] }]).cells[0]!;
  c.timeline = { intervalS: 1, ops: pss.map(() => 10_000), p99Us: pss.map(() => 900), pssBytes: pss, rssBytes: rss ?? pss.map((b) => (b === null ? null : b + 4 * MiB)) };
  return c;
}

/** A wobble of ±`amp` bytes that repeats, so the tests are deterministic. */
const wobble = (k: number, amp: number): number => amp * [0, 0.8, -0.6, 0.3, -0.9, 0.5, -0.2, 0.7, -0.4, 0.1][k % 10]!;

describe('memory over the window', () => {
  it('calls a steady climb growth, with its slope per minute and its interval', () => {
    // 60 s, 0.1 MiB a second (6 MiB/min) on top of 50 MiB, ±0.3 MiB of wobble.
    const t = memoryTrend(soakCell(Array.from({ length: 60 }, (_, k) => 50 * MiB + k * 0.1 * MiB + wobble(k, 0.3 * MiB))));
    expect(t.verdict).toBe('grew');
    expect(t.measure).toBe('PSS');
    expect(t.slope * 60 / MiB).toBeCloseTo(6, 0);
    expect(t.slopeLow).toBeGreaterThan(0);
    expect(t.sentence).toBe('PSS went from 50.0 MiB to 55.9 MiB over 59 s: 6.00 MiB/min (95% interval 5.85 MiB/min to 6.14 MiB/min, 60 readings); it grew: the whole interval is above zero and makes 5.9 MiB over the window');
  });

  it('calls a plateau no growth, and a short or noisy window unclear or too short', () => {
    const flat = memoryTrend(soakCell(Array.from({ length: 60 }, (_, k) => 50 * MiB + wobble(k, 0.2 * MiB))));
    expect(flat.verdict).toBe('no growth');
    expect(flat.sentence).toContain("no growth: even the interval's top makes less than 1.0 MiB over the window");
    // Half a MiB of growth hidden in ±3 MiB of noise, over 10 readings: the interval spans both answers.
    const noisy = memoryTrend(soakCell(Array.from({ length: 10 }, (_, k) => 50 * MiB + k * 0.05 * MiB + wobble(k, 3 * MiB))));
    expect(noisy.verdict).toBe('unclear');
    expect(memoryTrend(soakCell([50 * MiB, 51 * MiB, 52 * MiB])).verdict).toBe('too short');
  });

  it('a climb below 1 MiB over the window is not a leak, even when it is certain', () => {
    const t = memoryTrend(soakCell(Array.from({ length: 30 }, (_, k) => 50 * MiB + k * 0.01 * MiB)));
    expect(t.slopeLow).toBeGreaterThan(0);
    expect(t.verdict).toBe('no growth');
  });

  it('skips gaps, reads RSS where PSS has too few readings, and lists only cells long enough for a line', () => {
    const gaps = soakCell(Array.from({ length: 20 }, (_, k) => (k % 2 === 0 ? null : 50 * MiB + k * MiB)));
    expect(memoryTrend(gaps)).toMatchObject({ points: 10, verdict: 'grew', measure: 'PSS' });
    const rssOnly = soakCell(Array.from({ length: 20 }, () => null), Array.from({ length: 20 }, (_, k) => 40 * MiB + k * MiB));
    expect(memoryTrend(rssOnly)).toMatchObject({ measure: 'RSS', points: 20, verdict: 'grew' });
    const short = soakCell([50 * MiB, 50 * MiB]);
    expect(memoryTrends([gaps, short, rssOnly]).map((m) => m.cell)).toEqual([gaps, rssOnly]);
    // A 1 s window's ten readings make no line worth reading: the default suite's cells are left out.
    const oneSecond = soakCell(Array.from({ length: 10 }, (_, k) => 50 * MiB + k * MiB));
    oneSecond.durationS = 1;
    expect(memoryTrends([oneSecond])).toEqual([]);
  });
});
