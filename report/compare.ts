// Current run vs baseline: per cell, the change in throughput and p99 latency with a bootstrap CI and
// an exact Mann-Whitney U test over per-repetition values, and a verdict against a noise band.
// Pure: takes two parsed results files and returns data (and Markdown); scripts/compare.ts reads the
// files, writes the outputs and turns the outcome into an exit status. Which cells are matched is
// compare-match.ts's.
import type { Cell, Results } from '../schema/results.js';
export { CompareError, type CompareErrorCode, type CompareKey } from './compare-match.js';
import { CompareError, groupCells, noCommonCells, settingsMismatch, settingsWarnings, type CompareKey, type Group } from './compare-match.js';
import { formatP, formatSignificant } from './format.js';
import { BOOTSTRAP_DEFAULTS, bootstrapRatioCI, mannWhitneyU, median } from './stats.js';

export type Metric = 'throughput' | 'p99';
export type Verdict = 'regression' | 'improvement' | 'no change' | 'inconclusive';

export interface CompareOptions {
  /** Noise band T as a fraction (0.10 = ±10%); a change must clear it to count. */
  threshold: number;
  /** When true, an inconclusive cell fails the comparison (exit code 1) as a regression does. */
  strict: boolean;
  /** Bootstrap resamples; default 10,000. */
  iterations?: number;
  /** Bootstrap seed; a fixed default so identical inputs give an identical report. */
  seed?: number;
}

/** Options after defaults: everything a verdict depends on, recorded in every comparison. */
export interface ResolvedCompareOptions {
  /** Noise band T as a fraction. */
  threshold: number;
  strict: boolean;
  /** Bootstrap resamples. */
  iterations: number;
  /** Bootstrap seed (mulberry32). */
  seed: number;
  /** Two-sided confidence level of the bootstrap CI. */
  level: number;
  /** Significance level of the U test. */
  alpha: number;
  /** Fewest ok repetitions per side: with 4 a side the exact U test's smallest p is 2/70 ≈ 0.029, with 3 it is 0.1. */
  minRepetitions: number;
}

export const COMPARE_DEFAULTS: Readonly<ResolvedCompareOptions> = {
  threshold: 0.1,
  strict: false,
  iterations: BOOTSTRAP_DEFAULTS.iterations,
  seed: BOOTSTRAP_DEFAULTS.seed,
  level: 0.95,
  alpha: 0.05,
  minRepetitions: 5,
};



export interface SideSummary {
  /** Repetitions with status `ok` (only these give values). */
  n: number;
  /** All repetitions seen, whatever their status. */
  repetitions: number;
  /** Median over the ok repetitions; NaN when there are none. */
  median: number;
}

export interface MetricComparison {
  metric: Metric;
  base: SideSummary;
  current: SideSummary;
  /** median(current) / median(base). */
  ratio: number;
  /** Bootstrap CI of the ratio; null when there were no usable values. */
  ci: { lo: number; hi: number } | null;
  /** Mann-Whitney U of current against base (pairs where current > base, ties half); null without values. */
  u: number | null;
  p: number | null;
  method: 'exact' | 'normal' | null;
  verdict: Verdict;
  /** Why the verdict is inconclusive; absent otherwise. */
  reason?: string;
}

export interface ComparisonRow {
  key: CompareKey;
  /** `model protocol scenario c=N`. */
  label: string;
  throughput: MetricComparison;
  p99: MetricComparison;
  /** Both metrics combined: see cellVerdict. */
  verdict: Verdict;
  /**
   * Reasons no metric could be judged (too few repetitions, cells not ok), and saturated clients,
   * which block only the verdicts that would rest on the saturated side's figures.
   */
  problems: string[];
}

export interface Comparison {
  base: { runId: string; startedAt: string };
  current: { runId: string; startedAt: string };
  /** Everything the verdicts depended on, so a report can be reproduced. */
  options: ResolvedCompareOptions;
  rows: ComparisonRow[];
  /** Labels of cells present in one file only; they are listed, not judged. */
  onlyInBase: string[];
  onlyInCurrent: string[];
  /** One line each: settings that differ but do not prevent matching (duration, warm-up, machine). */
  warnings: string[];
  counts: Record<Verdict, number>;
  /** 1 when any cell regressed, or (strict) any is inconclusive; else 0. Bad input throws instead. */
  exitCode: 0 | 1;
}

type Resolved = ResolvedCompareOptions;

