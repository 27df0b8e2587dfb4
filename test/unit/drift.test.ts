import { describe, expect, it } from 'vitest';
import { windowDrift } from '../../schema/results.js';
import { notes } from '../../report/report.js';
import { buildResults } from '../helpers/results-builder.js';

const timeline = (ops: number[]) => ({ intervalS: 0.1, ops, p99Us: ops.map(() => 1000) });

describe('window drift, first fifth against last', () => {
  it('flags a ramp-up inside the window, and a slowdown', () => {
    expect(windowDrift(timeline([600, 800, 950, 1000, 1000, 1010, 990, 1000, 1000, 1000]))).toEqual({ firstOpsPerSec: 7000, lastOpsPerSec: 10000, ratio: 0.7, drifts: true });
    expect(windowDrift(timeline([1000, 1000, 1000, 1000, 1000, 900, 800, 700, 700, 700]))!.drifts).toBe(true);
  });

  it('leaves a steady window, and a small cell whose difference counting noise explains, unflagged', () => {
    expect(windowDrift(timeline([1000, 990, 1010, 1000, 1005, 995, 1000, 1000, 990, 1010]))!.drifts).toBe(false);
    // 30 against 40 operations is 0.75×, but 3 standard deviations of counting noise are ±25.
    expect(windowDrift(timeline([15, 15, 20, 20, 20, 20, 20, 20, 20, 20]))).toMatchObject({ ratio: 0.75, drifts: false });
    expect(windowDrift(timeline([1, 2, 3]))).toBeNull();
    expect(windowDrift(null)).toBeNull();
  });

  it('is a note in the report, also for files from before the field', () => {
    const r = buildResults([{ model: 'cluster', protocol: 'echo', concurrency: 64, opsPerSec: [9000] }]);
    r.cells[0]!.timeline = timeline([200, 400, 900, 1000, 1000, 1000, 1000, 1000, 1000, 1000]);
    expect(notes(r)).toContain('cluster echo at concurrency 64, repetition 1: the window drifted: 3,000 ops/s in its first fifth against 10,000 in its last (0.3×): the load had not settled when the window opened');
  });
});
