import { describe, expect, it } from 'vitest';
import { mean, median, medianCI, percentile } from '../../report/stats.js';

describe('percentile (linear interpolation, R type 7)', () => {
  it('matches hand-computed values', () => {
    const xs = [15, 20, 35, 40, 50];
    expect(percentile(xs, 0)).toBe(15);
    expect(percentile(xs, 100)).toBe(50);
    expect(percentile(xs, 50)).toBe(35);
    // rank = 0.4 * 4 = 1.6 -> 20 + 0.6 * (35 - 20) = 29
    expect(percentile(xs, 40)).toBeCloseTo(29, 10);
    // rank = 0.9 * 4 = 3.6 -> 40 + 0.6 * 10 = 46
    expect(percentile(xs, 90)).toBeCloseTo(46, 10);
  });

  it('does not depend on input order and does not reorder the input', () => {
    const xs = [50, 15, 40, 20, 35];
    expect(percentile(xs, 40)).toBeCloseTo(29, 10);
    expect(xs).toEqual([50, 15, 40, 20, 35]);
  });

  it('median of an even count is the midpoint; empty gives NaN', () => {
    expect(median([1, 2, 3, 10])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(mean([1, 2, 3, 10])).toBe(4);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('medianCI (order statistics)', () => {
  it('for n = 5 reaches only 93.75% with the full range', () => {
    const ci = medianCI([5, 1, 4, 2, 3]);
    expect(ci.lo).toBe(1);
    expect(ci.hi).toBe(5);
    expect(ci.level).toBeCloseTo(1 - 2 / 32, 10);
  });

  it('for n = 6 reaches 96.875% with the extremes', () => {
    const ci = medianCI([6, 5, 4, 3, 2, 1]);
    expect([ci.lo, ci.hi]).toEqual([1, 6]);
    expect(ci.level).toBeCloseTo(1 - 2 / 64, 10);
  });

  it('for n = 10 uses the 2nd and 9th values (coverage 1 - 2*11/1024)', () => {
    const ci = medianCI([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect([ci.lo, ci.hi]).toEqual([2, 9]);
    expect(ci.level).toBeCloseTo(1 - 22 / 1024, 10);
  });
});
