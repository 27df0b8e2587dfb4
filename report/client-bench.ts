// The tables of npm run bench:clients (scripts/bench-clients.ts): each client's throughput against
// the reference client's on the same server, and our client's open-loop CPU per request against its
// closed-loop CPU per request. Pure: the script measures, these only tabulate.
import { median } from './stats.js';

/** One (server, protocol, client) over the repetitions. */
export interface Row {
  server: string;
  protocol: 'echo' | 'http';
  tool: string;
  opsPerSec: number[];
  cpuUsPerOp: number[];
  saturated: number;
  errors: number;
}

/** Our client in open loop at a fraction of its own closed-loop throughput on the same server, in the same repetition. */
export interface OpenRow {
  server: string;
  protocol: 'echo' | 'http';
  fraction: number;
  /** --send-batch as given: `auto` or a gap in µs. */
  batch: string;
  rate: number[];
  opsPerSec: number[];
  cpuUsPerOp: number[];
  /** The gap the client kept between batches of sends, µs (client.sendBatchUs), per run. */
  sendBatchUs: number[];
  sendLagP50Us: number[];
  sendLagP99Us: number[];
  /** Corrected latency p50, µs: the send lag is part of it. */
  latencyP50Us: number[];
  saturated: number;
}

const REFERENCE: Record<string, string> = { http: 'wrk', echo: 'c-echo' };

/** Markdown: one row per (server, protocol, client), with its ratio to the reference's median. */
export function table(rows: Row[], repetitions: number): string {
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  const out = [
    `| server | protocol | client | ops/s (median of ${repetitions}) | client CPU µs/op | vs reference | saturated runs | errors |`,
    '|---|---|---|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const ref = rows.find((w) => w.server === r.server && w.protocol === r.protocol && w.tool === REFERENCE[r.protocol]);
    const ratio = ref ? (median(r.opsPerSec) / median(ref.opsPerSec)).toFixed(2) : '–';
    const cpu = r.cpuUsPerOp.length > 0 ? median(r.cpuUsPerOp).toFixed(1) : '–';
    out.push(`| ${r.server} | ${r.protocol} | ${r.tool} | ${fmt(median(r.opsPerSec))} | ${cpu} | ${ratio} | ${r.saturated} of ${r.opsPerSec.length} | ${r.errors} |`);
  }
  return out.join('\n') + '\n';
}

/**
 * Markdown: our client in open loop, one row per (server, protocol, fraction): its CPU per request
 * against its own closed-loop CPU per request on the same server (medians), and its send lag.
 */
export function openTable(rows: OpenRow[], closed: Row[], repetitions: number): string {
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  const med = (xs: number[]): string => (xs.length > 0 ? fmt(median(xs)) : '–');
  const out = [
    `| server | protocol | rate (of closed loop) | --send-batch | achieved ops/s (median of ${repetitions}) | client CPU µs/op | vs closed loop | batches µs apart | send lag p50 / p99 µs | latency p50 µs | saturated runs |`,
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const base = closed.find((c) => c.server === r.server && c.protocol === r.protocol && c.tool === 'native');
    const cpu = r.cpuUsPerOp.length > 0 ? median(r.cpuUsPerOp) : null;
    const ratio = cpu !== null && base && base.cpuUsPerOp.length > 0 ? `${(cpu / median(base.cpuUsPerOp)).toFixed(2)}×` : '–';
    // A gap the runs did not agree on is shown as its range: auto may choose differently each time.
    const gaps = r.sendBatchUs.length === 0 ? '–' : Math.min(...r.sendBatchUs) === Math.max(...r.sendBatchUs) ? String(r.sendBatchUs[0]) : `${Math.min(...r.sendBatchUs)}–${Math.max(...r.sendBatchUs)}`;
    out.push(`| ${r.server} | ${r.protocol} | ${Math.round(r.fraction * 100)}% (${fmt(median(r.rate))}/s) | ${r.batch} | ${fmt(median(r.opsPerSec))} | ${cpu?.toFixed(1) ?? '–'} | ${ratio} | ${gaps} | ${med(r.sendLagP50Us)} / ${med(r.sendLagP99Us)} | ${med(r.latencyP50Us)} | ${r.saturated} of ${r.opsPerSec.length} |`);
  }
  return out.join('\n') + '\n';
}
