// What a load-generator process prints on stdout, one JSON object a line, for the harness to read.
import { writeSync } from 'node:fs';
import type { ClientUsage, LatencyUs } from './results.js';

/** Synchronous write: a load loop never yields, so an async stdout write would sit unflushed. */
export function emit(message: object): void {
  writeSync(1, JSON.stringify(message) + '\n');
}

/** The warm-up is over: the measured window starts now. */
export interface MeasuringMessage {
  event: 'measuring';
}

/** The tools that can drive a cell: our own epoll client, autocannon (HTTP), wrk (HTTP, when installed). */
export type ClientTool = 'native' | 'autocannon' | 'wrk';

/** The measured window has just closed: what follows (tail, merging, teardown) is not measured. */
export interface MeasuredMessage {
  event: 'measured';
}

export interface ClientResult {
  event: 'result';
  tool: ClientTool;
  /** Correct operations (echoed messages, HTTP responses with the probe's status and body) completed inside the window. */
  ops: number;
  /** Length of the measured window, seconds. */
  durationS: number;
  opsPerSec: number;
  bytesPerSec: number;
  /** Everything that was not a correct operation, by kind, counted inside the window only. */
  errors: { total: number; byCode: Record<string, number> };
  /** From the intended send time (open loop; the actual send in closed loop), µs. */
  latencyUs: LatencyUs;
  /** From the actual send, µs; the same as latencyUs in closed loop; null where the tool cannot tell. */
  latencyUncorrectedUs: LatencyUs | null;
  /** connect() to the first byte of the first reply, per connection. */
  connectUs: { p50: number; p99: number; max: number } | null;
  /** Connections that were open and had completed an exchange when the window started. */
  connections: number;
  /** Target operations per second (open loop), or null. */
  rate: number | null;
  /** Set when the achieved rate fell below 95% of the target. */
  rateShortfall: { targetOpsPerSec: number; achievedOpsPerSec: number } | null;
  /** Connections the server closed after a complete response, reopened by the client. */
  reconnects: number;
  /** Requests unanswered (or due and unsent) when the window closed, recorded in latency at their age then. */
  outstanding: number;
  /** The window on CLOCK_MONOTONIC, ms; null where the tool does not say. */
  window: { startMs: number; endMs: number } | null;
  client: ClientUsage;
  /** HdrHistogram compressed base64 of the latency histograms; null where the tool keeps none. */
  histograms: { latency: string; latencyUncorrected: string } | null;
  /** Per load thread, so a merge can be checked against its parts. */
  perThread: { ops: number; errors: number; latencyCount: number }[];
  /** Correct operations and p99 latency (corrected, µs) per interval of the window; null where the tool keeps none. */
  timeline: { intervalS: number; ops: number[]; p99Us: number[] } | null;
}

export type ClientMessage = MeasuringMessage | MeasuredMessage | ClientResult;

/** Called by a load generator when its window opens and when it closes. */
export interface WindowEvents {
  onMeasuring(): void;
  onMeasured(): void;
}

export const NO_EVENTS: WindowEvents = { onMeasuring: () => {}, onMeasured: () => {} };

/** A load thread at or above this share of a core may have been the limit, not the server. */
export const SATURATED_PERCENT = 90;

/** What a window's client CPU means: per operation, and whether the busiest thread was saturated. */
export function clientUsage(tool: ClientTool, threads: number, cpuS: number, durationS: number, ops: number, busiestThreadCpuS = cpuS / threads): ClientUsage {
  const threadCpuPercentMax = (busiestThreadCpuS / durationS) * 100;
  return {
    tool,
    threads,
    cpuPercent: (cpuS / durationS) * 100,
    cpuUsPerOp: ops > 0 ? (cpuS * 1e6) / ops : null,
    threadCpuPercentMax,
    saturated: threadCpuPercentMax >= SATURATED_PERCENT,
  };
}

/**
 * The result of a closed-loop tool that keeps no schedule and sees no reconnects (autocannon, wrk):
 * the fields only the native client can fill are set to what is true for them.
 */
export function closedLoopResult(r: Pick<ClientResult, 'tool' | 'ops' | 'durationS' | 'bytesPerSec' | 'errors' | 'latencyUs' | 'connections' | 'client' | 'histograms' | 'perThread'>): ClientResult {
  return {
    event: 'result',
    ...r,
    opsPerSec: r.ops / r.durationS,
    latencyUncorrectedUs: r.latencyUs,
    connectUs: null,
    rate: null,
    rateShortfall: null,
    reconnects: 0,
    outstanding: 0,
    window: null,
    timeline: null,
  };
}
