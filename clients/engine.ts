// One load-generator thread: an epoll loop on raw sockets (servers/sys) driving its share of the
// connections, echo or HTTP, closed loop or open loop. It must outrun the fastest server it drives,
// so the hot path makes one recv and one send per exchange, allocates nothing for echo and only a
// subarray per read for HTTP, and compares bytes in place.
//
// Open loop (wrk2's scheme): operation m of the whole run is due at t0 + m / rate and belongs to
// connection m mod C, so each connection's k-th operation is due at t0 + (k·C + g) / rate. A
// connection that is still waiting sends its due operations as soon as it can, and latency is
// counted from when each was due (corrected) as well as from when it was sent (uncorrected): a
// stall then shows in every request that should have been sent during it, not only in the one
// that was waiting.
//
// Phases are shared with the coordinator (clients/load.ts) through a SharedArrayBuffer, on one
// time line (CLOCK_MONOTONIC in ms), so every thread counts exactly the same window.
import { EAGAIN, EINTR, errnoName } from '../sys/errno.js';
import { Epoll, EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT } from '../sys/readiness.js';
import { close, connectTcp, recv, resetOnClose, send, setTimerSlackNs, threadCpuS } from '../sys/socket.js';
import { ResponseParser, type Expected } from '../protocols/http-response.js';
import { encodeHistogram, latencyHistogram, recordUs } from './latency.js';
import { seededBytes } from './payload.js';
import { Control, Phase } from './control.js';

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
  /** Operations per second over all threads; null for closed loop. */
  rate: number | null;
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
  latencyUncorrected: string;
  /** Exact maxima of the two histograms (the encoded form keeps them only to 3 significant digits), µs. */
  latencyMaxUs: number;
  latencyUncorrectedMaxUs: number;
  connect: string;
  connectCount: number;
  /** Connections open and answered at least once when the window opened. */
  connectionsAtWindow: number;
  /** Correct operations per interval of the window, and their (corrected) latency histograms, encoded. */
  timeline: { ops: number[]; latency: string[] };
  cpuS: number;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

