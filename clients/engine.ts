// One load-generator thread: an epoll loop on raw sockets (servers/sys) driving its share of the
// connections, echo or HTTP, closed loop or open loop. Its parts: the connection table
// (connections.ts), the open-loop schedule (schedule.ts), the exchanges on each connection
// (exchange.ts), the window recorder (window.ts), and here the loop that waits, dispatches and
// moves through the phases.
//
// Open loop (wrk2's scheme, schedule.ts): a connection that is still waiting sends its due
// operations as soon as it can, and latency is counted from when each was due (corrected) as well
// as from when it was sent (uncorrected): a stall then shows in every request that should have
// been sent during it, not only in the one that was waiting.
//
// Phases are shared with the coordinator (clients/load.ts) through a SharedArrayBuffer, on one
// time line (CLOCK_MONOTONIC in ms), so every thread counts exactly the same window.
import { EINTR, errnoName } from '../sys/errno.js';
import { Epoll } from '../sys/readiness.js';
import { setTimerSlackNs, threadCpuS } from '../sys/socket.js';
import { ConnectionTable } from './connections.js';
import { Control, Phase } from './control.js';
import { Exchanges } from './exchange.js';
import { encodeHistogram } from './latency.js';
import { ADAPT_MS, OpenLoopSchedule } from './schedule.js';
import { WindowRecorder } from './window.js';

export interface EngineOptions {
  protocol: 'echo' | 'http';
  host: string;
  port: number;
  /** This thread's connections, global indexes [first, first + connections). */
  first: number;
  connections: number;
  /** Connections over all threads (C in the schedule). */
  totalConnections: number;
  /** Echo message size, bytes. */
  payloadBytes: number;
  /** HTTP request bytes, sent as they are. */
  request: Uint8Array | null;
  /** What every HTTP response must be. */
  expected: { status: number; body: Uint8Array } | null;
  /** Requests in flight per connection. */
  pipeline: number;
  /** The window's length, seconds: sets the timeline's interval. */
  durationS: number;
  /** Operations per second over all threads (over all agents when agentCount > 1); null for closed loop. */
  rate: number | null;
  /** Open loop: a fixed gap between batches of sends, µs; null: warm-up chooses it by how busy the thread is. */
  sendBatchUs: number | null;
  /** Agents sharing the open-loop schedule, and this one's index (schedule.ts); absent alone. */
  agentCount?: number;
  agentIndex?: number;
  /** A request unanswered this long is a `timeout` error and its connection is replaced. */
  timeoutMs: number;
  /** A first exchange (which may wait for a process or thread to start) gets this long. */
  connectCapMs: number;
  /** A new connection for every request (HTTP asks with Connection: close; echo closes after each answer). */
  churn: boolean;
  thread: number;
}

/** What one thread measured inside the window; histograms in HdrHistogram's compressed base64 form. */
export interface EngineResult {
  thread: number;
  ops: number;
  bytes: number;
  errors: Record<string, number>;
  /** Connections the server closed after a complete response (Connection: close), reopened. */
  reconnects: number;
  /** Requests still unanswered (or due and unsent) when the window closed, recorded at their age then. */
  outstanding: number;
  latency: string;
  /** Values in the latency histogram (answers, time-outs and requests left unanswered in the window). */
  latencyCount: number;
  /** Open loop's uncorrected latency (from when each request left); null in closed loop, where it is the corrected one. */
  latencyUncorrected: string | null;
  /** Exact maxima of the two histograms (the encoded form keeps them only to 3 significant digits), µs. */
  latencyMaxUs: number;
  latencyUncorrectedMaxUs: number;
  /** Open loop: the send lag histogram (window.ts) and its exact maximum, µs; null in closed loop. */
  sendLag: string | null;
  sendLagMaxUs: number;
  /** Open loop: the gap this thread left between batches of sends in the window, µs (schedule.ts); null in closed loop. */
  sendBatchUs: number | null;
  connect: string;
  connectCount: number;
  /** Connections open and answered at least once when the window opened. */
  connectionsAtWindow: number;
  /** Correct operations per interval of the window, and their (corrected) latency histograms, encoded. */
  timeline: { ops: number[]; latency: string[] };
  cpuS: number;
}

/** One interval of the window, closed: what an agent's thread streams to its coordinator as the window runs. */
export interface IntervalPart {
  kind: 'interval';
  thread: number;
  k: number;
  ops: number;
  latency: string;
}

export function runEngine(o: EngineOptions, control: Control, onInterval: ((p: IntervalPart) => void) | null = null): EngineResult {
  const table = new ConnectionTable(o.connections, o.pipeline);
  const window = new WindowRecorder(o.durationS, o.rate !== null);
  const schedule = o.rate !== null ? new OpenLoopSchedule(o.rate, o.totalConnections, o.first, o.connections, o.agentCount ?? 1, o.agentIndex ?? 0, o.sendBatchUs) : null;
  const ep = new Epoll(Math.min(o.connections, 4096));
  const io = new Exchanges(o, control, ep, table, window, schedule);
  if (schedule !== null) setTimerSlackNs(1000); // a send 50 µs late would count as 50 µs of server latency
  const stream = onInterval === null ? null : (now: number): void => {
    for (const s of window.takeClosedSlots(now)) onInterval({ kind: 'interval', thread: o.thread, ...s });
  };
  const { cpuS, connectionsAtWindow } = loop(o.thread, io, control, ep, table, window, schedule, stream);
  if (stream && window.end !== Infinity) stream(window.end);
  recordOutstanding(table, window, schedule);
  io.closeAll();
  ep.close();
  return result(o, window, schedule, cpuS, connectionsAtWindow);
}

