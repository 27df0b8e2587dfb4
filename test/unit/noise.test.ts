import { describe, expect, it } from 'vitest';
import type { Summary } from '../../report/aggregate.js';
import { judge, runNoise, type Noise } from '../../report/noise.js';
import type { NoiseProbe } from '../../schema/results.js';
import { buildTweaked, type CellSpec, type TweakedSpec } from '../helpers/results-builder.js';

const PROBE: NoiseProbe = { model: 'epoll', protocol: 'echo', scenario: 'steady', concurrency: 64, readings: 5 };

/** The probe's readings (epoll echo at 64), then `others`, with settings.noise set unless `probe` is null. */
function probed(readings: number[], others: TweakedSpec[] = [], probe: NoiseProbe | null = PROBE, status?: CellSpec['status']) {
  return buildTweaked([{ model: 'epoll', concurrency: 64, opsPerSec: readings, p99: readings.map((x) => x / 10), status }, ...others], { settings: { noise: probe } });
}

/** Relative sample standard deviation, by hand: the figure runNoise must reproduce. */
const rsd = (xs: number[]): number => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1)) / m;
};

describe('runNoise', () => {
  it("is the relative standard deviation of the probe's readings, of each figure", () => {
    // 9, 10, 11 (k ops/s): mean 10, sd 1 → 10%.
    const n = runNoise(probed([9000, 10_000, 11_000]))!;
    expect(n.ops).toBeCloseTo(0.1, 12);
    // The builder's server CPU is 2 s per cell whatever its ops: CPU per operation goes as 1 / ops.
    expect(n.cpu).toBeCloseTo(rsd([1 / 9, 1 / 10, 1 / 11]), 12);
    expect(n.p50).toBeCloseTo(0.1, 12); // p50 is p99 / 4, and p99 here is ops / 10
    expect(n.readings).toBe(3);
    expect(n.what).toBe('epoll echo at 64 connections');
    expect(runNoise(probed([9000, 10_000, 11_000], [], { ...PROBE, concurrency: 1 }))).toBeNull(); // no reading at 1
    const one = probed([9000, 10_000, 11_000], [], { ...PROBE, concurrency: 1 });
    one.cells.forEach((c) => { c.concurrency = 1; });
    expect(runNoise(one)!.what).toBe('epoll echo at 1 connection');
  });

  it('is null without a probe in the settings', () => {
    expect(runNoise(probed([9000, 10_000, 11_000], [], null))).toBeNull();
    const r = probed([9000, 10_000, 11_000]);
    delete r.settings.noise; // a version 6 file has no such field
    expect(runNoise(r)).toBeNull();
  });

  it('needs three ok readings: a failed or limit reading does not count', () => {
    expect(runNoise(probed([9000, 11_000]))).toBeNull();
    expect(runNoise(probed([9000, 10_000, 11_000], [], PROBE, ['ok', 'ok', 'failed']))).toBeNull();
    expect(runNoise(probed([9000, 10_000, 11_000, 12_000], [], PROBE, ['ok', 'ok', 'limit', 'ok']))!.ops).toBeCloseTo(rsd([9000, 10_000, 12_000]), 12);
  });

  it('reads only the probe cell: other models, concurrencies, rates, sweeps, payloads and backends are not its readings', () => {
    const wild = [1000, 50_000];
    const r = probed([9000, 10_000, 11_000], [
      { model: 'async', concurrency: 64, opsPerSec: wild },
      { model: 'epoll', concurrency: 16, opsPerSec: wild },
      { model: 'epoll', concurrency: 64, opsPerSec: wild, protocol: 'http' },
      { model: 'epoll', concurrency: 64, opsPerSec: wild, tweak: (c) => { c.scenario = 'idle'; } },
      { model: 'epoll', concurrency: 64, opsPerSec: wild, tweak: (c) => { c.rate = 5000; } },
      { model: 'epoll', concurrency: 64, opsPerSec: wild, tweak: (c) => { c.sweepFraction = 0.5; c.sweepOf = 'epoll'; } },
      { model: 'epoll', concurrency: 64, opsPerSec: wild, tweak: (c) => { c.payloadBytes = 4096; } },
      { model: 'epoll', concurrency: 64, opsPerSec: wild, tweak: (c) => { c.backendConnections = 'pooled'; } },
    ]);
    const n = runNoise(r)!;
    expect(n.readings).toBe(3);
    expect(n.ops).toBeCloseTo(0.1, 12);
  });

  it('leaves a figure null when fewer than three readings have it', () => {
    const r = probed([9000, 10_000, 11_000]);
    r.cells[0]!.ops = 0; // no CPU per operation from a reading without operations
    const n = runNoise(r)!;
    expect(n.cpu).toBeNull();
    expect(n.p50).not.toBeNull();
  });
});

