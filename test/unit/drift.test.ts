import { describe, expect, it } from 'vitest';
import { windowDrift } from '../../schema/results.js';
import { notes } from '../../report/report.js';
import { buildResults } from '../helpers/results-builder.js';

const timeline = (ops: number[]) => ({ intervalS: 0.1, ops, p99Us: ops.map(() => 1000) });

describe('window drift, first fifth against last', () => {
  it('flags a ramp-up inside the window, and a slowdown', () => {
    expect(windowDrift(timeline([600, 800, 950, 1000, 1000, 1010, 990, 1000, 1000, 1000]))).toEqual({ firstOpsPerSec: 7000, lastOpsPerSec: 10000, ratio: 0.7, noisePercent: 3.3, drifts: true });
    expect(windowDrift(timeline([1000, 1000, 1000, 1000, 1000, 900, 800, 700, 700, 700]))!.drifts).toBe(true);
    // One slow first interval is a ramp, not noise: the median step ignores it.
    expect(windowDrift(timeline([600, 1000, 1010, 990, 1000, 1005, 995, 1000, 1010, 990]))!.drifts).toBe(true);
    // As the default run's node-http at 64 connections measured it.
    expect(windowDrift(timeline([2934, 3610, 3605, 3665, 3792, 3793, 3783, 3777, 3853, 3821]))!.drifts).toBe(true);
  });

  it('leaves a window whose own noise explains its ends unflagged, however far apart they are', () => {
    // io-wait with a new PostgreSQL connection per query, from a default run: bursts and pauses.
    const chaotic = windowDrift(timeline([59, 5, 7, 62, 9, 0, 65, 26, 5, 18]))!;
    expect(chaotic.ratio).toBeGreaterThan(2);
    expect(chaotic).toMatchObject({ drifts: false });
    expect(chaotic.noisePercent).toBeGreaterThan(100);
    // A 13% gap between ends in a window whose neighbours differ by about as much.
    expect(windowDrift(timeline([9000, 10200, 8900, 10100, 9100, 10000, 9200, 10300, 10500, 10400]))).toMatchObject({ ratio: 0.919, drifts: false });
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
    expect(notes(r)).toContain('cluster echo at concurrency 64, repetition 1: the window drifted: 3,000 ops/s in its first fifth against 10,000 in its last (0.3×, beyond its intervals\' noise of ±3.4%): the load had not settled when the window opened');
  });
});
