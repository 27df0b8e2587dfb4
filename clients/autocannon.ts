// HTTP/1.1 load through autocannon's programmatic API (`--http-client autocannon`): kept because it
// is the tool Node users know, and as a cross-check of the native client. Closed loop only. The
// window is cut out of autocannon's per-response events, so connections are opened once.
import autocannon from 'autocannon';
import { latencyHistogram, recordUs, summarizeUs, encodeHistogram } from './latency.js';
import type { LoadOptions } from './load.js';
import type { ClientResult } from '../schema/messages.js';
import { clientUsage, closedLoopResult, NO_EVENTS, type WindowEvents } from './result.js';

export async function runAutocannon(o: LoadOptions, expectBody: string, events: WindowEvents = NO_EVENTS): Promise<ClientResult> {
  const latency = latencyHistogram();
  const byCode: Record<string, number> = {};
  const count = (code: string): void => void (byCode[code] = (byCode[code] ?? 0) + 1);
  const answered = new Set<unknown>();
  const t0 = performance.now();
  let lastAnswerAt = t0;
  let phase: 'connect' | 'warmup' | 'measure' | 'done' = 'connect';
  let ops = 0, bytes = 0, windowStart = 0, windowEnd = 0, connectionsAtWindow = 0;
  let cpuAtStart = process.cpuUsage();
  let cpuS = 0;

  let finish!: (r: { err: Error | null }) => void;
  const done = new Promise<{ err: Error | null }>((r) => (finish = r));
  const instance = autocannon(
    {
      url: `http://${o.host}:${o.port}${o.path}`,
      connections: o.connections,
      pipelining: o.pipeline,
      duration: o.connectCapMs / 1000 + o.warmupS + o.durationS + 5, // an upper bound: stopped by hand
      timeout: Math.max(1, Math.round(o.timeoutMs / 1000)),
      expectBody,
      // autocannon finishes only at its next sample tick after stop(): 100 ms instead of a second.
      sampleInt: 100,
    },
    (err) => finish({ err }),
  );
  // autocannon emits 'reqMismatch' right after the 'response' it concerns, in the same tick, so a
  // response is committed on the next tick, once it is known whether its body matched.
  let pending: { status: number; bytes: number; ms: number; mismatch: boolean } | null = null;
  const commit = (): void => {
    const p = pending;
    pending = null;
    if (p === null || phase !== 'measure') return;
    if (p.status !== 200) count(`HTTP_${p.status}`);
    else if (p.mismatch) count('mismatch');
    else {
      ops++;
      bytes += p.bytes;
      recordUs(latency, p.ms * 1000);
    }
  };
  instance.on('response', (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => {
    commit();
    if (phase === 'connect' && !answered.has(client)) {
      answered.add(client);
      lastAnswerAt = performance.now();
    }
    pending = { status: statusCode, bytes: resBytes, ms: responseTimeMs, mismatch: false };
    process.nextTick(commit);
  });
  (instance as unknown as NodeJS.EventEmitter).on('reqMismatch', () => {
    if (pending) pending.mismatch = true;
  });
  instance.on('reqError', (e: NodeJS.ErrnoException) => {
    if (phase === 'measure') count(e.message === 'request timed out' ? 'timeout' : (e.code ?? 'request-error'));
  });
  const ticker = setInterval(() => {
    const now = performance.now();
    const stalled = answered.size > 0 && now - lastAnswerAt > o.connectStallMs;
    if (phase === 'connect' && (answered.size === o.connections || stalled || now - t0 > o.connectCapMs)) {
      phase = 'warmup';
      setTimeout(() => {
        phase = 'measure';
        connectionsAtWindow = answered.size;
        windowStart = performance.now();
        cpuAtStart = process.cpuUsage();
        events.onMeasuring();
        setTimeout(() => {
          commit();
          phase = 'done';
          windowEnd = performance.now();
          events.onMeasured();
          const cpu = process.cpuUsage(cpuAtStart);
          cpuS = (cpu.user + cpu.system) / 1e6;
          instance.stop();
        }, o.durationS * 1000);
      }, o.warmupS * 1000);
    }
  }, 50);
  const { err } = await done;
  clearInterval(ticker);
  if (err) throw err;
  if (windowEnd === 0) throw new Error('autocannon: the run ended before the measured window did');
  if (answered.size === 0) throw new Error(`no connection to ${o.host}:${o.port} got a response within ${o.connectCapMs} ms`);
  const durationS = (windowEnd - windowStart) / 1000;
  const encoded = encodeHistogram(latency);
  const total = Object.values(byCode).reduce((a, b) => a + b, 0);
  return closedLoopResult({
    tool: 'autocannon',
    ops,
    durationS,
    bytesPerSec: bytes / durationS,
    errors: { total, byCode },
    latencyUs: summarizeUs(latency),
    connections: connectionsAtWindow,
    // autocannon runs its load on the main thread: one core is all it can use.
    client: clientUsage('autocannon', 1, cpuS, durationS, ops),
    histograms: { latency: encoded, latencyUncorrected: encoded },
    perThread: [{ ops, errors: total, latencyCount: latency.totalCount }],
  });
}
