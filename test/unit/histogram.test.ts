import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { encodeHistogram, latencyHistogram, record } from '../../schema/histogram.js';

/** A seeded generator: the same values every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function values(): number[] {
  const out: number[] = [];
  for (let v = 0; v <= 5000; v++) out.push(v);
  for (let k = 1; k < 32; k++) for (const d of [-1, 0, 1]) out.push(2 ** k + d);
  const r = lcg(7);
  for (let i = 0; i < 20_000; i++) out.push(Math.floor(r() * 3_600_000_000));
  for (let i = 0; i < 20_000; i++) out.push(Math.floor(2 ** (r() * 31.7)));
  return out.filter((v) => v >= 0 && v <= 3_600_000_000);
}

describe('recording a µs value by integer arithmetic', () => {
  it('finds the bucket hdr finds for every kind of value, and leaves the same histogram', () => {
    const ours = latencyHistogram();
    const theirs = latencyHistogram();
    const index = (h: hdr.Histogram, v: number): number => (h as unknown as { countsArrayIndex(v: number): number }).countsArrayIndex(v);
    const vs = values();
    const wrong: number[] = [];
    for (const v of vs) {
      const before = ours.totalCount;
      record(ours, v);
      theirs.recordValue(v);
      if (ours.totalCount !== before + 1 || (ours as unknown as { getCountAtIndex(i: number): number }).getCountAtIndex(index(theirs, v)) !== (theirs as unknown as { getCountAtIndex(i: number): number }).getCountAtIndex(index(theirs, v))) wrong.push(v);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect({ n: ours.totalCount, min: ours.minNonZeroValue, max: ours.maxValue, p99: ours.getValueAtPercentile(99) })
      .toEqual({ n: theirs.totalCount, min: theirs.minNonZeroValue, max: theirs.maxValue, p99: theirs.getValueAtPercentile(99) });
    expect(encodeHistogram(ours)).toBe(encodeHistogram(theirs));
  });

  it('leaves a value beyond the histogram to hdr: resized where it resizes', () => {
    const small = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 2048, numberOfSignificantValueDigits: 3, autoResize: true, useWebAssembly: false });
    const ours = small();
    const theirs = small();
    for (const v of [5, 100_000, 7_000_000]) {
      record(ours, v);
      theirs.recordValue(v);
    }
    expect(encodeHistogram(ours)).toBe(encodeHistogram(theirs));
    expect(ours.maxValue).toBe(theirs.maxValue);
  });
});
