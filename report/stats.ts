// Pure statistics over plain numbers. Hand-checked in test/unit/stats.test.ts.

/** Arithmetic mean; NaN for an empty list. */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * The p-th percentile (0..100) by linear interpolation between closest ranks (the method of
 * numpy's default and R type 7); NaN for an empty list.
 */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  if (p < 0 || p > 100) throw new RangeError(`percentile: p must be within 0..100, got ${p}`);
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Interval with the confidence level it actually reaches (exact methods can only hit some levels). */
export interface Interval {
  lo: number;
  hi: number;
  /** Coverage actually achieved, 0..1. */
  level: number;
}

/**
 * Distribution-free confidence interval for the median from order statistics: the widest-needed
 * symmetric pair (x_(k), x_(n-k+1)) whose binomial coverage is at least `level`. With too few values
 * to reach `level` (n < 6 for 95%) it returns the full range and the coverage that range reaches, so
 * a report can say how sure it is instead of pretending.
 */
export function medianCI(xs: readonly number[], level = 0.95): Interval {
  const n = xs.length;
  if (n === 0) return { lo: NaN, hi: NaN, level: 0 };
  const sorted = [...xs].sort((a, b) => a - b);
  // P(k <= B <= n-k) for B ~ Binomial(n, 1/2), widening from the middle outward.
  const pmf = binomialHalfPmf(n);
  let best = { k: 1, coverage: 1 - 2 * pmf[0]! };
  for (let k = 1; k <= Math.floor((n + 1) / 2); k++) {
    let tail = 0;
    for (let i = 0; i < k; i++) tail += pmf[i]!;
    const coverage = 1 - 2 * tail;
    if (coverage >= level) best = { k, coverage };
    else break;
  }
  const { k, coverage } = best;
  return { lo: sorted[k - 1]!, hi: sorted[n - k]!, level: Math.max(0, coverage) };
}

function binomialHalfPmf(n: number): number[] {
  const pmf: number[] = [];
  let c = 1; // C(n, i), kept as a float: n here is a repetition count, far below overflow
  for (let i = 0; i <= n; i++) {
    pmf.push(c / 2 ** n);
    c = (c * (n - i)) / (i + 1);
  }
  return pmf;
}

// ---------------------------------------------------------------------------------------------
// Comparison statistics: a seeded PRNG, the Mann-Whitney U test and a bootstrap CI of a ratio of
// medians. Used by harness/compare.ts; hand-checked in test/unit/stats-compare.test.ts.

/**
 * mulberry32: a tiny 32-bit seeded PRNG returning floats in [0, 1). Not for cryptography; used so
 * a bootstrap (and so a comparison report) is identical for identical inputs.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Largest sample (per side) for which mannWhitneyU counts the exact null distribution. */
const MANN_WHITNEY_EXACT_MAX = 50;

export interface MannWhitney {
  /** U of the first sample: pairs (a_i, b_j) with a_i > b_j, plus half of the tied pairs. 0..m·n. */
  u: number;
  /** Two-sided p = min(1, 2·min(P(U ≤ u), P(U ≥ u))) under the null of exchangeable samples. */
  p: number;
  /** `exact` counts the permutation distribution; `normal` is the tie-corrected normal approximation. */
  method: 'exact' | 'normal';
}

/**
 * Two-sided Mann-Whitney U test. Ties get midranks. Up to MANN_WHITNEY_EXACT_MAX values per side the
 * p-value is exact: the null distribution of the rank sum is counted over every way of choosing m of
 * the m+n observed (mid)ranks, so with ties it is the exact conditional (permutation) distribution and
 * without ties the classical table. Above that it uses the normal approximation with tie-corrected
 * variance and a 0.5 continuity correction.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitney {
  const m = a.length;
  const n = b.length;
  if (m === 0 || n === 0) throw new RangeError('mannWhitneyU: both samples need at least one value');
  const all = [...a, ...b];
  if (!all.every(Number.isFinite)) throw new RangeError('mannWhitneyU: values must be finite numbers');
  const { ranks2, tieTerm } = doubledMidranks(all);
  let s2 = 0;
  for (let i = 0; i < m; i++) s2 += ranks2[i]!;
  const u = s2 / 2 - (m * (m + 1)) / 2;
  if (Math.max(m, n) <= MANN_WHITNEY_EXACT_MAX) return { u, p: exactRankSumP(ranks2, m, s2), method: 'exact' };
  return { u, p: normalUP(u, m, n, tieTerm), method: 'normal' };
}

/** Twice the midrank of each value (so ranks stay integers), and Σ(t³ − t) over tie groups. */
function doubledMidranks(xs: readonly number[]): { ranks2: number[]; tieTerm: number } {
  const order = xs.map((_, i) => i).sort((i, j) => xs[i]! - xs[j]!);
  const ranks2 = new Array<number>(xs.length).fill(0);
  let tieTerm = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && xs[order[j + 1]!] === xs[order[i]!]) j++;
    // positions i..j (0-based) share the midrank ((i+1)+(j+1))/2; doubled that is i+j+2
    for (let k = i; k <= j; k++) ranks2[order[k]!] = i + j + 2;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  return { ranks2, tieTerm };
}

