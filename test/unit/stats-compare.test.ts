import { describe, expect, it } from 'vitest';
import { bootstrapRatioCI, mannWhitneyU, mulberry32 } from '../../report/stats.js';

describe('mannWhitneyU, exact', () => {
  it('5 vs 5 completely separated: U = 0 or 25, p = 2/C(10,5) = 2/252', () => {
    const lo = [1, 2, 3, 4, 5];
    const hi = [6, 7, 8, 9, 10];
    expect(mannWhitneyU(lo, hi)).toEqual({ u: 0, p: expect.closeTo(2 / 252, 12), method: 'exact' });
    expect(mannWhitneyU(hi, lo)).toEqual({ u: 25, p: expect.closeTo(2 / 252, 12), method: 'exact' });
  });

  it('4 vs 4 completely separated: p = 2/70', () => {
    expect(mannWhitneyU([10, 11, 12, 13], [1.5, 2.5, 3.5, 4.5]).p).toBeCloseTo(2 / 70, 12);
  });

  it('3 vs 3 can never reach p < 0.05: completely separated gives p = 2/20 = 0.1', () => {
    const r = mannWhitneyU([100, 200, 300], [1, 2, 3]);
    expect(r.u).toBe(9);
    expect(r.p).toBeCloseTo(0.1, 12);
  });

  it('one swap from complete separation, 5 vs 5: U = 1, p = 2·2/252', () => {
    // P(U <= 1) = (1 + 1) / 252: only {1,2,3,4,5} and {1,2,3,4,6} have rank sum <= 16
    const r = mannWhitneyU([1, 2, 3, 4, 6], [5, 7, 8, 9, 10]);
    expect(r.u).toBe(1);
    expect(r.p).toBeCloseTo(4 / 252, 12);
  });

  it('unequal sizes, 2 vs 5 separated: p = 2/C(7,2) = 2/21', () => {
    expect(mannWhitneyU([1, 2], [3, 4, 5, 6, 7]).p).toBeCloseTo(2 / 21, 12);
  });

  it('interleaved samples give p = 1', () => {
    const r = mannWhitneyU([1, 4, 5, 8], [2, 3, 6, 7]);
    expect(r.u).toBe(8);
    expect(r.p).toBe(1);
  });

  it('ties use midranks and the exact permutation distribution over those ranks', () => {
    // pooled 1 2 2 2 3 3 -> midranks 1 3 3 3 5.5 5.5; a = {1, 2, 2} has rank sum 7, so U = 7 - 6 = 1
    // (equivalently: a=2 vs b=2 are two half-ties). Of the C(6,3) = 20 choices of 3 ranks, only the
    // 3 of the form {1, 3, 3} sum to <= 7, so P(U <= 1) = 3/20 and p = 2 * 3/20 = 0.3.
    const r = mannWhitneyU([1, 2, 2], [2, 3, 3]);
    expect(r.u).toBe(1);
    expect(r.p).toBeCloseTo(0.3, 12);
    expect(r.method).toBe('exact');
  });

  it('every value tied gives U = mn/2 and p = 1', () => {
    expect(mannWhitneyU([5, 5, 5], [5, 5, 5, 5])).toEqual({ u: 6, p: 1, method: 'exact' });
  });

  it('rejects empty and non-finite samples', () => {
    expect(() => mannWhitneyU([], [1, 2])).toThrow(RangeError);
    expect(() => mannWhitneyU([1, NaN], [1, 2])).toThrow(RangeError);
  });
});

describe('mannWhitneyU, normal approximation above 50 per side', () => {
  it('stays exact at 50 per side and switches to normal at 51', () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    expect(mannWhitneyU(a, a.map((x) => x + 0.5)).method).toBe('exact');
    expect(mannWhitneyU([...a, 50], a.map((x) => x + 0.5)).method).toBe('normal');
  });

  it('agrees with the exact p near n = 50 (same data, one extra pair)', () => {
    const a = Array.from({ length: 50 }, (_, i) => i * 1.1);
    const b = Array.from({ length: 50 }, (_, i) => i + 4);
    const exact = mannWhitneyU(a, b);
    const normal = mannWhitneyU([...a, 54.9], [...b, 54]);
    expect(exact.method).toBe('exact');
    expect(normal.method).toBe('normal');
    expect(Math.abs(exact.p - normal.p)).toBeLessThan(0.05);
  });

  it('60 vs 60 separated: z = (1800 - 0.5) / sqrt(36300) ≈ 9.445, p ≈ 3.5e-21', () => {
    const a = Array.from({ length: 60 }, (_, i) => i);
    const r = mannWhitneyU(a, a.map((x) => x + 100));
    expect(r.u).toBe(0);
    expect(r.p).toBeGreaterThan(2e-21);
    expect(r.p).toBeLessThan(5e-21);
  });

  it('60 vs 60 identical gives p = 1', () => {
    const a = Array.from({ length: 60 }, (_, i) => i % 7);
    expect(mannWhitneyU(a, a).p).toBe(1);
  });
});

describe('mulberry32', () => {
  it('is deterministic per seed and stays within [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const avg = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(avg).toBeGreaterThan(0.48);
    expect(avg).toBeLessThan(0.52);
    expect(mulberry32(43)()).not.toBe(mulberry32(42)());
  });
});

describe('bootstrapRatioCI', () => {
  const base = [100, 104, 97, 101, 99, 103];
  const current = [70, 72, 69, 71, 73, 68];

  it('gives the same interval for the same seed, whatever the input order', () => {
    const one = bootstrapRatioCI(base, current, { seed: 7 });
    expect(bootstrapRatioCI(base, current, { seed: 7 })).toEqual(one);
    expect(bootstrapRatioCI([...base].reverse(), [...current].reverse(), { seed: 7 })).toEqual(one);
  });

  it('contains the point ratio of medians', () => {
    const point = 70.5 / 100.5;
    const { lo, hi } = bootstrapRatioCI(base, current);
    expect(lo).toBeLessThanOrEqual(point);
    expect(hi).toBeGreaterThanOrEqual(point);
    // and it is bounded by the most extreme ratio any resample could give
    expect(lo).toBeGreaterThanOrEqual(68 / 104);
    expect(hi).toBeLessThanOrEqual(73 / 97);
  });

  it('collapses to the exact ratio when each side is constant', () => {
    expect(bootstrapRatioCI([100, 100, 100], [150, 150, 150, 150])).toEqual({ lo: 1.5, hi: 1.5 });
  });

  it('narrows as the level drops', () => {
    const wide = bootstrapRatioCI(base, current, { level: 0.99 });
    const narrow = bootstrapRatioCI(base, current, { level: 0.5 });
    expect(narrow.hi - narrow.lo).toBeLessThan(wide.hi - wide.lo);
  });

  it('rejects empty, zero or non-finite input and bad options', () => {
    expect(() => bootstrapRatioCI([], [1])).toThrow(RangeError);
    expect(() => bootstrapRatioCI([0, 1], [1])).toThrow(RangeError);
    expect(() => bootstrapRatioCI([1], [Infinity])).toThrow(RangeError);
    expect(() => bootstrapRatioCI([1], [1], { iterations: 0 })).toThrow(RangeError);
    expect(() => bootstrapRatioCI([1], [1], { level: 1 })).toThrow(RangeError);
  });
});
