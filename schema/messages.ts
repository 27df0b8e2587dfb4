// The event lines a child process prints on stdout for the harness, one JSON object a line: a
// server's (listening, error, limit, fault), the io-wait service's, the idle crowd's, an external
// program's calibration and the load generator's (measuring, measured, result). Declared once here
// for the printing side and the reading side, which parses each line into this union.
import type { ClientUsage, DatabaseInfo, LatencyUs, ServerUsage, WarmupRecord } from './results.js';

/** The one line a server prints on stdout when it accepts connections (the io-wait service adds its delay). */
export interface ListeningMessage {
  event: 'listening';
  host: string;
  port: number;
  pid: number;
  delayMs?: number;
}

/** Printed on stdout instead of `listening` when the server cannot start; `code` says why. */
export interface ServerErrorMessage {
  event: 'error';
  code: string;
  message: string;
}

/**
 * Printed (once per reason is enough) when the model reaches a limit that is part of its nature:
 * a descriptor select() cannot watch, a process or thread that cannot be started. The harness
 * records the cell as `limit` with this reason instead of `ok`.
 */
export interface LimitMessage {
  event: 'limit';
  reason: string;
}

/** Printed when something outside the model went wrong (a wrong or dead backend): the cell fails. */
export interface FaultMessage {
  event: 'fault';
  reason: string;
}

export type ServerMessage = ListeningMessage | ServerErrorMessage | LimitMessage | FaultMessage;

/** What the io-wait service did, printed when it is stopped, so a cell can show it was never the bottleneck. */
export interface BackendStatsMessage {
  event: 'backend-stats';
  queries: number;
  waitingPeak: number;
  connectionsPeak: number;
  connectionsOpened: number;
}

/** The idle crowd (clients/idle.ts) holds all its connections. */
export interface IdleMessage {
  event: 'idle';
  connections: number;
}

/**
 * An external program's report of its own CPU loop. Its fields are left unchecked here: the harness
 * checks them against the cell and names the program in what it refuses (harness/external.ts).
 */
export interface CalibrationMessage {
  event: 'calibration';
  workUs: unknown;
  iterations: unknown;
  nsPerIteration: unknown;
}

/** The tools that can drive a cell: our own epoll client, autocannon (HTTP), wrk (HTTP, when installed). */
export const CLIENT_TOOLS = ['native', 'autocannon', 'wrk'] as const;
export type ClientTool = (typeof CLIENT_TOOLS)[number];

/** The warm-up is over: the measured window starts now. */
export interface MeasuringMessage {
  event: 'measuring';
}

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
  /** How warm-up went (schema/results.ts WarmupRecord); null where the tool warms up for a fixed time. */
  warmup?: WarmupRecord | null;
  client: ClientUsage;
  /** HdrHistogram compressed base64 of the latency histograms; null where the tool keeps none. */
  histograms: { latency: string; latencyUncorrected: string; sendLag?: string } | null;
  /** Per load thread, so a merge can be checked against its parts. */
  perThread: { ops: number; errors: number; latencyCount: number }[];
  /** Correct operations and p99 latency (corrected, µs) per interval of the window; null where the tool keeps none. */
  timeline: { intervalS: number; ops: number[]; p99Us: number[] } | null;
}

export type ClientMessage = MeasuringMessage | MeasuredMessage | ClientResult;

/**
 * A load agent (`--agent I/N`, one of several sharing one schedule) has its connections answered
 * and waits, paused, for the harness's start line: {"start":{"t0Ms","mStartMs","mEndMs"}} on its
 * clock (CLOCK_MONOTONIC, ms). Until then and after, {"ping":N} lines on stdin get a `pong`.
 */
export interface AgentReadyMessage {
  event: 'agent-ready';
  /** Connections answered once. */
  connections: number;
}

/** An agent's (or a host's clock probe's) answer to {"ping":id}: its CLOCK_MONOTONIC, ms. */
export interface PongMessage {
  event: 'pong';
  id: number;
  clockMs: number;
}

/** The usage the /proc sampler on a remote host read of the group it wraps (harness/remote-group.ts). */
export interface RemoteUsageMessage {
  event: 'remote-usage';
  usage: ServerUsage;
  /** The group's RSS and PSS at the end of each interval of the window, when asked for. */
  memory?: { rssBytes: (number | null)[]; pssBytes: (number | null)[] };
}

/**
 * An agent's interval k of the window (the timeline's), printed as soon as it has closed on every
 * load thread: correct operations in it and their latency histogram (corrected), encoded. The
 * harness adds the agents' intervals into the cell's timeline.
 */
export interface IntervalMessage {
  event: 'interval';
  k: number;
  ops: number;
  latency: string;
}

export type AgentMessage = AgentReadyMessage | PongMessage | RemoteUsageMessage | IntervalMessage;

/**
 * A --db-host's database accepts connections (harness/db-host.ts): where, as whom, and the
 * throwaway password the server host needs (it travels in the ssh session only, never to a file here).
 */
export interface DatabaseReadyMessage {
  event: 'database';
  port: number;
  user: string;
  database: string;
  password: string | null;
  info: DatabaseInfo;
}

/** db-host.ts's answer to the request with this id: its figures, or what went wrong. */
export interface DatabaseAnswerMessage {
  event: 'db-answer';
  id: number;
  error?: string;
  counters?: { sessions: number; commits: number; backends: number };
  usage?: ServerUsage;
  memory?: RemoteUsageMessage['memory'];
}

export type DbHostMessage = DatabaseReadyMessage | DatabaseAnswerMessage;

export type EventMessage = ServerMessage | BackendStatsMessage | IdleMessage | CalibrationMessage | ClientMessage | AgentMessage | DbHostMessage;

const isNum = (v: unknown): v is number => typeof v === 'number';
const isStr = (v: unknown): v is string => typeof v === 'string';

/** What each event needs to be itself; a line that lacks it is not that event. */
const SHAPES: Record<EventMessage['event'], (m: Record<string, unknown>) => boolean> = {
  listening: (m) => isNum(m.port),
  error: (m) => isStr(m.message),
  limit: (m) => isStr(m.reason),
  fault: (m) => isStr(m.reason),
  'backend-stats': (m) => isNum(m.queries) && isNum(m.waitingPeak) && isNum(m.connectionsPeak) && isNum(m.connectionsOpened),
  idle: (m) => isNum(m.connections),
  calibration: () => true,
  measuring: () => true,
  measured: () => true,
  'agent-ready': (m) => isNum(m.connections),
  pong: (m) => isNum(m.id) && isNum(m.clockMs),
  interval: (m) => isNum(m.k) && isNum(m.ops) && isStr(m.latency),
  'remote-usage': (m) => typeof m.usage === 'object' && m.usage !== null,
  database: (m) => isNum(m.port) && isStr(m.user) && isStr(m.database) && typeof m.info === 'object' && m.info !== null,
  'db-answer': (m) => isNum(m.id),
  result: (m) => isStr(m.tool) && isNum(m.ops) && isNum(m.durationS) && typeof m.latencyUs === 'object' && m.latencyUs !== null && typeof m.client === 'object' && m.client !== null,
};

/** One stdout line as an event, or null for any other line (text, other JSON, an event missing what it needs). */
export function parseEvent(line: string): EventMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const m = v as Record<string, unknown>;
  const shape = isStr(m.event) && Object.hasOwn(SHAPES, m.event) ? SHAPES[m.event as EventMessage['event']] : undefined;
  return shape?.(m) ? (m as unknown as EventMessage) : null;
}
