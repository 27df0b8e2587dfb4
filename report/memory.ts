// Did the server's memory grow through the window? A leak and a high plateau have the same peak;
// only the line tells them apart. The rule: a least-squares line through the PSS of the timeline
// (RSS where PSS was not read), its slope with a 95% confidence interval, and the growth that slope
// makes over the window. It grew when the whole interval lies above zero and the growth is at least
// GROWTH_FLOOR; it did not when even the interval's top makes less than GROWTH_FLOOR over the window.
import type { Cell } from '../schema/results.js';

/** Less than this over a window is not called a leak: allocators and JITs move a few pages about. */
export const GROWTH_FLOOR_BYTES = 1024 * 1024;
/** Points a line needs before its slope means anything. */
export const MIN_POINTS = 5;

export type MemoryVerdict = 'grew' | 'no growth' | 'unclear' | 'too short';

export interface MemoryTrend {
  verdict: MemoryVerdict;
  /** Which reading the line goes through. */
  measure: 'PSS' | 'RSS';
  points: number;
  /** Seconds from the first point to the last. */
  spanS: number;
  /** Bytes per second, and its 95% confidence interval. */
  slope: number;
  slopeLow: number;
  slopeHigh: number;
  firstBytes: number;
  lastBytes: number;
  sentence: string;
}

/** Student's t for a two-sided 95% interval, by degrees of freedom (1 to 30; the normal's 1.96 beyond). */
const T95 = [12.71, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
export const t95 = (df: number): number => (df <= 0 ? Infinity : df <= T95.length ? T95[df - 1]! : 1.96);

/** The memory points of a cell's timeline: seconds into the window and bytes. */
export function memoryPoints(c: Cell): { measure: 'PSS' | 'RSS'; at: number[]; bytes: number[] } {
  const t = c.timeline;
  const pick = (series: (number | null)[] | undefined): { at: number[]; bytes: number[] } => {
    const at: number[] = [];
    const bytes: number[] = [];
    (series ?? []).forEach((b, k) => {
      if (b === null || b === undefined) return;
      at.push((k + 1) * t!.intervalS);
      bytes.push(b);
    });
    return { at, bytes };
  };
  const pss = pick(t?.pssBytes);
  if (pss.bytes.length >= MIN_POINTS || (t?.rssBytes ?? []).length === 0) return { measure: 'PSS', ...pss };
  return { measure: 'RSS', ...pick(t?.rssBytes) };
}

export function memoryTrend(c: Cell): MemoryTrend {
  const { measure, at, bytes } = memoryPoints(c);
  const n = at.length;
  const base = { measure, points: n, firstBytes: bytes[0] ?? 0, lastBytes: bytes[n - 1] ?? 0 };
  if (n < MIN_POINTS) {
    return { ...base, verdict: 'too short', spanS: n > 1 ? at[n - 1]! - at[0]! : 0, slope: 0, slopeLow: 0, slopeHigh: 0, sentence: `too few memory readings to draw a line (${n}; needs ${MIN_POINTS}: a window of 3 s or more)` };
  }
  const mx = at.reduce((a, b) => a + b, 0) / n;
  const my = bytes.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let k = 0; k < n; k++) {
    sxx += (at[k]! - mx) ** 2;
    sxy += (at[k]! - mx) * (bytes[k]! - my);
  }
  const slope = sxy / sxx;
  let sse = 0;
  for (let k = 0; k < n; k++) sse += (bytes[k]! - (my + slope * (at[k]! - mx))) ** 2;
  const half = t95(n - 2) * Math.sqrt(sse / (n - 2) / sxx);
  const spanS = at[n - 1]! - at[0]!;
  const slopeLow = slope - half;
  const slopeHigh = slope + half;
  const verdict: MemoryVerdict = slopeLow > 0 && slope * spanS >= GROWTH_FLOOR_BYTES ? 'grew' : slopeHigh * spanS < GROWTH_FLOOR_BYTES ? 'no growth' : 'unclear';
  const perMin = (b: number): string => `${((b * 60) / 1048576).toFixed(2)} MiB/min`;
  const what = `${measure} went from ${mib(base.firstBytes)} to ${mib(base.lastBytes)} over ${spanS.toFixed(0)} s: ${perMin(slope)} (95% interval ${perMin(slopeLow)} to ${perMin(slopeHigh)}, ${n} readings)`;
  const why =
    verdict === 'grew'
      ? `it grew: the whole interval is above zero and makes ${mib(slope * spanS)} over the window`
      : verdict === 'no growth'
        ? `no growth: even the interval's top makes less than ${mib(GROWTH_FLOOR_BYTES)} over the window`
        : `unclear: the interval allows both no growth and ${mib(GROWTH_FLOOR_BYTES)} or more over the window; a longer window decides`;
  return { ...base, verdict, spanS, slope, slopeLow, slopeHigh, sentence: `${what}; ${why}` };
}

function mib(b: number): string {
  return `${(b / 1048576).toFixed(1)} MiB`;
}

/**
 * The shortest window a memory line is drawn for. A 1 s window's ten RSS readings make a line, but
 * what it says is a thread's first stack pages, not a leak: every default-suite cell read "grew"
 * or "unclear", and the report listed all of them.
 */
export const MIN_SPAN_S = 3;

/** The cells whose window is long enough for a line (a soak's), with their trends. */
export function memoryTrends(cells: readonly Cell[]): { cell: Cell; trend: MemoryTrend }[] {
  return cells.filter((c) => c.status === 'ok' && c.durationS >= MIN_SPAN_S && memoryPoints(c).bytes.length >= MIN_POINTS).map((cell) => ({ cell, trend: memoryTrend(cell) }));
}
