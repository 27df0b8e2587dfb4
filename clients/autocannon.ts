// HTTP/1.1 load through autocannon's programmatic API (`--http-client autocannon`): kept because it
// is the tool Node users know, and as a cross-check of the native client. Closed loop only. The
// window is cut out of autocannon's per-response events, so connections are opened once.
import autocannon from 'autocannon';
import { latencyHistogram, recordUs, summarizeUs, encodeHistogram } from './latency.js';
import type { LoadOptions } from './load.js';
import type { ClientResult } from '../schema/messages.js';
import { clientUsage, closedLoopResult, NO_EVENTS, type WindowEvents } from './result.js';

export async function runAutocannon(o: LoadOptions, expectBody: string, events: WindowEvents = NO_EVENTS): Promise<ClientResult> {
  const tally = new Tally(performance.now());
  let finish!: (r: { err: Error | null }) => void;
  const done = new Promise<{ err: Error | null }>((r) => (finish = r));
  const instance = autocannon(autocannonOptions(o, expectBody), (err) => finish({ err }));
  instance.on('response', (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => tally.response(client, statusCode, resBytes, responseTimeMs));
  (instance as unknown as NodeJS.EventEmitter).on('reqMismatch', () => tally.mismatch());
  instance.on('reqError', (e: NodeJS.ErrnoException) => tally.requestError(e));
  const { ticker, measured } = schedulePhases(o, tally, events, () => instance.stop());
  const { err } = await done;
  clearInterval(ticker);
  if (err) throw err;
  if (measured.end === 0) throw new Error('autocannon: the run ended before the measured window did');
  if (tally.answered.size === 0) throw new Error(`no connection to ${o.host}:${o.port} got a response within ${o.connectCapMs} ms`);
  return result(tally, measured);
}

function autocannonOptions(o: LoadOptions, expectBody: string): autocannon.Options {
  return {
    url: `http://${o.host}:${o.port}${o.path}`,
    connections: o.connections,
    pipelining: o.pipeline,
    duration: o.connectCapMs / 1000 + o.warmupS + o.durationS + 5, // an upper bound: stopped by hand
    timeout: Math.max(1, Math.round(o.timeoutMs / 1000)),
    expectBody,
    // autocannon finishes only at its next sample tick after stop(): 100 ms instead of a second.
    sampleInt: 100,
  };
}

type Phase = 'connect' | 'warmup' | 'measure' | 'done';

/** What autocannon's events amount to: connections answered while connecting, then the window's counts. */
class Tally {
  phase: Phase = 'connect';
  ops = 0;
  bytes = 0;
  readonly latency = latencyHistogram();
  readonly byCode: Record<string, number> = {};
  /** The connections (autocannon's clients) answered at least once while connecting, the last at lastAnswerAt. */
  readonly answered = new Set<unknown>();
  lastAnswerAt: number;
  // autocannon emits 'reqMismatch' right after the 'response' it concerns, in the same tick, so a
  // response is committed on the next tick, once it is known whether its body matched.
  private pending: { status: number; bytes: number; ms: number; mismatch: boolean } | null = null;

  constructor(readonly t0: number) {
    this.lastAnswerAt = t0;
  }

  response(client: unknown, status: number, bytes: number, ms: number): void {
    this.commit();
    if (this.phase === 'connect' && !this.answered.has(client)) {
      this.answered.add(client);
      this.lastAnswerAt = performance.now();
    }
    this.pending = { status, bytes, ms, mismatch: false };
    process.nextTick(this.commit);
  }

  mismatch(): void {
    if (this.pending) this.pending.mismatch = true;
  }

  requestError(e: NodeJS.ErrnoException): void {
    if (this.phase === 'measure') this.count(e.message === 'request timed out' ? 'timeout' : (e.code ?? 'request-error'));
  }

  readonly commit = (): void => {
    const p = this.pending;
    this.pending = null;
    if (p === null || this.phase !== 'measure') return;
    if (p.status !== 200) this.count(`HTTP_${p.status}`);
    else if (p.mismatch) this.count('mismatch');
    else {
      this.ops++;
      this.bytes += p.bytes;
      recordUs(this.latency, p.ms * 1000);
    }
  };

  /** Connecting ends when every connection was answered, none was for connectStallMs, or at connectCapMs. */
  connected(o: LoadOptions, now: number): boolean {
    const stalled = this.answered.size > 0 && now - this.lastAnswerAt > o.connectStallMs;
    return this.answered.size === o.connections || stalled || now - this.t0 > o.connectCapMs;
  }

  private count(code: string): void {
    this.byCode[code] = (this.byCode[code] ?? 0) + 1;
  }
}

/** The window as it happened: performance.now() at its ends (0 until then), connections then, CPU in it. */
interface Measured {
  start: number;
  end: number;
  connections: number;
  cpuS: number;
}

/** Connect, then warm up for warmupS, then measure for durationS, then `stop`. */
function schedulePhases(o: LoadOptions, tally: Tally, events: WindowEvents, stop: () => void): { ticker: NodeJS.Timeout; measured: Measured } {
  const measured: Measured = { start: 0, end: 0, connections: 0, cpuS: 0 };
  const ticker = setInterval(() => {
    if (tally.phase !== 'connect' || !tally.connected(o, performance.now())) return;
    tally.phase = 'warmup';
    setTimeout(() => measure(o, tally, events, measured, stop), o.warmupS * 1000);
  }, 50);
  return { ticker, measured };
}

function measure(o: LoadOptions, tally: Tally, events: WindowEvents, measured: Measured, stop: () => void): void {
  tally.phase = 'measure';
  measured.connections = tally.answered.size;
  measured.start = performance.now();
  const cpuAtStart = process.cpuUsage();
  events.onMeasuring();
  setTimeout(() => {
    tally.commit();
    tally.phase = 'done';
    measured.end = performance.now();
    events.onMeasured();
    const cpu = process.cpuUsage(cpuAtStart);
    measured.cpuS = (cpu.user + cpu.system) / 1e6;
    stop();
  }, o.durationS * 1000);
}

function result(tally: Tally, measured: Measured): ClientResult {
  const durationS = (measured.end - measured.start) / 1000;
  const encoded = encodeHistogram(tally.latency);
  const total = Object.values(tally.byCode).reduce((a, b) => a + b, 0);
  return closedLoopResult({
    tool: 'autocannon',
    ops: tally.ops,
    durationS,
    bytesPerSec: tally.bytes / durationS,
    errors: { total, byCode: tally.byCode },
    latencyUs: summarizeUs(tally.latency),
    connections: measured.connections,
    // autocannon runs its load on the main thread: one core is all it can use.
    client: clientUsage('autocannon', 1, measured.cpuS, durationS, tally.ops),
    histograms: { latency: encoded, latencyUncorrected: encoded },
    perThread: [{ ops: tally.ops, errors: total, latencyCount: tally.latency.totalCount }],
  });
}