export function runEngine(o: EngineOptions, control: Control): EngineResult {
  const n = o.connections;
  const depth = o.pipeline;
  const isHttp = o.protocol === 'http';
  const S = o.payloadBytes;
  const ep = new Epoll(Math.min(n, 4096));
  const fds = new Int32Array(n).fill(-1);
  const state = new Uint8Array(n).fill(CLOSED);
  const served = new Uint8Array(n);
  /** 1 from a connection's open until its first answer: that answer times connect-to-first-byte. */
  const fresh = new Uint8Array(n);
  const connectAt = new Float64Array(n);
  // In-flight requests per connection: a ring of `depth` slots (oldest at head[j]).
  const head = new Int32Array(n);
  const inflight = new Int32Array(n);
  const sentAt = new Float64Array(n * depth);
  const dueAt = new Float64Array(n * depth);
  // Operations sent and operations due (open loop) per connection; sent counts the op index.
  const sent = new Float64Array(n);
  const due = new Float64Array(n);
  // Bytes handed to send() that the socket did not take yet.
  const outBuf: (Buffer | null)[] = new Array(n).fill(null);
  const outOff = new Int32Array(n);
  const wantOut = new Uint8Array(n);
  // Echo: one message buffer per slot, stamped when sent; got = bytes of the oldest one echoed so far.
  const messages = isHttp ? [] : Array.from({ length: n * depth }, (_, k) => seededBytes(S, o.first * depth + k + 1));
  const got = new Int32Array(n);
  const request = isHttp ? Buffer.from(o.request!) : Buffer.alloc(0);
  const batch = isHttp ? Buffer.concat(Array.from({ length: depth }, () => request)) : Buffer.alloc(0);
  const expected: Expected | null = o.expected ? { status: o.expected.status, body: Buffer.from(o.expected.body) } : null;
  const parsers: (ResponseParser | null)[] = new Array(n).fill(null);
  const rbuf = Buffer.alloc(Math.max(65536, Math.min(S * depth, 1 << 20)));
  const latency = latencyHistogram();
  const uncorrected = latencyHistogram();
  const connectLatency = latencyHistogram();
  const openLoop = o.rate !== null;
  const errors: Record<string, number> = {};
  let ops = 0, bytes = 0, reconnects = 0, outstanding = 0, connectionsAtWindow = 0;
  let seq = o.first;
  let phase: Phase = Phase.Connect;
  let now = control.now();
  let mStart = Infinity, mEnd = Infinity, t0 = Infinity;
  let cpuAtStart = NaN, cpuAtEnd = NaN;
  let servedCount = 0;
  // Open loop: the next operation of this thread's schedule is op k of local connection j.
  let curK = 0, curJ = 0, nextDue = Infinity;
  const dueTime = (j: number, k: number): number => t0 + ((k * o.totalConnections + o.first + j) * 1000) / o.rate!;
  const inWindow = (t: number): boolean => t >= mStart && t < mEnd;
  // The latency-over-time series: one count and one histogram per interval of the window.
  const intervalMs = timelineIntervalS(o.durationS) * 1000;
  const timelineOps: number[] = [];
  const timelineHist: ReturnType<typeof latencyHistogram>[] = [];

  const count = (code: string): void => {
    if (inWindow(now)) errors[code] = (errors[code] ?? 0) + 1;
  };

  /** Ends connection j; its unanswered operations go back to the schedule and are sent again. */
  const drop = (j: number): void => {
    if (fds[j]! >= 0) {
      ep.remove(fds[j]!);
      close(fds[j]!);
    }
    fds[j] = -1;
    state[j] = CLOSED;
    sent[j] = Math.max(0, sent[j]! - inflight[j]!);
    inflight[j] = 0;
    head[j] = 0;
    got[j] = 0;
    outBuf[j] = null;
  };
  const fail = (j: number, code: string): void => {
    count(code);
    drop(j);
  };

  const open = (j: number): void => {
    connectAt[j] = now;
    try {
      fds[j] = connectTcp(o.host, o.port, { nonBlocking: true });
    } catch (e) {
      count((e as { code?: string }).code ?? 'connect');
      return;
    }
    state[j] = CONNECTING;
    fresh[j] = 1;
    if (isHttp) {
      const p: ResponseParser = new ResponseParser(expected, (err, closeAfter) => {
        if (parsers[j] === p) onResponse(j, err, closeAfter); // bytes after a close belong to no one
      });
      parsers[j] = p;
    }
    ep.add(fds[j]!, EPOLLOUT | EPOLLIN, j);
    wantOut[j] = 1;
  };

  /** Sends as many operations as the loop allows: closed loop fills the pipeline, open loop sends what is due. */
  const trySend = (j: number): void => {
    if (state[j] !== OPEN || outBuf[j] !== null) return;
    const room = depth - inflight[j]!;
    if (room <= 0) return;
    let m = room;
    if (phase === Phase.Connect) m = served[j] === 1 || inflight[j]! > 0 ? 0 : 1; // one first exchange, then wait
    else if (openLoop) m = Math.min(room, due[j]! - sent[j]!);
    if (m <= 0) return;
    const at = now;
    for (let q = 0; q < m; q++) {
      const slot = (head[j]! + inflight[j]!) % depth;
      const idx = j * depth + slot;
      sentAt[idx] = at;
      dueAt[idx] = openLoop && phase !== Phase.Connect ? dueTime(j, sent[j]!) : at;
      sent[j]!++;
      inflight[j]!++;
      if (!isHttp) {
        const msg = messages[idx]!;
        if (S >= 4) msg.writeUInt32LE(seq++ >>> 0, 0); // each message differs, so a stale echo is caught
        if (!push(j, msg, 0)) return;
      }
    }
    if (isHttp) push(j, m === 1 ? request : batch.subarray(0, m * request.length), 0);
  };

  /** Writes buf[off..]; keeps what the socket does not take for EPOLLOUT. False when j was dropped or is blocked. */
  const push = (j: number, buf: Buffer, off: number): boolean => {
    const r = send(fds[j]!, off === 0 ? buf : buf.subarray(off), buf.length - off);
    if (r < 0 && r !== -EAGAIN) {
      fail(j, errnoName(-r));
      return false;
    }
    const next = off + Math.max(r, 0);
    if (next === buf.length) {
      outBuf[j] = null;
      if (wantOut[j] === 1) ep.modify(fds[j]!, EPOLLIN, j);
      wantOut[j] = 0;
      return true;
    }
    outBuf[j] = buf;
    outOff[j] = next;
    if (wantOut[j] === 0) ep.modify(fds[j]!, EPOLLIN | EPOLLOUT, j);
    wantOut[j] = 1;
    return false;
  };

  function onResponse(j: number, err: string | null, closeAfter: boolean): void {
    const idx = j * depth + head[j]!;
    head[j] = (head[j]! + 1) % depth;
    inflight[j]!--;
    if (served[j] === 0) {
      served[j] = 1;
      servedCount++;
      control.served(o.thread, servedCount, now);
      recordUs(connectLatency, (now - connectAt[j]!) * 1000);
    } else if (fresh[j] === 1 && inWindow(now)) recordUs(connectLatency, (now - connectAt[j]!) * 1000); // a reopened connection
    fresh[j] = 0;
    if (inWindow(now)) {
      if (err === null) {
        ops++;
        const us = (now - dueAt[idx]!) * 1000;
        recordUs(latency, us);
        const slot = Math.floor((now - mStart) / intervalMs);
        timelineOps[slot] = (timelineOps[slot] ?? 0) + 1;
        recordUs((timelineHist[slot] ??= latencyHistogram()), us);
        if (openLoop) recordUs(uncorrected, (now - sentAt[idx]!) * 1000);
      } else errors[err] = (errors[err] ?? 0) + 1;
    }
    if (closeAfter || o.churn) {
      if (inWindow(now)) reconnects++;
      // Echo churn closes first, from the client: a reset leaves no TIME_WAIT holding the client's
      // ports (without tcp_tw_reuse, 28k ports in TIME_WAIT for 60 s allow fewer than 500 connections a second).
      if (o.churn && !isHttp && fds[j]! >= 0) resetOnClose(fds[j]!);
      drop(j);
      open(j);
    }
  }

  const onReadable = (j: number): void => {
    const r = recv(fds[j]!, rbuf, rbuf.length);
    if (r === -EAGAIN || r === -EINTR) return;
    if (r < 0) return fail(j, errnoName(-r));
    if (r === 0) {
      const p = parsers[j] ?? null;
      const err = p === null ? (inflight[j]! > 0 ? 'EOF' : null) : p.eof() ?? (inflight[j]! > 0 ? 'EOF' : null);
      if (state[j] === OPEN) (err === null ? drop(j) : fail(j, err));
      return;
    }
    if (inWindow(now)) bytes += r;
    if (isHttp) {
      const err = parsers[j]!.feed(rbuf, r);
      if (err !== null && state[j] === OPEN) fail(j, err);
    } else echoed(j, r);
    if (state[j] === OPEN) trySend(j);
  };

  /** Checks r received bytes against the messages in flight, oldest first. */
  const echoed = (j: number, r: number): void => {
    let at = 0;
    while (at < r) {
      if (inflight[j] === 0) return fail(j, 'mismatch'); // bytes nobody asked for
      const msg = messages[j * depth + head[j]!]!;
      const off = got[j]!;
      const take = Math.min(S - off, r - at);
      if (rbuf.compare(msg, off, off + take, at, at + take) !== 0) return fail(j, 'mismatch');
      at += take;
      got[j] = off + take;
      if (got[j] === S) {
        got[j] = 0;
        onResponse(j, null, false);
      }
    }
  };

  const onEvent = (j: number, mask: number): void => {
    if (state[j] === CONNECTING) {
      if ((mask & (EPOLLERR | EPOLLHUP)) !== 0) return fail(j, connectErrorCode(fds[j]!));
      state[j] = OPEN;
      ep.modify(fds[j]!, EPOLLIN, j);
      wantOut[j] = 0;
      return trySend(j);
    }
    if ((mask & EPOLLOUT) !== 0 && outBuf[j] !== null) {
      if (push(j, outBuf[j]!, outOff[j]!)) trySend(j);
    }
    if (state[j] === OPEN && (mask & (EPOLLIN | EPOLLERR | EPOLLHUP)) !== 0) onReadable(j);
  };

  /** Open loop: makes every operation due by `now` due on its connection, and sends it if it can. */
  const advanceSchedule = (): void => {
    while (nextDue <= now) {
      due[curJ]!++;
      trySend(curJ);
      if (++curJ === n) {
        curJ = 0;
        curK++;
      }
      nextDue = dueTime(curJ, curK);
    }
  };

  // A first exchange may wait for a process or thread to start, so it gets the connect cap, not the
  // per-request timeout: replacing a slow connection would only start yet another worker.
  const scanTimeouts = (): void => {
    for (let j = 0; j < n; j++) {
      if (state[j] === CLOSED) open(j);
      else if (state[j] === CONNECTING && now - connectAt[j]! > o.connectCapMs) fail(j, 'connect-timeout');
      else if (state[j] === OPEN && inflight[j]! > 0) {
        const idx = j * depth + head[j]!;
        const limit = served[j] === 0 ? o.connectCapMs : o.timeoutMs;
        if (now - sentAt[idx]! > limit) {
          if (inWindow(now)) recordUs(latency, (now - dueAt[idx]!) * 1000);
          fail(j, 'timeout');
        }
      }
    }
  };

  if (openLoop) setTimerSlackNs(1000); // a send 50 µs late would count as 50 µs of server latency
  for (let j = 0; j < n; j++) open(j);
  let nextScan = now + 100;
  for (;;) {
    const ready = openLoop && nextDue !== Infinity ? ep.waitUs(Math.min(5000, (nextDue - now) * 1000)) : ep.wait(5);
    now = control.now();
    if (ready < 0 && ready !== -EINTR) throw new Error(`epoll_wait: ${errnoName(-ready)}`);
    for (let k = 0; k < ready; k++) {
      onEvent(ep.eventData(k), ep.eventMask(k));
      // A batch of answers takes a while to go through: the clock moves with it, so each one is
      // timed when it is read and an open-loop send due meanwhile leaves on time, not after the batch.
      if (k + 1 < ready) {
        now = control.now();
        if (openLoop && phase === Phase.Run) advanceSchedule();
      }
    }
    if (phase === Phase.Connect && control.phase() === Phase.Run) {
      phase = Phase.Run;
      ({ t0, mStart, mEnd } = control.times());
      // The schedule counts from here: a first exchange still in flight is not one of its operations.
      sent.fill(0);
      if (openLoop) nextDue = dueTime(0, 0);
      else for (let j = 0; j < n; j++) trySend(j);
    }
    if (openLoop && phase === Phase.Run) advanceSchedule();
    if (phase === Phase.Run && Number.isNaN(cpuAtStart) && now >= mStart) {
      cpuAtStart = threadCpuS();
      for (let j = 0; j < n; j++) if (state[j] === OPEN && served[j] === 1) connectionsAtWindow++;
    }
    if (now >= mEnd || control.phase() === Phase.Abort) break;
    if (now >= nextScan) {
      nextScan = now + 100;
      scanTimeouts();
    }
  }
  cpuAtEnd = threadCpuS();

  // Requests still unanswered when the window closed are part of its latency, at their age then.
  if (mEnd !== Infinity) {
    for (let j = 0; j < n; j++) {
      for (let q = 0; q < inflight[j]!; q++) {
        const idx = j * depth + ((head[j]! + q) % depth);
        if (dueAt[idx]! >= mEnd) continue;
        outstanding++;
        recordUs(latency, (mEnd - dueAt[idx]!) * 1000);
        if (openLoop) recordUs(uncorrected, (mEnd - sentAt[idx]!) * 1000);
      }
      if (openLoop) {
        for (let k = sent[j]!; k < due[j]!; k++) {
          const d = dueTime(j, k);
          if (d >= mEnd) break;
          outstanding++;
          recordUs(latency, (mEnd - d) * 1000);
        }
      }
    }
  }
  for (let j = 0; j < n; j++) if (fds[j]! >= 0) close(fds[j]!);
  ep.close();
  return {
    thread: o.thread,
    ops,
    bytes: isHttp ? bytes : 2 * S * ops,
    errors,
    reconnects,
    outstanding,
    latency: encodeHistogram(latency),
    latencyUncorrected: encodeHistogram(openLoop ? uncorrected : latency),
    latencyMaxUs: latency.maxValue,
    latencyUncorrectedMaxUs: (openLoop ? uncorrected : latency).maxValue,
    connect: encodeHistogram(connectLatency),
    connectCount: connectLatency.totalCount,
    connectionsAtWindow,
    cpuS: cpuAtEnd - cpuAtStart,
    timeline: {
      ops: Array.from({ length: timelineSlots(o.durationS) }, (_, k) => timelineOps[k] ?? 0),
      latency: Array.from({ length: timelineSlots(o.durationS) }, (_, k) => encodeHistogram(timelineHist[k] ?? latencyHistogram())),
    },
  };
}

/** Seconds per point of a window's timeline: one second from 5 s windows up, else a tenth of the window. */
export function timelineIntervalS(durationS: number): number {
  return durationS >= 5 ? 1 : durationS / 10;
}

export function timelineSlots(durationS: number): number {
  return Math.ceil(durationS / timelineIntervalS(durationS) - 1e-9);
}

// A failed non-blocking connect reports its error through the socket; recv surfaces it.
function connectErrorCode(fd: number): string {
  const r = recv(fd, Buffer.alloc(1), 1);
  return r < 0 ? errnoName(-r) : 'ECONNREFUSED';
}
