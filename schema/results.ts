// The results file: the one contract between a run and everything drawn from it.
// Reports, charts and comparisons read this file only (schema/read-results.ts), so any old run
// can be redrawn. This module holds the shape and the run side's atomic writer.

/**
 * Bumped on a change to the shape below. Version 1 files (before open loop and the native HTTP
 * client) are read and upgraded by upgradeV1; version 2 files (before the io-wait, cpu, churn and
 * payload scenarios and suites) are version 3 files without the new optional fields. Version 4
 * added PostgreSQL: an io-wait cell names its `backend` (a version 3 io-wait cell is `service`),
 * its `dbPool`, and the database's figures; settings describe the database. Version 5 added the
 * server's memory to each cell's timeline (a version 4 file is a version 5 file without it).
 * Version 6 added the run's Redis (a model that needs one): `cells[].redis` and `settings.redis`,
 * both optional, so a version 5 file is a version 6 file without them. Version 7 added, all
 * optional: each io-wait cell's own `backendDelayMs` (before, every cell waited
 * settings.backendDelayMs), the reference model of an equal-rate cell (`sweepOf`), the server's
 * CPU with nothing to do (`idleCpu`), both bounds of an ideal, the run's noise probe
 * (`settings.noise`), the open-loop client's send lag (`client.sendLagUs`, `histograms.sendLag`),
 * and plans across machines (`env.hosts`, `cells[].perHost`): a version 6
 * file is a version 7 file without them. Version 8 judges a cell's drift against the window's own
 * noise (`drift.noisePercent`) and keeps warm-up's steps (`warmup.steps`, `stepMs`), both optional:
 * a version 7 file is read with its drift as stored. Version 9 adds the open-loop client's gap
 * between batches of sends (`client.sendBatchUs`, `settings.sendBatchUs`, both optional). Readers refuse any other version.
 */
export const SCHEMA_VERSION = 9;

import type { Family, Protocol, Scenario } from './catalog.js';
export { SCENARIOS } from './catalog.js';

export type { Family, Protocol, Scenario };

/** `ok` was measured; `limit` means the model hit a limit that is part of its nature (FD_SETSIZE,
 *  memory budget, spawn failure); `failed` is anything unexpected. */
export type CellStatus = 'ok' | 'limit' | 'failed';

