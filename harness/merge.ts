// Agents' results into one cell's: counts and errors added, latency histograms added bucket by
// bucket (never percentiles averaged), each interval of the timeline likewise; each agent's own
// figures kept beside them (perHost), so a reader can check that the parts add up to the whole.
import type { ClientResult } from '../schema/messages.js';
import type { AgentFigures } from '../schema/results.js';
import { decodeHistogram, encodeHistogram, mergeEncoded, summarizeUs } from '../schema/histogram.js';

export interface AgentPart {
  host: string;
  agent: number;
  result: ClientResult;
  clock: { offsetMs: number; uncertaintyMs: number };
  /** The intervals it streamed as the window ran, by index: correct operations and their latency histogram, encoded. */
  intervals: { ops: number; latency: string }[];
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

function addCounts(maps: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/**
 * One result from the agents' of one common window (`window` on the harness's clock, `rate` the
 * whole schedule's or null). Every agent must have kept histograms (the native client does).
 */
export function mergeAgents(parts: readonly AgentPart[], window: { startMs: number; endMs: number }, rate: number | null): { result: ClientResult; perHost: AgentFigures[] } {
  if (parts.length === 0) throw new Error('merge: no agent result');
  const rs = parts.map((p) => p.result);
  const missing = parts.find((p) => p.result.histograms === null);
  if (missing) throw new Error(`merge: the agent on ${missing.host} kept no histogram`);
  const durationS = (window.endMs - window.startMs) / 1000;
  const latency = mergeEncoded(rs.map((r) => r.histograms!.latency));
  const uncorrected = mergeEncoded(rs.map((r) => r.histograms!.latencyUncorrected));
  const ops = sum(rs.map((r) => r.ops));
  const byCode = addCounts(rs.map((r) => r.errors.byCode));
  const achieved = ops / durationS;
  const cpuS = sum(rs.map((r) => (r.client.cpuPercent / 100) * r.durationS));
  const busiest = Math.max(...rs.map((r) => r.client.threadCpuPercentMax));
  const result: ClientResult = {
    event: 'result',
    tool: 'native',
    ops,
    durationS,
    opsPerSec: achieved,
    bytesPerSec: sum(rs.map((r) => r.bytesPerSec)),
    errors: { total: sum(Object.values(byCode)), byCode },
    latencyUs: summarizeUs(latency, Math.max(...rs.map((r) => r.latencyUs.max))),
    latencyUncorrectedUs: summarizeUs(uncorrected, Math.max(...rs.map((r) => r.latencyUncorrectedUs?.max ?? r.latencyUs.max))),
    connectUs: mergeConnect(rs),
    connections: sum(rs.map((r) => r.connections)),
    rate,
    rateShortfall: rate !== null && achieved < 0.95 * rate ? { targetOpsPerSec: rate, achievedOpsPerSec: achieved } : null,
    reconnects: sum(rs.map((r) => r.reconnects)),
    outstanding: sum(rs.map((r) => r.outstanding)),
    window,
    // Settled only when every agent's load had.
    warmup: rs.every((r) => r.warmup) ? { s: Math.max(...rs.map((r) => r.warmup!.s)), settled: rs.every((r) => r.warmup!.settled) } : null,
    client: {
      tool: 'native',
      threads: sum(rs.map((r) => r.client.threads)),
      cpuPercent: (cpuS / durationS) * 100,
      cpuUsPerOp: ops > 0 ? (cpuS * 1e6) / ops : null,
      threadCpuPercentMax: busiest,
      saturated: rs.some((r) => r.client.saturated),
      ...(rs.some((r) => typeof r.client.sendBatchUs === 'number') ? { sendBatchUs: Math.max(...rs.map((r) => r.client.sendBatchUs ?? 0)) } : {}),
    },
    histograms: { latency: encodeHistogram(latency), latencyUncorrected: encodeHistogram(uncorrected) },
    perThread: rs.flatMap((r) => r.perThread),
    timeline: mergeTimeline(parts),
  };
  const perHost = parts.map((p): AgentFigures => ({
    host: p.host,
    agent: p.agent,
    agents: parts.length,
    connections: p.result.connections,
    ops: p.result.ops,
    opsPerSec: p.result.opsPerSec,
    errors: p.result.errors,
    latencyUs: p.result.latencyUs,
    latencyCount: decodeHistogram(p.result.histograms!.latency).totalCount,
    histogram: p.result.histograms!.latency,
    rate: p.result.rate,
    client: p.result.client,
    clockOffsetMs: Math.round(p.clock.offsetMs * 1000) / 1000,
    clockUncertaintyMs: Math.round(p.clock.uncertaintyMs * 1000) / 1000,
    warmupSettled: p.result.warmup?.settled ?? null,
  }));
  return { result, perHost };
}

/** Connect times are kept as percentiles only: the slowest agent's p99 and max bound the cell's, its p50 is not merged. */
function mergeConnect(rs: readonly ClientResult[]): ClientResult['connectUs'] {
  const c = rs.map((r) => r.connectUs).filter((x): x is NonNullable<typeof x> => x !== null);
  if (c.length === 0) return null;
  return { p50: Math.max(...c.map((x) => x.p50)), p99: Math.max(...c.map((x) => x.p99)), max: Math.max(...c.map((x) => x.max)) };
}

/**
 * Interval k of the cell: every agent's streamed interval k added (the window is common, so the
 * intervals line up). A stream that disagrees with its agent's own result is refused, not merged.
 */
function mergeTimeline(parts: readonly AgentPart[]): ClientResult['timeline'] {
  if (parts.some((p) => p.result.timeline === null)) return null;
  const n = parts[0]!.result.timeline!.ops.length;
  for (const p of parts) {
    const t = p.result.timeline!;
    const streamed = Array.from({ length: n }, (_, k) => p.intervals[k]?.ops);
    if (t.ops.length !== n || streamed.some((ops, k) => ops !== t.ops[k])) {
      throw new Error(`merge: the intervals the agent on ${p.host} streamed (${streamed.map((x) => x ?? '-').join(',')} ops) are not its result's (${t.ops.join(',')})`);
    }
  }
  const ops: number[] = [], p99Us: number[] = [];
  for (let k = 0; k < n; k++) {
    ops.push(sum(parts.map((p) => p.intervals[k]!.ops)));
    p99Us.push(summarizeUs(mergeEncoded(parts.map((p) => p.intervals[k]!.latency))).p99);
  }
  return { intervalS: parts[0]!.result.timeline!.intervalS, ops, p99Us };
}