/**
 * Exact two-sided p for an observed (doubled) rank sum s2 of the first m values: counts, by dynamic
 * programming, how many m-subsets of the observed ranks reach each sum. Counts are floats; C(100, 50)
 * is about 1e29, far inside float range, and only their ratios matter.
 */
function exactRankSumP(ranks2: readonly number[], m: number, s2: number): number {
  const total = ranks2.reduce((s, r) => s + r, 0);
  const width = total + 1;
  const ways = new Float64Array((m + 1) * width); // ways[k * width + s]: k values chosen, doubled sum s
  ways[0] = 1;
  let reach = 0;
  ranks2.forEach((r, i) => {
    reach += r;
    for (let k = Math.min(i + 1, m); k >= 1; k--) {
      const row = k * width;
      const prev = (k - 1) * width;
      for (let s = reach; s >= r; s--) ways[row + s]! += ways[prev + s - r]!;
    }
  });
  let all = 0;
  let le = 0;
  let ge = 0;
  for (let s = 0; s <= total; s++) {
    const w = ways[m * width + s]!;
    all += w;
    if (s <= s2) le += w;
    if (s >= s2) ge += w;
  }
  return Math.min(1, (2 * Math.min(le, ge)) / all);
}

function normalUP(u: number, m: number, n: number, tieTerm: number): number {
  const N = m + n;
  const variance = ((m * n) / 12) * (N + 1 - tieTerm / (N * (N - 1)));
  if (variance <= 0) return 1; // every value tied: no evidence either way
  const z = Math.max(0, Math.abs(u - (m * n) / 2) - 0.5) / Math.sqrt(variance);
  return Math.min(1, erfc(z / Math.SQRT2));
}

/** Complementary error function (Numerical Recipes erfcc), fractional error below 1.2e-7 everywhere. */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  // Horner form of the fitted polynomial in t
  const coeffs = [0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418,
    0.37409196, 1.00002368, -1.26551223];
  const poly = coeffs.reduce((acc, c) => acc * t + c, 0);
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

export interface BootstrapOptions {
  /** Resamples; default 10,000. */
  iterations?: number;
  /** Two-sided confidence level, 0..1 exclusive; default 0.95. */
  level?: number;
  /** Seed for mulberry32; a fixed default so identical inputs give an identical interval. */
  seed?: number;
}

export const BOOTSTRAP_DEFAULTS = { iterations: 10_000, level: 0.95, seed: 0x5eed_c0de } as const;

/**
 * Percentile-bootstrap CI of median(current) / median(base): each side is resampled with replacement
 * (independently, at its own size) `iterations` times, and the interval is the (1−level)/2 and
 * (1+level)/2 percentiles of the resampled ratios. Values must be finite and positive (a ratio of a
 * zero median means nothing). Inputs are sorted first, so only the values matter, not their order.
 */
export function bootstrapRatioCI(
  base: readonly number[],
  current: readonly number[],
  options: BootstrapOptions = {},
): { lo: number; hi: number } {
  const { iterations, level, seed } = { ...BOOTSTRAP_DEFAULTS, ...options };
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(`bootstrapRatioCI: iterations must be a positive integer, got ${iterations}`);
  }
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrapRatioCI: level must be within (0, 1), got ${level}`);
  for (const xs of [base, current]) {
    if (xs.length === 0 || !xs.every((x) => Number.isFinite(x) && x > 0)) {
      throw new RangeError('bootstrapRatioCI: each side needs at least one value, all finite and > 0');
    }
  }
  const rand = mulberry32(seed);
  const b = Float64Array.from(base).sort();
  const c = Float64Array.from(current).sort();
  const bufB = new Float64Array(b.length);
  const bufC = new Float64Array(c.length);
  const ratios = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) {
    ratios[i] = resampledMedian(c, bufC, rand) / resampledMedian(b, bufB, rand);
  }
  return { lo: percentile(ratios, (100 * (1 - level)) / 2), hi: percentile(ratios, (100 * (1 + level)) / 2) };
}

/** Median of one resample with replacement of xs, drawn into buf (reused to spare allocations). */
function resampledMedian(xs: Float64Array, buf: Float64Array, rand: () => number): number {
  for (let i = 0; i < xs.length; i++) buf[i] = xs[Math.floor(rand() * xs.length)]!;
  buf.sort();
  const mid = (buf.length - 1) / 2;
  return (buf[Math.floor(mid)]! + buf[Math.ceil(mid)]!) / 2;
}
