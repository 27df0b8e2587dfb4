// HTTP/1.1 load through autocannon's programmatic API: keep-alive connections, one request in
// flight each, `GET /` checked for status 200 and its body. The window is cut out of autocannon's
// per-response events, so connections are opened once and never re-opened between phases.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { HELLO_BODY } from '../servers/protocols/http.js';
import { emit } from './echo.js';
import { latencyHistogram, recordUs, summarizeUs } from './latency.js';
import type { ClientResult } from './messages.js';

export interface HttpLoadOptions {
  host: string;
  port: number;
  connections: number;
  warmupS: number;
  durationS: number;
  /** A response slower than this is a `timeout` error. */
  timeoutS: number;
  /** As in the echo client: warm-up starts when every connection has had a first response, or none has for this long... */
  connectStallMs: number;
  /** ...or when this much time has passed since the start. */
  connectCapMs: number;
}

/**
 * One autocannon run covers connect phase, warm-up and window; it is stopped by hand when the window
 * ends, so a model that starts a process per connection is measured once it is serving, not while
 * its workers are still starting.
 */
export async function runHttpLoad(o: HttpLoadOptions, onMeasuring: () => void = () => {}): Promise<ClientResult> {
  const latency = latencyHistogram();
  const byCode: Record<string, number> = {};
  const count = (code: string): void => {
    byCode[code] = (byCode[code] ?? 0) + 1;
  };
  const answered = new Set<unknown>();
  const t0 = performance.now();
  let lastAnswerAt = t0;
  let phase: 'connect' | 'warmup' | 'measure' | 'done' = 'connect';
  let ops = 0;
  let bytes = 0;
  let windowStart = 0;
  let windowEnd = 0;
  let connectionsAtWindow = 0;

  let finish!: (r: { err: Error | null; result: autocannon.Result }) => void;
  const done = new Promise<{ err: Error | null; result: autocannon.Result }>((r) => (finish = r));
  // With a callback autocannon returns its event emitter (without one, only a promise).
  const instance = autocannon(
    {
      url: `http://${o.host}:${o.port}/`,
      connections: o.connections,
      pipelining: 1,
      duration: (o.connectCapMs / 1000) + o.warmupS + o.durationS + 5, // an upper bound: stopped by hand
      timeout: o.timeoutS,
      expectBody: HELLO_BODY,
      // autocannon finishes only at its next sample tick after stop(): 100 ms instead of a second.
      sampleInt: 100,
    },
    (err, result) => finish({ err, result }),
  );
  instance.on('response', (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => {
    if (phase === 'connect' && !answered.has(client)) {
      answered.add(client);
      lastAnswerAt = performance.now();
    }
    if (phase !== 'measure') return;
    if (statusCode !== 200) count(`HTTP_${statusCode}`);
    ops++;
    bytes += resBytes;
    recordUs(latency, responseTimeMs * 1000);
  });
  instance.on('reqError', (e: NodeJS.ErrnoException) => {
    if (phase === 'measure') count(e.code ?? 'request-error');
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
        onMeasuring();
        setTimeout(() => {
          phase = 'done';
          windowEnd = performance.now();
          instance.stop();
        }, o.durationS * 1000);
      }, o.warmupS * 1000);
    }
  }, 50);
  const { err, result: summary } = await done;
  clearInterval(ticker);
  if (err) throw err;
  if (windowEnd === 0) throw new Error('http client: the run ended before the measured window did');
  if (answered.size === 0) throw new Error(`no connection to ${o.host}:${o.port} got a response within ${o.connectCapMs} ms`);
  if (summary.mismatches > 0) byCode.mismatch = summary.mismatches;
  if (summary.timeouts > 0) byCode.timeout = summary.timeouts;
  const durationS = (windowEnd - windowStart) / 1000;
  const total = Object.values(byCode).reduce((a, b) => a + b, 0);
  return {
    event: 'result',
    ops,
    durationS,
    opsPerSec: ops / durationS,
    bytesPerSec: bytes / durationS,
    errors: { total, byCode },
    latencyUs: summarizeUs(latency),
    connectUs: null,
    connections: connectionsAtWindow,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      connections: { type: 'string', default: '64' },
      warmup: { type: 'string', default: '1' },
      duration: { type: 'string', default: '3' },
      'timeout-s': { type: 'string', default: '30' },
      'connect-stall-ms': { type: 'string', default: '3000' },
      'connect-cap-ms': { type: 'string', default: '20000' },
    },
  });
  const num = (flag: keyof typeof values, min: number): number => {
    const v = Number(values[flag]);
    if (values[flag] === undefined || !Number.isFinite(v) || v < min) {
      throw new Error(`http client: --${flag} must be a number >= ${min}, got ${String(values[flag])}`);
    }
    return v;
  };
  const result = await runHttpLoad(
    {
      host: values.host!,
      port: num('port', 1),
      connections: num('connections', 1),
      warmupS: num('warmup', 0),
      durationS: num('duration', 0.1),
      timeoutS: num('timeout-s', 1),
      connectStallMs: num('connect-stall-ms', 1),
      connectCapMs: num('connect-cap-ms', 1),
    },
    () => emit({ event: 'measuring' }),
  );
  emit(result);
  // autocannon may keep sockets or timers alive; the result is out, so end now.
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