export interface LatencyUs {
  /** Microseconds, from the client's HDR histogram (1 µs resolution, 3 significant digits). */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface ServerUsage {
  /**
   * Seconds between the sampler's first and last reads of the window (its bracket of the client's
   * window); CPU and context switches are scaled from it to the cell's durationS. Absent in version 1.
   */
  sampledS?: number;
  /** CPU seconds in user mode, summed over every thread of every process in the server's tree, during the measured window. */
  cpuUserS: number;
  /** CPU seconds in kernel mode, summed likewise. */
  cpuSysS: number;
  /** (cpuUserS + cpuSysS) / durationS × 100: 100 means one full core. */
  cpuPercent: number;
  /** Highest sum of resident set size over the tree seen in one sample, bytes (shared pages counted in each process). */
  rssPeakBytes: number;
  /** Mean over samples of that sum, bytes. */
  rssMeanBytes: number;
  /** Highest proportional set size summed over the tree (shared pages split between sharers), bytes; null where unreadable. */
  pssPeakBytes?: number | null;
  /** Most threads alive at once, over all processes of the tree. */
  threadsPeak: number;
  /** Most processes alive at once in the tree (1 for a single-process server). */
  processesPeak: number;
  /** Voluntary context switches (the thread blocked) during the window, summed over every thread seen. */
  ctxVoluntary: number;
  /** Involuntary context switches (the thread was preempted), likewise. */
  ctxInvoluntary: number;
}

export interface ClientUsage {
  /** Which load generator measured the cell: `native` (our epoll client), `autocannon` or `wrk`. */
  tool: 'native' | 'autocannon' | 'wrk';
  /** Load threads (each its own loop with a share of the connections). */
  threads: number;
  /** CPU the load generator used during the window, % of one core, summed over its threads. */
  cpuPercent: number;
  /** Client CPU microseconds per completed operation: what one operation costs the load generator; null with no operation. */
  cpuUsPerOp: number | null;
  /** The busiest load thread's CPU during the window, % of one core. */
  threadCpuPercentMax: number;
  /**
   * True when a load thread used 90% or more of a core, or when the client's CPUs were 95% busy
   * or more whoever filled them (cores.full): the figures may be the load side's limit, not the server's.
   */
  saturated: boolean;
  /**
   * Open loop, native client only: how late the client sent each request against its intended time,
   * µs, over the requests sent in the window (and those due and still unsent when it closed, at their
   * age then), from an HdrHistogram. It is the client's own share of latencyUs, which counts from the
   * intended time. Null in closed loop and for autocannon and wrk; absent in files written before it.
   */
  sendLagUs?: { p50: number; p99: number; max: number } | null;
  /**
   * Open loop, native client only: the gap its threads left between batches of sends in the window,
   * µs (the longest of any thread): 0 sends each request as it comes due; a thread that warm-up found
   * busy gathers them (clients/schedule.ts), and the wait is part of sendLagUs. Null in closed loop
   * and for autocannon and wrk; absent in files written before schema version 9.
   */
  sendBatchUs?: number | null;
}

export interface CellKey {
  model: string;
  family: Family;
  protocol: Protocol;
  scenario: Scenario;
  /** Connections held open by the client, each with `settings.pipeline` requests in flight. */
  concurrency: number;
  /** Open loop: target operations per second over all connections; null for closed loop. */
  rate: number | null;
  /** 1-based repetition index. */
  repetition: number;
  /** io-wait only: how the server reached its backend. */
  backendConnections?: 'pooled' | 'per-request';
  /** io-wait only: what the requests waited on, a real PostgreSQL or the remote-service stand-in (absent before version 4: service). */
  backend?: 'postgres' | 'service';
  /** io-wait pooled only: most backend connections each server process kept (`--db-pool`; the cell's connections by default). */
  dbPool?: number;
  /** payload only: the echo message size, or the body size of GET /bytes/N, bytes. */
  payloadBytes?: number;
  /** io-wait only: how long the backend held each query, ms, where its slice set its own (schema 7 on); absent: settings.backendDelayMs. */
  backendDelayMs?: number;
}

/** What a cell could have done at best, given its shape, beside what it did. */
export interface Ideal {
  opsPerSec: number;
  /** How it was worked out, e.g. `min(64 connections, no cap) / 10 ms`. */
  basis: string;
  /**
   * io-wait, schema 7 on: the two bounds whose lower is opsPerSec. `waits`: the waits the model
   * holds at once over the delay; `cpu`: what the server's CPUs serve at the CPU per request the
   * cell measured (null when it used none). The lower one is what limited the cell at best.
   */
  bounds?: { waits: number; cpu: number | null };
}

/** The io-wait backend's own figures for the cell. */
export interface BackendUsage {
  /** CPU the backend process used during the window, % of one core. */
  cpuPercent: number;
  /** Queries answered over the backend's whole life in the cell (warm-up and verification included). */
  queries: number;
  /** Most queries waiting on their delay at once: far above the cell's concurrency means the backend kept up. */
  waitingPeak: number;
  /** Most connections open to it at once. */
  connectionsPeak: number;
  /** Connections opened to it over the cell: about the concurrency when pooled, about the queries per request. */
  connectionsOpened?: number;
}

/** io-wait on PostgreSQL: the database's own figures for the cell. */
export interface DatabaseUsage {
  /** CPU of every database process (postmaster and backends) during the window, % of one core; null for a database we did not start. */
  cpuPercent: number | null;
  /** Sessions the database established over the cell (pg_stat_database.sessions, read before the server started and after it stopped). */
  sessionsOpened: number;
  /** Queries it answered over the cell (warm-up and verification included): transactions committed, less the one each session commits as it starts. */
  queries: number;
  /** Highest PSS summed over its processes, bytes; null where unreadable or not ours. */
  pssPeakBytes: number | null;
  /** Most database processes at once (postmaster, its helpers and one backend per connection); 0 when not ours. */
  processesPeak: number;
}

/** The run's Redis, for a model whose entry says `"needs": ["redis"]`: its figures for the cell. */
export interface RedisUsage {
  /** CPU of redis-server during the window, % of one core. */
  cpuPercent: number | null;
  /** Highest PSS of redis-server, bytes; null where unreadable. */
  pssPeakBytes: number | null;
  /** Most threads of redis-server at once (its event loop and background threads). */
  threadsPeak: number;
  /** Commands it ran over the cell (warm-up and verification included), from INFO's total_commands_processed. */
  commands: number;
  /** Connections opened to it over the cell, from INFO's total_connections_received. */
  connectionsOpened: number;
}

/** The run's Redis, as recorded in settings. */
export interface RedisInfo {
  /** `Redis 7.0.15`, from INFO server. */
  version: string;
  url: string;
  /** What it was started with (its port and folder aside). */
  settings: Record<string, string>;
}

/** One CPU's time over a cell's window, from /proc/stat: everything that ran there, not one process. */
export interface CoreBusy {
  cpu: number;
  /** user + nice + system + irq + softirq + steal, % of the window. */
  busyPercent: number;
  /** The kernel's deferred network and timer work alone, % of the window. */
  softirqPercent: number;
}

/** The pinned CPUs of a cell over its window, by side, and the sides that were full (≥ 95% busy on average). */
export interface CoresUsage {
  server: CoreBusy[];
  /** Empty where the client shares the server's CPUs by design (cpu: the server gets every CPU). */
  client: CoreBusy[];
  full: ('client' | 'server')[];
}

/** The run's PostgreSQL, as recorded in settings (never with a password). */
export interface DatabaseInfo {
  /** embedded: a cluster the run made and removed; url: the user's (--postgres-url). */
  source: 'embedded' | 'url';
  /** SELECT version(). */
  version: string;
  /** Where it was, password removed. */
  url: string;
  /** How the servers authenticated: SCRAM-SHA-256 or trust. */
  auth: 'scram' | 'trust';
  /** The settings it was started with (embedded only). */
  settings: Record<string, string>;
  table: string;
  rows: number;
  /** False when the user's database already held the table (it is then left there). */
  createdTable: boolean;
  /** The --db-host it ran on, as the plan names it (schema 7 on); absent: this machine. */
  host?: string;
}

export interface Cell extends CellKey {
  /** `--rate sweep` cells: the fraction of the closed-loop throughput their rate was set to. */
  sweepFraction?: number;
  /**
   * Equal-rate cells (schema 7 on): the model whose closed-loop throughput (same protocol,
   * scenario, connections and repetition) the fraction was taken of, so that two models meet the
   * same offered load; absent: the cell's own model.
   */
  sweepOf?: string;
  /**
   * Equal-rate cells (schema 7 on): the server's CPU over idleCpu.s seconds after it was started and
   * checked and before any load, no connection open: what the model burns with nothing to do.
   */
  idleCpu?: { percent: number; s: number } | null;
  status: CellStatus;
  /** Why a cell is `limit` or `failed`. */
  reason?: string;
  /** Length of the measured window, seconds (after warm-up). */
  durationS: number;
  /** Completed operations in the window: echoed messages or HTTP responses. */
  ops: number;
  opsPerSec: number;
  /** Payload bytes per second in both directions (sent + received) for echo; response bytes per second for http. */
  bytesPerSec: number;
  /** Everything that was not a correct operation, by kind, counted inside the window only. */
  errors: { total: number; byCode: Record<string, number> };
  /** From each request's intended send time (open loop) or actual send (closed loop) to its last byte. */
  latencyUs: LatencyUs;
  /** From the actual send; equal to latencyUs in closed loop; null when the tool cannot tell. */
  latencyUncorrectedUs: LatencyUs | null;
  /** Open loop only: set when the achieved rate fell below 95% of the target. */
  rateShortfall: { targetOpsPerSec: number; achievedOpsPerSec: number } | null;
  /** Connections the server closed after a complete response, reopened by the client (keep-alive not kept). */
  reconnects: number;
  /** Requests unanswered (or due and unsent) when the window closed; their age then is in the latency histogram. */
  outstanding: number;
  /** The measured window on CLOCK_MONOTONIC, ms, as the client timed it; null when the tool does not say. */
  window: { startMs: number; endMs: number } | null;
  /**
   * The latency histograms in HdrHistogram's compressed base64 form, to pool repetitions or redraw
   * any percentile; `sendLag` (open loop, native client) is the client's send lag (client.sendLagUs).
   */
  histograms: { latency: string; latencyUncorrected: string; sendLag?: string } | null;
  /**
   * The window in intervals (1 s from 5 s windows up, else a tenth of it): correct operations and
   * p99 (corrected, µs) in each, and the server tree's RSS and PSS at the end of each (the last
   * sample inside it; null where none fell: PSS is read every 0.5 s). The client's part is null for
   * autocannon and wrk; the memory is there from schema 5.
   */
  timeline?: Timeline | null;
  server: ServerUsage;
  client: ClientUsage;
  /**
   * How busy the pinned CPUs were over the window, whoever kept them busy (schema 6 on; null where
   * nothing was pinned). A client side that was full marks client.saturated as well.
   */
  cores?: CoresUsage | null;
  /**
   * How long warm-up took, s (at least settings.warmupS, at most 1 s more), and whether the load
   * had settled when the window opened (schema 6 on; null for autocannon and wrk, which warm up for a fixed time).
   */
  warmup?: WarmupRecord | null;
  /** The window's first fifth against its last, from the timeline (schema 6 on; null without one). */
  drift?: WindowDrift | null;
  /** Microseconds from connect() to the first byte served, over the connections opened in the cell (churn: every request's, in the window). */
  connectUs?: { p50: number; p99: number; max: number } | null;
  /** io-wait and cpu: the best the cell's shape allows (see Ideal). */
  ideal?: Ideal | null;
  /** io-wait on the service: its CPU and load. */
  service?: BackendUsage | null;
  /** io-wait on PostgreSQL: the database's CPU, memory, sessions and queries. */
  database?: DatabaseUsage | null;
  /** A model that needs Redis: Redis's CPU, memory, commands and connections (absent before version 6). */
  redis?: RedisUsage | null;
  /**
   * A cell measured across machines (schema 7 on): each load agent's own figures, whose sums are the
   * cell's ops and errors and whose histograms added bucket by bucket are the cell's histograms.
   * Absent on loopback.
   */
  perHost?: AgentFigures[] | null;
  /** The CPUs each side was pinned to for this cell (cpu gives the server every CPU); absent before version 3. */
  cpus?: { server: number[] | null; client: number[] | null };
  /** churn: TCP sockets in TIME_WAIT on the machine (from /proc/net/sockstat) before and after the cell. */
  timeWait?: { before: number; after: number } | null;
  /**
   * cpu, external models only: the program's calibration of its own CPU loop for `workUs`
   * microseconds per reply, as it reported it (its loop costs another time per iteration in another
   * language: `settings.work` is ours). Absent elsewhere.
   */
  calibration?: { workUs: number; iterations: number; nsPerIteration: number } | null;
}

/** One load agent's part of a cell measured across machines. */
export interface AgentFigures {
  /** The load host as the plan names it (`[user@]host[:port]`), or `local` for the harness's own machine. */
  host: string;
  /** Agent i of N: closed loop holds its share of the connections, open loop sends operations k·N + i. */
  agent: number;
  agents: number;
  /** Connections answered when the window opened. */
  connections: number;
  ops: number;
  opsPerSec: number;
  errors: { total: number; byCode: Record<string, number> };
  latencyUs: LatencyUs;
  /** Values in its latency histogram (what the cell's merged histogram adds up). */
  latencyCount: number;
  /** Its own latency histogram (corrected), HdrHistogram compressed base64: the cell's is these added bucket by bucket. */
  histogram: string;
  /** Open loop: its share of the rate, ops/s; null in closed loop. */
  rate: number | null;
  client: ClientUsage;
  /** Its clock minus the harness's for this cell, ms, from the least-delay of several round trips, and half that round trip. */
  clockOffsetMs: number;
  clockUncertaintyMs: number;
  /** Whether its warm-up had settled when the common window opened. */
  warmupSettled: boolean | null;
}

/** A host of a plan across machines, as checked before the run (schema 7 on). */
export interface HostEnv {
  role: 'server' | 'load' | 'db';
  /** As the plan names it: `[user@]host[:port]`. */
  host: string;
  node: string;
  kernel: string;
  cpuModel: string;
  cpus: number;
  memoryBytes: number;
  /** Its CLOCK_MONOTONIC minus the harness's, ms (the least-delay of several round trips), and half that round trip. */
  clockOffsetMs: number;
  clockUncertaintyMs: number;
}

export interface Pinning {
  /** CPUs the server was pinned to, or null when it was not pinned. */
  server: number[] | null;
  client: number[] | null;
  /** How pinning was done (`taskset`), or why it was not. */
  method: string;
}

export interface Env {
  node: string;
  platform: string;
  kernel: string;
  cpuModel: string;
  cpus: number;
  memoryBytes: number;
  gitCommit: string | null;
  pinning: Pinning;
  /** The hosts of a plan across machines (schema 7 on); absent on loopback. */
  hosts?: HostEnv[];
}

export interface Settings {
  /** Measured window per cell, seconds. */
  durationS: number;
  /** Load before the window that is not measured, seconds. */
  warmupS: number;
  /** Echo message size, bytes (HTTP uses GET /). */
  payloadBytes: number;
  repetitions: number;
  models: string[];
  protocols: Protocol[];
  concurrency: number[];
  /** Worker threads or processes for models that use them. */
  workers: number;
  /** Interval between /proc samples of the server tree, ms. */
  sampleIntervalMs: number;
  /** A server tree whose memory (PSS summed over the tree; RSS until PSS is read) crosses this is stopped and its cell recorded as `limit`, bytes. */
  memoryBudgetBytes: number;
  scenarios: Scenario[];
  /** Idle connections held open beside the load in the `idle` scenario. */
  idleConnections: number;
  /** Models asked for but left out of the plan, with why (no C compiler, say). */
  skipped: { model: string; reason: string }[];
  /** The HTTP load generator: `native`, `autocannon` or `wrk` (echo is always native). */
  httpClient: 'native' | 'autocannon' | 'wrk';
  /** Load threads per client. */
  clientThreads: number;
  /** Requests in flight per connection. */
  pipeline: number;
  /** Open-loop rates asked for (ops/s), `sweep` (fractions of each closed-loop maximum), or null for closed loop only. */
  rates: number[] | 'sweep' | null;
  /** With `sweep`: the fractions of the closed-loop maximum run. */
  sweepFractions: number[];
  /**
   * --send-batch: the open-loop client's gap between batches of sends, µs, or null for auto (each
   * cell's own is `client.sendBatchUs`). Absent before schema version 9.
   */
  sendBatchUs?: number | null;
  /** A cell whose errors exceed this share of its attempts (ops + errors) is `failed`. */
  errorThreshold: number;
  /** The suite the plan came from (absent before version 3). */
  suite?: string;
  /** The plan's slices: per scenario, the protocols, concurrencies and models it ran. */
  slices?: { scenario: Scenario; protocols: Protocol[]; concurrency: number[]; models: string[] | null; backendConnections?: string[]; payloadSizes?: number[] }[];
  /** io-wait: the backend's delay per query, ms (a slice may set its own: cells[].backendDelayMs). */
  backendDelayMs?: number;
  /**
   * The noise probe (schema 7 on): one cell the suite repeats `readings` times spread through the
   * run, so that its spread is the machine's run-to-run noise, which every finding's margin must
   * beat. Null or absent when the run had none.
   */
  noise?: NoiseProbe | null;
  /** io-wait on PostgreSQL: the database the run used; null or absent when none was. */
  database?: DatabaseInfo | null;
  /** The run's Redis, when a model of the plan needed one; null or absent when none did. */
  redis?: RedisInfo | null;
  /** cpu: the work asked for per request (µs), the iterations of the CPU loop it was calibrated to, and the loop's measured speed. */
  work?: { us: number; iterations: number; nsPerIteration: number } | null;
  /** External models in the plan: the command as written ({port} and {workers} unreplaced) and the version line it printed, if one was asked for. */
  externalModels?: { name: string; family: Family; command: string[]; protocols: Protocol[]; shell: boolean; version: string | null }[];
}

/** A cell repeated through the run to measure how much a figure moves between readings of the same thing. */
export interface NoiseProbe {
  model: string;
  protocol: Protocol;
  scenario: Scenario;
  concurrency: number;
  readings: number;
}

export interface Timeline {
  intervalS: number;
  ops: number[];
  p99Us: number[];
  rssBytes?: (number | null)[];
  pssBytes?: (number | null)[];
}

/** How a cell's warm-up went. */
export interface WarmupRecord {
  /** How long it took, s. */
  s: number;
  /** Whether the load had settled when the window opened (false: it ran to its cap). */
  settled: boolean;
  /** Correct operations in each step of warm-up, and the step's length, ms (schema 8 on): what the settling was judged on. */
  steps?: number[];
  stepMs?: number;
}

/** The window's first fifth against its last: a ramp-up left inside the window, or a slowdown. */
export interface WindowDrift {
  /** Correct operations per second in the first and the last fifth of the window. */
  firstOpsPerSec: number;
  lastOpsPerSec: number;
  /** first / last. */
  ratio: number;
  /** The window's own interval-to-interval noise, as a share of its mean interval, %; from schema 8. */
  noisePercent?: number;
  /** More than 10% apart, and further apart than the window's own noise explains (3 standard deviations). */
  drifts: boolean;
}

/**
 * Drift of a timeline, or null when it has fewer than 5 intervals or no operations.
 *
 * The noise a drift must beat is the window's own, from the differences between neighbouring
 * intervals (their median, so that one step or stall does not count as noise, and a slow ramp adds
 * little), and never less than counting noise. Judged by counting noise alone, 33 of 164 cells of
 * a default run were flagged, 25 against their windows' own noise: on this machine neighbouring
 * 100 ms intervals differ by 2–10% at random, so a first fifth 10% off the last can be chance.
 */
export function windowDrift(t: Pick<Timeline, 'intervalS' | 'ops'> | null | undefined): WindowDrift | null {
  if (!t || t.ops.length < 5) return null;
  const ops = t.ops;
  const n = ops.length;
  const k = Math.max(1, Math.floor(n / 5));
  const first = ops.slice(0, k).reduce((a, b) => a + b, 0);
  const last = ops.slice(-k).reduce((a, b) => a + b, 0);
  if (first + last === 0) return null;
  const ratio = last > 0 ? first / last : Infinity;
  const mean = ops.reduce((a, b) => a + b, 0) / n;
  const steps = ops.slice(1).map((x, i) => Math.abs(x - ops[i]!)).sort((a, b) => a - b);
  // |a − b| of two intervals with standard deviation σ has median 0.6745·√2·σ.
  const sigma = Math.max(median(steps) / (0.6745 * Math.SQRT2), Math.sqrt(mean));
  const drifts = Math.abs(ratio - 1) > 0.1 && Math.abs(first - last) > 3 * sigma * Math.sqrt(2 * k);
  const perSec = (x: number): number => Math.round(x / (k * t.intervalS));
  const noisePercent = Math.round((1000 * sigma) / mean) / 10; // mean > 0: first + last > 0
  return { firstOpsPerSec: perSec(first), lastOpsPerSec: perSec(last), ratio: Math.round(ratio * 1000) / 1000, noisePercent, drifts };
}

function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

export interface Results {
  schemaVersion: number;
  runId: string;
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601; null while the run is still going. */
  finishedAt: string | null;
  /** The exact command line that produced this file. */
  command: string;
  env: Env;
  settings: Settings;
  cells: Cell[];
}

/** micro.json from `npm run micro`: one entry per primitive, times in nanoseconds. */
export interface MicroResults {
  schemaVersion: 1;
  kind: 'micro';
  startedAt: string;
  command: string;
  env: Env;
  /** Time given to each task, seconds (tinybench runs at least its minimum iterations). */
  timePerTaskS: number;
  tasks: { name: string; what: string; state: string; meanNs: number | null; p50Ns: number | null; p99Ns: number | null; rmePercent: number | null; samples: number; error?: string }[];
}