/** Waits, dispatches and moves through the phases until the window closes or the run is aborted. */
function loop(thread: number, io: Exchanges, control: Control, ep: Epoll, table: ConnectionTable, window: WindowRecorder, schedule: OpenLoopSchedule | null, stream: ((now: number) => void) | null): { cpuS: number; connectionsAtWindow: number } {
  let cpuAtStart = NaN, connectionsAtWindow = 0;
  let adaptAt = Infinity, adaptCpu = 0;
  for (let j = 0; j < table.count; j++) io.open(j);
  let nextScan = io.now + 100;
  for (;;) {
    const ready = schedule !== null && io.phase === Phase.Run ? ep.waitUs(schedule.sleepUs(io.now)) : ep.wait(5);
    io.now = control.now();
    if (ready < 0 && ready !== -EINTR) throw new Error(`epoll_wait: ${errnoName(-ready)}`);
    for (let k = 0; k < ready; k++) {
      io.onEvent(ep.eventData(k), ep.eventMask(k));
      // A batch of answers takes a while to go through: the clock moves with it, so each one is
      // timed when it is read and an open-loop send due meanwhile leaves on time, not after the batch.
      if (k + 1 < ready) {
        io.now = control.now();
        if (schedule !== null && io.phase === Phase.Run) io.advanceSchedule();
      }
    }
    if (io.phase === Phase.Connect && control.phase() === Phase.Run) startRun(io, control, table, window, schedule);
    // Warm-up: the coordinator watches the progress and opens the window once the load has
    // settled (clients/load.ts); the window's own loop does neither. Every turn of warm-up runs the
    // window's opening code too (its times still Infinity): code first run as the window opened had
    // no type feedback, and V8 deoptimised the loop right there, which cost the window's first
    // ~100 ms up to half its rate (--trace-deopt: "insufficient type feedback"; window.ts likewise).
    if (io.phase === Phase.Run && window.start === Infinity) {
      control.progress(thread, window.completed);
      const set = control.windowSet();
      const { mStart, mEnd } = control.times();
      window.open(set ? mStart : Infinity, set ? mEnd : Infinity);
    }
    if (schedule !== null && io.phase === Phase.Run) io.advanceSchedule();
    // Read on every turn before the window, so the last is its opening's (see above).
    if (io.phase === Phase.Run && io.now < window.start) {
      cpuAtStart = threadCpuS();
      connectionsAtWindow = table.answeredOpen();
      // Warm-up chooses the gap between batches of sends by how busy the thread is (schedule.ts).
      if (schedule !== null && io.now >= adaptAt + ADAPT_MS) {
        schedule.adapt((cpuAtStart - adaptCpu) * 1000 / (io.now - adaptAt));
        adaptAt = Infinity;
      }
      if (adaptAt === Infinity) {
        adaptAt = io.now;
        adaptCpu = cpuAtStart;
      }
    }
    if (stream !== null && window.slotClosed(io.now)) stream(io.now);
    if (io.now >= window.end || control.phase() === Phase.Abort) break;
    if (io.now >= nextScan) {
      nextScan = io.now + 100;
      io.scanTimeouts();
    }
  }
  return { cpuS: threadCpuS() - cpuAtStart, connectionsAtWindow };
}

/** The coordinator started the load: warm-up now; the window opens when it says (loop). */
function startRun(io: Exchanges, control: Control, table: ConnectionTable, window: WindowRecorder, schedule: OpenLoopSchedule | null): void {
  io.phase = Phase.Run;
  const { t0 } = control.times();
  // The schedule counts from here: a first exchange still in flight is not one of its operations.
  table.sent.fill(0);
  if (schedule !== null) schedule.start(t0);
  else for (let j = 0; j < table.count; j++) io.trySend(j);
}

/** Requests still unanswered when the window closed are part of its latency, at their age then. */
function recordOutstanding(table: ConnectionTable, window: WindowRecorder, schedule: OpenLoopSchedule | null): void {
  if (window.end === Infinity) return;
  for (let j = 0; j < table.count; j++) {
    for (let q = 0; q < table.inflight[j]!; q++) {
      const idx = table.slotOf(j, q);
      window.unanswered(table.dueAt[idx]!, table.sentAt[idx]!);
    }
    if (schedule !== null) {
      for (let k = table.sent[j]!; k < table.due[j]!; k++) if (!window.unsent(schedule.dueTime(j, k))) break;
    }
  }
}

function result(o: EngineOptions, w: WindowRecorder, schedule: OpenLoopSchedule | null, cpuS: number, connectionsAtWindow: number): EngineResult {
  const uncorrected = o.rate !== null ? w.uncorrected : w.latency;
  return {
    thread: o.thread,
    ops: w.ops,
    bytes: o.protocol === 'http' ? w.bytes : 2 * o.payloadBytes * w.ops,
    errors: w.errors,
    reconnects: w.reconnects,
    outstanding: w.outstanding,
    latency: encodeHistogram(w.latency),
    latencyCount: w.latency.totalCount,
    latencyUncorrected: o.rate !== null ? encodeHistogram(uncorrected) : null,
    latencyMaxUs: w.latency.maxValue,
    latencyUncorrectedMaxUs: uncorrected.maxValue,
    sendLag: o.rate !== null ? encodeHistogram(w.sendLag) : null,
    sendLagMaxUs: w.sendLag.maxValue,
    sendBatchUs: schedule === null ? null : schedule.batchUs,
    connect: encodeHistogram(w.connect),
    connectCount: w.connect.totalCount,
    connectionsAtWindow,
    cpuS,
    timeline: w.timeline(),
  };
}
