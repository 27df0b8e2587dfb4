// Latency recording at microsecond resolution, shared by the load generators.
import * as hdr from 'hdr-histogram-js';
import type { LatencyUs } from '../harness/results.js';

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
  h.recordValue(us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : Math.round(us));
}

export function summarizeUs(h: hdr.Histogram): LatencyUs {
  if (h.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
    mean: Math.round(h.mean * 10) / 10,
  };
}