const one = (median: number): Summary => ({ median, ci: null, n: 1 });
const reps = (median: number, lo: number, hi: number, n = 5): Summary => ({ median, ci: { lo, hi, level: 0.94 }, n });
const noise = (sigma: number, cpu: number | null = sigma): Noise => ({ ops: sigma, cpu, p50: sigma, readings: 5, what: 'epoll echo at 64 connections' });

describe('judge', () => {
  it("with three or more repetitions each, their intervals decide and the probe's noise does not", () => {
    const apart = judge('a over b', reps(120, 115, 125), reps(100, 95, 105), 'ops', noise(0.5));
    expect(apart).toEqual({ ratio: 1.2, clear: true, line: 'a over b 1.20×, beyond the noise: the intervals of their 5 and 5 repetitions do not overlap' });
    const below = judge('a over b', reps(80, 75, 85), reps(100, 95, 105), 'ops', null);
    expect(below.clear).toBe(true); // either way
    const touching = judge('a over b', reps(120, 105, 125, 3), reps(100, 95, 105, 4), 'ops', noise(0.0001));
    expect(touching.clear).toBe(false); // 105 is in both
    expect(touching.line).toBe('a over b 1.20×, within the noise: the intervals of their 3 and 4 repetitions overlap');
  });

  it('with fewer than three repetitions of either, the intervals are not used', () => {
    // Two repetitions' interval is their range; they do not overlap, but the noise of 40% asks more than 1.2×.
    const j = judge('a over b', reps(120, 118, 122, 2), reps(100, 98, 102, 5), 'ops', noise(0.4));
    expect(j.clear).toBe(false);
    expect(j.line).toContain('which asks');
  });

  it('by the noise: a ratio just outside exp(1.96·√2·σ) is clear, just inside is not, either way', () => {
    const sigma = 0.05;
    const needed = Math.exp(1.96 * Math.SQRT2 * sigma); // 1.1487
    expect(needed).toBeCloseTo(1.1487, 4);
    const at = (ratio: number) => judge('a over b', one(100 * ratio), one(100), 'ops', noise(sigma));
    expect(at(needed * 1.0001).clear).toBe(true);
    expect(at(needed * 0.9999).clear).toBe(false);
    expect(at(1 / (needed * 1.0001)).clear).toBe(true);
    expect(at(1 / (needed * 0.9999)).clear).toBe(false);
    expect(at(needed * 1.0001).line).toBe('a over b 1.15×, beyond the noise, which asks 1.15× either way (σ 5.0% over 5 readings of epoll echo at 64 connections)');
    expect(at(1.1).line).toBe('a over b 1.10×, within the noise, which asks 1.15× either way (σ 5.0% over 5 readings of epoll echo at 64 connections)');
  });

  it("uses the noise of the figure compared, and without it (or without a probe) the margin stands alone", () => {
    const withCpu = judge('cpu', one(110), one(100), 'cpu', noise(0.001, 0.2));
    expect(withCpu.clear).toBe(false); // CPU's 20% asks 1.74×, the ops noise 0.1% would not
    const none = judge('a over b', one(101), one(100), 'cpu', noise(0.001, null));
    expect(none.clear).toBe(true);
    expect(none.line).toBe('a over b 1.01×; noise not measured (no noise probe in this run), so the margin is not tested against it');
    expect(judge('a over b', one(101), one(100), 'ops', null)).toEqual(none);
  });
});
