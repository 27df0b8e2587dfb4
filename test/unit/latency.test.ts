import { describe, expect, it } from 'vitest';
import { encodeHistogram, latencyHistogram, meanOf, mergeEncoded, percentileOfEncoded, recordUs, summarizeUs } from '../../clients/latency.js';

describe('latency summary', () => {
  it('gives percentiles within 0.1% of the exact values and never above the maximum', () => {
    const h = latencyHistogram();
    for (let us = 1; us <= 10_000; us++) recordUs(h, us);
    recordUs(h, 5_082_413);
    const s = summarizeUs(h);
    expect(s.p50 / 5000).toBeCloseTo(1, 2);
    expect(s.p90 / 9000).toBeCloseTo(1, 2);
    expect(s.max).toBe(5_082_413);
    expect(s.p999).toBeLessThanOrEqual(s.max);
    // 10,001 values: the 99.99th is the outlier, whose bucket top lies above the exact value
    const only = latencyHistogram();
    recordUs(only, 5_082_413);
    expect(summarizeUs(only).p99).toBe(5_082_413);
  });

  it('clamps values outside the trackable range instead of dropping them', () => {
    const h = latencyHistogram();
    recordUs(h, 0.2);
    recordUs(h, 1e13);
    const s = summarizeUs(h);
    expect(s.p50).toBe(1);
    expect(s.max).toBe(3_600_000_000);
  });

  it('computes the mean exactly as hdr-histogram-js does, by its own loop', () => {
    const h = latencyHistogram();
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20_000; i++) recordUs(h, 1 + rnd() ** 3 * 2_000_000);
    recordUs(h, 3_000_000_000);
    expect(meanOf(h)).toBe(h.mean);
    expect(meanOf(latencyHistogram())).toBe(0);
  });

  it('reads one percentile of encoded parts as the merged summary does', () => {
    const a = latencyHistogram();
    const b = latencyHistogram();
    for (let us = 1; us <= 1000; us++) recordUs(us % 3 === 0 ? a : b, us * 7);
    const parts = [encodeHistogram(a), encodeHistogram(b)];
    expect(percentileOfEncoded(parts, 99)).toBe(summarizeUs(mergeEncoded(parts)).p99);
    expect(percentileOfEncoded(parts.slice(0, 1), 50)).toBe(summarizeUs(a).p50);
    expect(percentileOfEncoded([], 99)).toBe(0);
  });

  it('reports zeros for an empty histogram', () => {
    expect(summarizeUs(latencyHistogram())).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 });
  });
});

describe('mergeEncoded', () => {
  it('merges encoded histograms into exactly the histogram of all their values', () => {
    const a = latencyHistogram();
    const b = latencyHistogram();
    const all = latencyHistogram();
    for (let i = 1; i <= 5000; i++) {
      const v = (i * 7919) % 100_000;
      recordUs(i % 3 === 0 ? a : b, v);
      recordUs(all, v);
    }
    const merged = mergeEncoded([encodeHistogram(a), encodeHistogram(b)]);
    expect(merged.totalCount).toBe(5000);
    const { mean, ...percentiles } = summarizeUs(merged, Math.max(a.maxValue, b.maxValue));
    const { mean: meanAll, ...percentilesAll } = summarizeUs(all);
    expect(percentiles).toEqual(percentilesAll);
    expect(mean).toBeCloseTo(meanAll, 0); // the mean is summed per bucket, in another order
  });
});
