import { describe, expect, it } from 'vitest';
import { encodeHistogram, latencyHistogram, mergeEncoded, recordUs, summarizeUs } from '../../clients/latency.js';

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
