// TCP echo load: N connections, each a closed loop with one message in flight, every echoed byte
// checked. It runs one epoll loop on raw sockets (servers/sys) because it must outrun the fastest
// server it drives; Node's own sockets would make the client the bottleneck.
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { EAGAIN, EINTR, errnoName } from '../servers/sys/errno.js';
import { Epoll, EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT } from '../servers/sys/readiness.js';
import { close, connectTcp, recv, send } from '../servers/sys/socket.js';
import { latencyHistogram, recordUs, summarizeUs } from './latency.js';
import { seededBytes } from './payload.js';
import type { ClientResult } from './messages.js';

export interface EchoLoadOptions {
  host: string;
  port: number;
  /** Connections that keep one message in flight each. */
  connections: number;
  payloadBytes: number;
  warmupS: number;
  durationS: number;
  /** A message unanswered for this long counts as a `timeout` error and its connection is replaced. */
  timeoutMs: number;
  /**
   * Warm-up starts once every connection has completed a first exchange, or once at least one has
   * and no other has for this long (a pool that serves N connections at once starves the rest:
   * waiting longer shows nothing).
   * A model that keeps making progress (a process per connection starting one child after another)
   * gets up to connectCapMs.
   */
  connectStallMs: number;
  connectCapMs: number;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

const enum Phase {
  Connect,
  Warmup,
  Measure,
}

export function runEchoLoad(o: EchoLoadOptions, onMeasuring: () => void = () => {}): ClientResult {
  const total = o.connections;
  const S = o.payloadBytes;
  const ep = new Epoll(Math.min(total, 4096));
  const fds = new Int32Array(total).fill(-1);
  const state = new Uint8Array(total).fill(CLOSED);
  const served = new Uint8Array(total); // completed a first exchange
  const got = new Int32Array(total);
  const sendOff = new Int32Array(total);
  const wantOut = new Uint8Array(total);
  const sentAt = new Float64Array(total);
  const connectAt = new Float64Array(total);
  const payloads = Array.from({ length: total }, (_, i) => seededBytes(S, i + 1));
  const rbuf = Buffer.alloc(Math.max(65536, Math.min(S, 1 << 20)));
  const latency = latencyHistogram();
  const connectLatency = latencyHistogram();
  const byCode: Record<string, number> = {};
  let errorsTotal = 0;
  let ops = 0;
  let phase = Phase.Connect;
  let seq = 0;

  const fail = (i: number, code: string): void => {
    byCode[code] = (byCode[code] ?? 0) + 1;
    errorsTotal++;
    if (fds[i]! >= 0) {
      ep.remove(fds[i]!);
      close(fds[i]!);
    }
    fds[i] = -1;
    state[i] = CLOSED;
  };

  const open = (i: number): void => {
    connectAt[i] = performance.now();
    try {
      fds[i] = connectTcp(o.host, o.port, { nonBlocking: true });
    } catch (e) {
      fail(i, (e as { code?: string }).code ?? 'connect');
      return;
    }
    state[i] = CONNECTING;
    ep.add(fds[i]!, EPOLLOUT | EPOLLIN, i);
    wantOut[i] = 1;
  };

  const startMessage = (i: number): void => {
    const p = payloads[i]!;
    if (S >= 4) p.writeUInt32LE(seq++ >>> 0, 0); // each message differs, so a stale echo is caught
    got[i] = 0;
    sendOff[i] = 0;
    sentAt[i] = performance.now();
    pushBytes(i);
  };

  // EPOLLOUT is watched only while part of a message waits to be sent, so a busy loop never spins on it.
  const pushBytes = (i: number): void => {
    const off = sendOff[i]!;
    const p = payloads[i]!;
    const n = send(fds[i]!, off === 0 ? p : p.subarray(off), S - off);
    if (n < 0 && n !== -EAGAIN) return fail(i, errnoName(-n));
    const next = off + Math.max(n, 0);
    sendOff[i] = next;
    if (next === S) {
      if (wantOut[i] === 1) ep.modify(fds[i]!, EPOLLIN, i);
      wantOut[i] = 0;
    } else if (wantOut[i] === 0) {
      ep.modify(fds[i]!, EPOLLIN | EPOLLOUT, i);
      wantOut[i] = 1;
    }
  };

  const onReadable = (i: number, now: number): void => {
    const n = recv(fds[i]!, rbuf, rbuf.length);
    if (n === -EAGAIN || n === -EINTR) return;
    if (n < 0) return fail(i, errnoName(-n));
    if (n === 0) return fail(i, 'EOF');
    const at = got[i]!;
    if (at + n > S || rbuf.compare(payloads[i]!, at, at + n, 0, n) !== 0) return fail(i, 'mismatch');
    got[i] = at + n;
    if (at + n < S) return;
    if (served[i] === 0) {
      served[i] = 1;
      servedCount++;
      lastServedAt = now;
      recordUs(connectLatency, (now - connectAt[i]!) * 1000);
    }
    if (phase === Phase.Measure) {
      ops++;
      recordUs(latency, (now - sentAt[i]!) * 1000);
    }
    // A connection answered during the connect phase waits: load from the first connections would
    // otherwise compete with the start-up of the rest (a thread or process each, in some models).
    if (phase !== Phase.Connect) startMessage(i);
  };

  const onEvent = (i: number, mask: number, now: number): void => {
    if (state[i] === CONNECTING) {
      if ((mask & (EPOLLERR | EPOLLHUP)) !== 0) return fail(i, connectErrorCode(fds[i]!));
      state[i] = OPEN;
      ep.modify(fds[i]!, EPOLLIN, i);
      wantOut[i] = 0;
      startMessage(i);
      return;
    }
    if ((mask & EPOLLOUT) !== 0 && sendOff[i]! < S) pushBytes(i);
    if (state[i] === OPEN && (mask & (EPOLLIN | EPOLLERR | EPOLLHUP)) !== 0) onReadable(i, now);
  };

  const t0 = performance.now();
  for (let i = 0; i < total; i++) open(i);
  let warmupEnd = Infinity;
  let measureStart = Infinity;
  let measureEnd = Infinity;
  // Phase changes are checked every 20 ms (a late check lengthens every cell); timeouts every 100 ms.
  let nextCheck = t0 + 20;
  let nextScan = t0 + 100;
  let connectedAtWindow = 0;
  let servedCount = 0;
  let lastServedAt = t0;

  for (;;) {
    const n = ep.wait(5);
    const now = performance.now();
    if (n < 0 && n !== -EINTR) throw new Error(`epoll_wait: ${errnoName(-n)}`);
    for (let k = 0; k < n; k++) onEvent(ep.eventData(k), ep.eventMask(k), now);
    if (now < nextCheck) continue;
    nextCheck = now + 20;
    if (now >= nextScan) {
      nextScan = now + 100;
      scanTimeouts(now);
    }
    const stalled = servedCount > 0 && now - lastServedAt > o.connectStallMs;
    if (phase === Phase.Connect && (servedCount === total || stalled || now - t0 > o.connectCapMs)) {
      if (servedCount === 0) {
        throw new Error(`no connection to ${o.host}:${o.port} completed an exchange: ${JSON.stringify(byCode)}`);
      }
      phase = Phase.Warmup;
      warmupEnd = now + o.warmupS * 1000;
      for (let i = 0; i < total; i++) if (state[i] === OPEN && served[i] === 1 && got[i] === S) startMessage(i);
    }
    if (phase === Phase.Warmup && now >= warmupEnd) {
      phase = Phase.Measure;
      measureStart = now;
      measureEnd = now + o.durationS * 1000;
      connectedAtWindow = countServedOpen();
      onMeasuring();
    }
    if (phase === Phase.Measure && now >= measureEnd) break;
  }

  // A first exchange may wait for a process or thread to start, so it gets the connect cap, not
  // the per-message timeout: replacing a slow connection would only start yet another worker.
  function scanTimeouts(now: number): void {
    for (let i = 0; i < total; i++) {
      const limit = served[i] === 0 ? o.connectCapMs : o.timeoutMs;
      if (state[i] === CLOSED) open(i);
      else if (state[i] === CONNECTING && now - connectAt[i]! > o.connectCapMs) fail(i, 'connect-timeout');
      else if (state[i] === OPEN && got[i]! < S && now - sentAt[i]! > limit) {
        fail(i, 'timeout');
      }
    }
  }

  /** Connections that are open and have been answered at least once. */
  function countServedOpen(): number {
    let n = 0;
    for (let i = 0; i < total; i++) if (state[i] === OPEN && served[i] === 1) n++;
    return n;
  }

  const durationS = (performance.now() - measureStart) / 1000;
  for (let i = 0; i < total; i++) if (fds[i]! >= 0) close(fds[i]!);
  ep.close();
  return {
    event: 'result',
    ops,
    durationS,
    opsPerSec: ops / durationS,
    bytesPerSec: (2 * S * ops) / durationS,
    errors: { total: errorsTotal, byCode },
    latencyUs: summarizeUs(latency),
    connectUs: connectLatency.totalCount > 0 ? connectSummary(connectLatency) : null,
    connections: connectedAtWindow,
  };
}

function connectSummary(h: ReturnType<typeof latencyHistogram>): { p50: number; p99: number; max: number } {
  const s = summarizeUs(h);
  return { p50: s.p50, p99: s.p99, max: s.max };
}

// A failed non-blocking connect reports its error through the socket; recv surfaces it.
function connectErrorCode(fd: number): string {
  const n = recv(fd, Buffer.alloc(1), 1);
  return n < 0 ? errnoName(-n) : 'ECONNREFUSED';
}

/** Synchronous write: the load loop never yields, so an async stdout write would sit unflushed. */
export function emit(message: object): void {
  writeSync(1, JSON.stringify(message) + '\n');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      connections: { type: 'string', default: '64' },
      payload: { type: 'string', default: '64' },
      warmup: { type: 'string', default: '1' },
      duration: { type: 'string', default: '3' },
      'timeout-ms': { type: 'string', default: '5000' },
      'connect-stall-ms': { type: 'string', default: '3000' },
      'connect-cap-ms': { type: 'string', default: '20000' },
    },
  });
  const num = (flag: keyof typeof values, min: number): number => {
    const v = Number(values[flag]);
    if (values[flag] === undefined || !Number.isFinite(v) || v < min) {
      throw new Error(`echo client: --${flag} must be a number >= ${min}, got ${String(values[flag])}`);
    }
    return v;
  };
  const result = runEchoLoad(
    {
      host: values.host!,
      port: num('port', 1),
      connections: num('connections', 1),
      payloadBytes: num('payload', 1),
      warmupS: num('warmup', 0),
      durationS: num('duration', 0.1),
      timeoutMs: num('timeout-ms', 1),
      connectStallMs: num('connect-stall-ms', 1),
      connectCapMs: num('connect-cap-ms', 1),
    },
    () => emit({ event: 'measuring' }),
  );
  emit(result);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