/** Compare two results files. Throws CompareError (ENOCOMMONCELLS, EBADOPTION) on input that cannot be judged. */
export function compareResults(base: Results, current: Results, options: CompareOptions): Comparison {
  const o = resolveOptions(options);
  const b = groupCells(base);
  const c = groupCells(current);
  const mismatch = settingsMismatch(base, current);
  const common = mismatch ? [] : [...b.keys()].filter((k) => c.has(k));
  if (common.length === 0) throw noCommonCells(base, current, mismatch);
  const rows = common.map((k) => compareCell(b.get(k)!, c.get(k)!, o));
  const counts: Record<Verdict, number> = { regression: 0, improvement: 0, 'no change': 0, inconclusive: 0 };
  for (const r of rows) counts[r.verdict]++;
  const failed = counts.regression > 0 || (o.strict && counts.inconclusive > 0);
  return {
    base: { runId: base.runId, startedAt: base.startedAt },
    current: { runId: current.runId, startedAt: current.startedAt },
    options: o,
    rows,
    onlyInBase: [...b.keys()].filter((k) => !c.has(k)).map((k) => b.get(k)!.label),
    onlyInCurrent: [...c.keys()].filter((k) => !b.has(k)).map((k) => c.get(k)!.label),
    warnings: settingsWarnings(base, current),
    counts,
    exitCode: failed ? 1 : 0,
  };
}

function resolveOptions(options: CompareOptions): Resolved {
  const o: Resolved = {
    ...COMPARE_DEFAULTS,
    threshold: options.threshold,
    strict: options.strict,
    iterations: options.iterations ?? COMPARE_DEFAULTS.iterations,
    seed: options.seed ?? COMPARE_DEFAULTS.seed,
  };
  if (!(Number.isFinite(o.threshold) && o.threshold >= 0 && o.threshold < 1)) {
    throw new CompareError('EBADOPTION', `threshold must be a fraction within [0, 1), got ${o.threshold}`);
  }
  if (!Number.isInteger(o.iterations) || o.iterations < 1) {
    throw new CompareError('EBADOPTION', `iterations must be a positive integer, got ${o.iterations}`);
  }
  return o;
}

/** Values of the ok repetitions, and reasons the side cannot be judged at all. */
interface Side {
  repetitions: number;
  opsPerSec: number[];
  p99: number[];
  problems: string[];
  /** Why this side's figures may be the load generator's limit; empty when its client kept up. */
  saturation: string | null;
}

function sideOf(cells: Cell[], name: 'base' | 'current', minRepetitions: number): Side {
  const ok = cells.filter((c) => c.status === 'ok');
  const problems: string[] = [];
  const notOk = cells.filter((c) => c.status !== 'ok');
  if (notOk.length > 0) {
    const why = [...new Set(notOk.map((c) => (c.reason ? `${c.status}: ${c.reason}` : c.status)))].join('; ');
    problems.push(`${notOk.length} of ${cells.length} repetitions in ${name} not ok (${why})`);
  }
  const saturated = cells.filter((c) => c.client?.saturated).length;
  const saturation = saturated > 0 ? `client saturated in ${saturated} of ${cells.length} repetitions in ${name}` : null;
  if (ok.length < minRepetitions) problems.push(`${ok.length} ok repetitions in ${name} (need ≥ ${minRepetitions})`);
  const opsPerSec = ok.map((c) => c.opsPerSec);
  const p99 = ok.map((c) => c.latencyUs?.p99);
  if (![...opsPerSec, ...p99].every((x) => Number.isFinite(x) && x > 0)) {
    problems.push(`${name} has a missing, zero or non-finite opsPerSec or p99 in an ok repetition`);
  }
  return { repetitions: cells.length, opsPerSec, p99, problems, saturation };
}

function compareCell(b: Group, c: Group, o: Resolved): ComparisonRow {
  const bs = sideOf(b.cells, 'base', o.minRepetitions);
  const cs = sideOf(c.cells, 'current', o.minRepetitions);
  const problems = [...bs.problems, ...cs.problems];
  const throughput = compareMetric('throughput', bs, cs, problems, o);
  const p99 = compareMetric('p99', bs, cs, problems, o);
  const saturation = [bs.saturation, cs.saturation].filter((x): x is string => x !== null);
  const broke = errorRegression(b.cells, c.cells);
  const verdict = broke ? 'regression' : cellVerdict(throughput.verdict, p99.verdict);
  return { key: b.key, label: b.label, throughput, p99, verdict, problems: [...(broke ? [broke] : []), ...problems, ...saturation] };
}

/** An error rate that rose by more than this share of attempts (0.1 percentage point) is a regression. */
const ERROR_RATE_RISE = 0.001;

/**
 * Wrong answers are a regression whatever the speed: a cell that was ok in every base repetition
 * and failed in a current one, or whose errors per attempt (pooled over repetitions) rose by more
 * than ERROR_RATE_RISE. Null when neither happened.
 */
