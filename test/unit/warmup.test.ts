import { describe, expect, it } from 'vitest';
import { steady } from '../../clients/load.js';
import { WindowRecorder } from '../../clients/window.js';

describe('warm-up until the load settles', () => {
  it('calls three 100 ms steps steady when they differ by chance or under 10%, and not while they rise', () => {
    expect(steady([1000, 1020, 990])).toBe(true);
    expect(steady([800, 900, 1000])).toBe(false); // still rising: the window would open on a ramp
    expect(steady([1000, 700, 1000])).toBe(false);
    expect(steady([20, 26, 23])).toBe(true); // 3 standard deviations of ~23 counts is ±14
    expect(steady([0, 0, 0])).toBe(false);
    expect(steady([1000, 1000])).toBe(false);
    // A longer warm-up is judged on its last three steps.
    expect(steady([100, 400, 1000, 1020, 990])).toBe(true);
    expect(steady([1000, 1020, 990, 700])).toBe(false);
  });

  it('in open loop, waits while answers run above the offered rate: a backlog still being caught up', () => {
    // An equal-rate cell at 32,970/s (3,297 a step) from a default run: its window opened on this.
    expect(steady([3437, 3746, 3746])).toBe(true);
    expect(steady([3437, 3746, 3746], 3297)).toBe(false);
    expect(steady([3290, 3300, 3297], 3297)).toBe(true);
    // Below the rate is a server that cannot keep up: steady, and the rate shortfall says so.
    expect(steady([2000, 2010, 1990], 3297)).toBe(true);
  });

  it('counts warm-up answers as progress, never as operations of the window', () => {
    const w = new WindowRecorder(1, false);
    w.response(10, null, 9, 9);
    w.response(11, 'bad-body', 10, 10);
    expect({ completed: w.completed, ops: w.ops, errors: w.errors, latency: w.latency.totalCount }).toEqual({ completed: 1, ops: 0, errors: {}, latency: 0 });
    w.open(100, 1100);
    w.response(150, null, 149, 149);
    expect({ completed: w.completed, ops: w.ops, latency: w.latency.totalCount }).toEqual({ completed: 2, ops: 1, latency: 1 });
  });
});
