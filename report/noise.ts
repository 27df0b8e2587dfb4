// How much a figure moves between readings of the same cell on this machine, and whether a
// comparison's margin is beyond it. A finding that compares two single readings can only trust a
// difference larger than two readings of one unchanged thing would show.
import type { Cell, Results } from '../schema/results.js';
import type { Summary } from './aggregate.js';
import { cpuUsPerOp } from './aggregate.js';
import { mean } from './stats.js';

/** The figures a finding compares, each with its own spread. */
export type NoiseMetric = 'ops' | 'cpu' | 'p50';

/** The run's noise: the relative standard deviation of each figure over the probe's readings. */
export interface Noise {
  ops: number;
  cpu: number | null;
  p50: number | null;
  readings: number;
  /** `epoll echo at 64 connections`. */
  what: string;
}

/**
 * Two single readings of one unchanged figure differ, as a log ratio, by more than z·√2·σ one time
 * in twenty (z = 1.96): a margin below that is within the noise.
 */
const Z2 = 1.96 * Math.SQRT2;

function relativeSd(xs: readonly number[]): number | null {
  if (xs.length < 3) return null;
  const m = mean(xs);
  if (!(m > 0)) return null;
  const variance = xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
  return Math.sqrt(variance) / m;
}

/** The noise probe's spread, or null when the run had none or fewer than 3 of its readings were ok. */
export function runNoise(results: Results): Noise | null {
  const probe = results.settings.noise;
  if (!probe) return null;
  const cells = results.cells.filter((c) => c.status === 'ok' && c.model === probe.model && c.protocol === probe.protocol &&
    c.scenario === probe.scenario && c.concurrency === probe.concurrency && c.rate === null && c.sweepFraction === undefined &&
    c.payloadBytes === undefined && c.backendConnections === undefined);
  const ops = relativeSd(cells.map((c) => c.opsPerSec));
  if (ops === null) return null;
  const finite = (f: (c: Cell) => number | null): number[] => cells.map(f).filter((x): x is number => x !== null && Number.isFinite(x));
  return {
    ops,
    cpu: relativeSd(finite(cpuUsPerOp)),
    p50: relativeSd(finite((c) => c.latencyUs.p50)),
    readings: cells.length,
    what: `${probe.model} ${probe.protocol} at ${probe.concurrency} connection${probe.concurrency === 1 ? '' : 's'}`,
  };
}

/** One comparison's margin and whether it is beyond the noise. */
export interface Judged {
  /** a / b. */
  ratio: number;
  /** False when the difference is within what the noise explains. */
  clear: boolean;
  /** The margin and the noise beside it, for the finding's margin line. */
  line: string;
}

const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : String(x));

/**
 * a against b. With three or more repetitions each, their medians' intervals decide (they must not
 * overlap); otherwise the run's noise of that figure does: |ln(a/b)| must exceed 1.96·√2·σ. With
 * neither, the margin stands alone and says so.
 */
export function judge(label: string, a: Summary, b: Summary, metric: NoiseMetric, noise: Noise | null): Judged {
  const ratio = a.median / b.median;
  if (a.n >= 3 && b.n >= 3 && a.ci && b.ci) {
    const clear = a.ci.lo > b.ci.hi || b.ci.lo > a.ci.hi;
    return { ratio, clear, line: `${label} ${f2(ratio)}×, ${clear ? 'beyond' : 'within'} the noise: the intervals of their ${a.n} and ${b.n} repetitions ${clear ? 'do not overlap' : 'overlap'}` };
  }
  const sigma = noise?.[metric] ?? null;
  if (noise && sigma !== null) {
    const needed = Math.exp(Z2 * sigma);
    const clear = Math.abs(Math.log(ratio)) > Math.log(needed);
    return { ratio, clear, line: `${label} ${f2(ratio)}×, ${clear ? 'beyond' : 'within'} the noise, which asks ${f2(needed)}× either way (σ ${(sigma * 100).toFixed(1)}% over ${noise.readings} readings of ${noise.what})` };
  }
  return { ratio, clear: true, line: `${label} ${f2(ratio)}×; noise not measured (no noise probe in this run), so the margin is not tested against it` };
}
