// What a load-generator process prints on stdout, one JSON object a line, for the harness to read.
import type { LatencyUs } from '../harness/results.js';

/** The warm-up is over: the measured window starts now. */
export interface MeasuringMessage {
  event: 'measuring';
}

export interface ClientResult {
  event: 'result';
  /** Operations (echoed messages, HTTP responses) completed inside the measured window. */
  ops: number;
  /** Actual length of the measured window, seconds. */
  durationS: number;
  opsPerSec: number;
  bytesPerSec: number;
  errors: { total: number; byCode: Record<string, number> };
  latencyUs: LatencyUs;
  /** connect() to the first byte of the first reply, per connection. */
  connectUs: { p50: number; p99: number; max: number } | null;
  /** Connections that were open and had completed an exchange when the window started. */
  connections: number;
}

export type ClientMessage = MeasuringMessage | ClientResult;
