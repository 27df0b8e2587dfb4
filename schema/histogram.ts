// Latency histograms at microsecond resolution: recorded by the load generators, merged bucket by
// bucket by them and by the harness (agents on several hosts), stored in cells.
import * as hdr from 'hdr-histogram-js';
import type { LatencyUs } from './results.js';

/** An hour in µs: anything slower is clamped, not dropped, so max still says "very slow". */
const HIGHEST_US = 3_600_000_000;

export function latencyHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    // The JS implementation records faster than the WebAssembly one for single values (no boundary crossing).
    useWebAssembly: false,
  });
}

export function recordUs(h: hdr.Histogram, us: number): void {
  record(h, us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : Math.round(us));
}

/** A delay that may be nil (a send that left on time): recorded as 0, not clamped to 1 µs. */
export function recordLagUs(h: hdr.Histogram, us: number): void {
  record(h, us < 0.5 ? 0 : us > HIGHEST_US ? HIGHEST_US : Math.round(us));
}

/**
 * hdr's recordValue for a whole number of µs below 2^32, with its bucket found by integer
 * arithmetic: hdr-histogram-js finds it with Math.log2 and Math.pow, which V8 calls out of
 * compiled code for, and `perf record` put those calls at 4.3% of an open-loop client's CPU
 * (four values recorded per request) and 1.7% of a closed loop's. The index is the one hdr's Java
 * original computes (leading zeros of value | subBucketMask); the same counts, the same histogram
 * (test/unit/histogram.test.ts compares the two on every kind of value).
 */
export function record(h: hdr.Histogram, v: number): void {
  const x = h as unknown as JsRecord;
  const um = x.unitMagnitude;
  const half = x.subBucketHalfCountMagnitude;
  const bucket = 31 - Math.clz32(v | x.subBucketMask) - half - um;
  const index = ((bucket + 1) << half) + (v >>> (bucket + um)) - x.subBucketHalfCount;
  if (index >= x.countsArrayLength) return h.recordValue(v); // hdr's own path: resize, or its error
  x.incrementCountAtIndex(index);
  x.updateMinAndMax(v);
  x.incrementTotalCount();
}

/** What record() reads and calls of hdr-histogram-js's JsHistogram (public there, not on its interface). */
interface JsRecord {
  unitMagnitude: number;
  subBucketHalfCountMagnitude: number;
  subBucketHalfCount: number;
  subBucketMask: number;
  countsArrayLength: number;
  incrementCountAtIndex(index: number): void;
  updateMinAndMax(value: number): void;
  incrementTotalCount(): void;
}

/**
 * Percentiles of `h`. A histogram decoded from its encoded form knows its maximum only to its bucket
 * (3 significant digits), so a merge passes the exact maximum of its parts as `exactMax`.
 */
export function summarizeUs(h: hdr.Histogram, exactMax = h.maxValue): LatencyUs {
  if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  // A percentile is reported as the top of its bucket (3 significant digits), which can exceed the
  // exact maximum recorded; no percentile is above the maximum.
  const max = Math.min(exactMax, h.maxValue);
  const at = (p: number): number => Math.min(h.getValueAtPercentile(p), max);
  return {
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max,
    mean: Math.round(meanOf(h) * 10) / 10,
  };
}

/**
 * hdr's own mean, by a plain loop over the buckets up to the maximum: its getter walks an iterator
 * object per bucket, which cost a load client ~20 ms per cell, cold, at every window's end.
 */
export function meanOf(h: hdr.Histogram): number {
  if (h.totalCount === 0) return 0;
  const j = h as unknown as JsCounts;
  const last = j.countsArrayIndex(h.maxValue);
  let total = 0;
  for (let i = 0; i <= last; i++) {
    const n = j.getCountAtIndex(i);
    if (n !== 0) total += j.medianEquivalentValue(j.valueFromIndex(i)) * n;
  }
  return total / h.totalCount;
}

/** The JS histogram's bucket access (public in hdr-histogram-js's JsHistogram, not on its interface). */
interface JsCounts {
  countsArrayIndex(value: number): number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  medianEquivalentValue(value: number): number;
}

/** One percentile of the encoded histograms together, without the rest of a summary (a timeline's point). */
export function percentileOfEncoded(encoded: readonly string[], p: number): number {
  if (encoded.length === 0) return 0;
  const h = encoded.length === 1 ? decodeHistogram(encoded[0]!) : mergeEncoded(encoded);
  return h.totalCount === 0 ? 0 : Math.min(h.getValueAtPercentile(p), h.maxValue);
}

/** HdrHistogram's compressed base64 form: what a thread hands the coordinator and a cell may store. */
export function encodeHistogram(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/** One histogram holding every value of the encoded ones: merging loses nothing (same buckets). */
export function mergeEncoded(encoded: readonly string[]): hdr.Histogram {
  const out = latencyHistogram();
  for (const e of encoded) out.add(decodeHistogram(e));
  return out;
}