function errorRegression(base: readonly Cell[], current: readonly Cell[]): string | null {
  const failed = current.filter((c) => c.status === 'failed');
  if (base.length > 0 && base.every((c) => c.status === 'ok') && failed.length > 0) {
    return `ok in every base repetition, failed in ${failed.length} of ${current.length} current ones (${failed[0]!.reason ?? 'no reason recorded'})`;
  }
  const rate = (cells: readonly Cell[]): number => {
    const errors = cells.reduce((a, c) => a + (c.errors?.total ?? 0), 0);
    const attempts = cells.reduce((a, c) => a + c.ops + (c.errors?.total ?? 0), 0);
    return attempts > 0 ? errors / attempts : 0;
  };
  const [rb, rc] = [rate(base), rate(current)];
  if (rc - rb > ERROR_RATE_RISE) return `error rate rose from ${formatSignificant(rb * 100)}% to ${formatSignificant(rc * 100)}% of attempts`;
  return null;
}

function compareMetric(metric: Metric, bs: Side, cs: Side, problems: string[], o: Resolved): MetricComparison {
  const bv = metric === 'throughput' ? bs.opsPerSec : bs.p99;
  const cv = metric === 'throughput' ? cs.opsPerSec : cs.p99;
  const usable = [...bv, ...cv].every((x) => Number.isFinite(x) && x > 0) && bv.length > 0 && cv.length > 0;
  const summary = (side: Side, xs: number[]): SideSummary => ({
    n: xs.length,
    repetitions: side.repetitions,
    median: xs.length > 0 ? median(xs) : NaN,
  });
  const ci = usable ? bootstrapRatioCI(bv, cv, { iterations: o.iterations, level: o.level, seed: o.seed }) : null;
  const test = usable ? mannWhitneyU(cv, bv) : null;
  const judged = problems.length === 0 && ci && test ? saturationCheck(metricVerdict(metric, ci, test.p, o), bs, cs) : null;
  const verdict = judged ? judged.verdict : 'inconclusive';
  const reason = judged ? judged.reason : problems.join('; ');
  return {
    metric,
    base: summary(bs, bv),
    current: summary(cs, cv),
    ratio: usable ? median(cv) / median(bv) : NaN,
    ci,
    u: test?.u ?? null,
    p: test?.p ?? null,
    method: test?.method ?? null,
    verdict,
    ...(reason ? { reason } : {}),
  };
}

/**
 * One metric's verdict, once both sides have enough clean repetitions. T is the noise band. Worse
 * means the ratio below 1−T for throughput, above 1+T for p99 latency; better is the mirror image.
 *   regression:  p < alpha and the whole CI is worse than T
 *   improvement: p < alpha and the whole CI is better than T
 *   no change:   the CI lies inside [1−T, 1+T], whatever p is
 *   otherwise inconclusive.
 */
export function metricVerdict(
  metric: Metric,
  ci: { lo: number; hi: number },
  p: number,
  o: { threshold: number; alpha: number },
): { verdict: Verdict; reason?: string } {
  const low = 1 - o.threshold;
  const high = 1 + o.threshold;
  const below = ci.hi < low;
  const above = ci.lo > high;
  const worse = metric === 'throughput' ? below : above;
  const better = metric === 'throughput' ? above : below;
  if (p < o.alpha && worse) return { verdict: 'regression' };
  if (p < o.alpha && better) return { verdict: 'improvement' };
  if (ci.lo >= low && ci.hi <= high) return { verdict: 'no change' };
  const band = `±${formatSignificant(o.threshold * 100)}%`;
  if (worse || better) return { verdict: 'inconclusive', reason: `CI is outside the ${band} band but p = ${formatP(p)} ≥ ${o.alpha}` };
  return { verdict: 'inconclusive', reason: `CI crosses the edge of the ${band} band` };
}

/**
 * A saturated client can only make its own side look worse: its throughput is a lower bound of what
 * the server could do, its latency an upper bound. So it blocks the verdicts that rest on that side
 * looking worse (a regression needs a current side whose client kept up, an improvement a base side
 * whose client kept up), and "no change" (a bound cannot show equality), and nothing else.
 */
function saturationCheck(
  v: { verdict: Verdict; reason?: string },
  base: Pick<Side, 'saturation'>,
  current: Pick<Side, 'saturation'>,
): { verdict: Verdict; reason?: string } {
  const blocking =
    v.verdict === 'regression' ? current.saturation
    : v.verdict === 'improvement' ? base.saturation
    : v.verdict === 'no change' ? (base.saturation ?? current.saturation)
    : null;
  if (blocking === null) return v;
  return { verdict: 'inconclusive', reason: `would be ${v.verdict}, but ${blocking}: those figures may be the load generator's limit` };
}

/** Regression if either metric regresses; improvement if one improves and none regresses; no change if both are. */
export function cellVerdict(throughput: Verdict, p99: Verdict): Verdict {
  if (throughput === 'regression' || p99 === 'regression') return 'regression';
  if (throughput === 'improvement' || p99 === 'improvement') return 'improvement';
  if (throughput === 'no change' && p99 === 'no change') return 'no change';
  return 'inconclusive';
}

