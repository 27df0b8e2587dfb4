// What a load generator prints for the harness (schema/messages.ts), and the parts of its result
// line every tool fills the same way.
import { writeSync } from 'node:fs';
import type { ClientResult, ClientTool, EventMessage } from '../schema/messages.js';
import type { ClientUsage } from '../schema/results.js';

/** Synchronous write: a load loop never yields, so an async stdout write would sit unflushed. */
export function emit(message: EventMessage): void {
  writeSync(1, JSON.stringify(message) + '\n');
}


/** Called by a load generator when its window opens and when it closes. */
export interface WindowEvents {
  onMeasuring(): void;
  onMeasured(): void;
}

export const NO_EVENTS: WindowEvents = { onMeasuring: () => {}, onMeasured: () => {} };

/** A load thread at or above this share of a core may have been the limit, not the server. */
const SATURATED_PERCENT = 90;

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
