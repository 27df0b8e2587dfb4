// HTTP/1.1 load through autocannon's programmatic API: keep-alive connections, one request in
// flight each, `GET /` checked for status 200 and its body. One autocannon run covers warm-up and
// window; the window is cut out of its per-response events so connections are not re-opened.
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
  timeoutS: number;
}

export async function runHttpLoad(o: HttpLoadOptions, onMeasuring: () => void = () => {}): Promise<ClientResult> {
  const latency = latencyHistogram();
  const byCode: Record<string, number> = {};
  const count = (code: string): void => {
    byCode[code] = (byCode[code] ?? 0) + 1;
  };
  let measuring = false;
  let ops = 0;
  let bytes = 0;
  let windowStart = 0;
  let windowEnd = 0;

  // With a callback autocannon returns its event emitter (without one, only a promise).
  let finish!: (r: { err: Error | null; result: autocannon.Result }) => void;
  const done = new Promise<{ err: Error | null; result: autocannon.Result }>((r) => (finish = r));
  const instance = autocannon(
    {
      url: `http://${o.host}:${o.port}/`,
      connections: o.connections,
      pipelining: 1,
      duration: o.warmupS + o.durationS,
      timeout: o.timeoutS,
      expectBody: HELLO_BODY,
    },
    (err, result) => {
      windowEnd = performance.now();
      finish({ err, result });
    },
  );
  const warmupTimer = setTimeout(() => {
    measuring = true;
    windowStart = performance.now();
    onMeasuring();
  }, o.warmupS * 1000);
  instance.on('response', (_client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => {
    if (!measuring) return;
    if (statusCode !== 200) count(`HTTP_${statusCode}`);
    ops++;
    bytes += resBytes;
    recordUs(latency, responseTimeMs * 1000);
  });
  instance.on('reqError', (e: NodeJS.ErrnoException) => {
    if (measuring) count(e.code ?? 'request-error');
  });
  const { err, result: summary } = await done;
  clearTimeout(warmupTimer);
  if (err) throw err;
  if (summary.mismatches > 0) byCode.mismatch = summary.mismatches;
  if (summary.timeouts > 0) byCode.timeout = summary.timeouts;
  const durationS = measuring ? (windowEnd - windowStart) / 1000 : 0;
  if (durationS <= 0) throw new Error('http client: the run ended before the measured window started');
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
    connections: o.connections,
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
      'timeout-s': { type: 'string', default: '10' },
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
