// The checks before any load: a server that answers wrongly is a failed cell, not a fast one.
// Over HTTP, one connection carries: a keep-alive GET /, then a pipelined GET / and POST /echo,
// then GET of a missing path with Connection: close. Each answer is framed by its Content-Length
// (a body longer or shorter than it breaks the next answer's framing) and checked. Over echo, one
// message is sent in three writes and must come back whole.
import net from 'node:net';
import { ResponseParser } from '../protocols/http-response.js';
import type { Protocol } from '../schema/catalog.js';
import { HELLO_BODY } from '../protocols/http.js';

const PROBE = Buffer.from('concurrency-bench verify \u00e9\u00e8 0123456789\n');
const ECHO_BODY = 'verify \u00e9cho body';

interface Step {
  request: string;
  /** What the answer must be: status and body. */
  status: number;
  body: string;
  what: string;
}

const HTTP_STEPS: readonly (readonly Step[])[] = [
  [{ request: 'GET / HTTP/1.1\r\nHost: verify\r\n\r\n', status: 200, body: HELLO_BODY, what: 'GET / (keep-alive)' }],
  [
    { request: 'GET / HTTP/1.1\r\nHost: verify\r\n\r\n', status: 200, body: HELLO_BODY, what: 'a pipelined GET /' },
    {
      request: `POST /echo HTTP/1.1\r\nHost: verify\r\nContent-Length: ${Buffer.byteLength(ECHO_BODY)}\r\n\r\n${ECHO_BODY}`,
      status: 200, body: ECHO_BODY, what: 'POST /echo pipelined after it',
    },
  ],
  [{ request: 'GET /missing HTTP/1.1\r\nHost: verify\r\nConnection: close\r\n\r\n', status: 404, body: 'Not Found', what: 'GET /missing (404, then close)' }],
];

/** `basic` leaves out POST /echo, for a server that cannot echo bodies (nginx from its config). */
const BASIC_STEPS: readonly (readonly Step[])[] = HTTP_STEPS.map((b) => b.filter((s) => !s.request.startsWith('POST')));

/** Resolves when the server passed every check; rejects with the first thing that was wrong. */
export function verifyExchange(host: string, port: number, protocol: Protocol, timeoutMs = 5000, checks: 'full' | 'basic' = 'full'): Promise<void> {
  return protocol === 'echo' ? verifyEcho(host, port, timeoutMs) : verifyHttp(host, port, timeoutMs, checks === 'full' ? HTTP_STEPS : BASIC_STEPS);
}

function connect(host: string, port: number, protocol: Protocol, timeoutMs: number, reject: (e: Error) => void): { socket: net.Socket; fail: (why: string) => void } {
  const socket = net.connect({ host, port });
  const fail = (why: string): void => {
    socket.destroy();
    reject(new Error(`verify ${protocol}: ${why}`));
  };
  socket.setNoDelay(true);
  socket.setTimeout(timeoutMs, () => fail(`no complete answer within ${timeoutMs} ms`));
  socket.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
  return { socket, fail };
}

function verifyEcho(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const { socket, fail } = connect(host, port, 'echo', timeoutMs, reject);
    const chunks: Buffer[] = [];
    socket.on('connect', () => {
      // Three writes with pauses: the message must be reassembled, not answered piece by piece wrongly.
      socket.write(PROBE.subarray(0, 5));
      setTimeout(() => socket.write(PROBE.subarray(5, 20)), 20);
      setTimeout(() => socket.write(PROBE.subarray(20)), 40);
    });
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const got = Buffer.concat(chunks);
      if (got.length < PROBE.length) return;
      if (!got.equals(PROBE)) return fail(`echoed bytes differ from the ${PROBE.length} sent in three writes`);
      socket.destroy();
      resolve();
    });
    socket.on('end', () => fail('connection closed before the echo was complete'));
  });
}

/**
 * One connection, batches in turn. A server may close after an answer that said Connection: close
 * (legal, if slow under load: the client then counts reconnects); the requests it did not answer
 * are sent again on a new connection. One that closes without saying so, or answers wrongly, fails.
 */
async function verifyHttp(host: string, port: number, timeoutMs: number, plan: readonly (readonly Step[])[]): Promise<void> {
  let rest = plan.flatMap((b, batch) => b.map((step) => ({ step, batch })));
  while (rest.length > 0) {
    const batches = [...new Set(rest.map((r) => r.batch))].map((b) => rest.filter((r) => r.batch === b).map((r) => r.step));
    const answered = await exchangeOnOneConnection(host, port, batches, timeoutMs);
    if (answered === 0) throw new Error(`verify http: ${rest[0]!.step.what}: the server closed the connection without an answer`);
    rest = rest.slice(answered);
  }
}

/** Sends the batches on one connection until the server closes it; resolves with how many steps were answered correctly. */
function exchangeOnOneConnection(host: string, port: number, batches: Step[][], timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const { socket, fail } = connect(host, port, 'http', timeoutMs, reject);
    const steps = batches.flat();
    let answered = 0;
    let batch = 0;
    let done = false;
    const finish = (): void => {
      done = true;
      socket.destroy();
      resolve(answered);
    };
    const sendBatch = (): void => void socket.write(batches[batch]!.map((s) => s.request).join(''));
    const parser = new ResponseParser(null, (_err, closeAfter) => {
      const step = steps[answered]!;
      const got = parser.learnedResponse();
      parser.resetLearned();
      if (got.status !== step.status) return fail(`${step.what}: expected status ${step.status}, got ${got.status}`);
      if (!got.body.equals(Buffer.from(step.body))) {
        return fail(`${step.what}: expected body "${step.body}", got "${got.body.toString('latin1').slice(0, 60)}"`);
      }
      answered++;
      const last = step.request.includes('Connection: close');
      if (last && !closeAfter) return fail(`${step.what}: the answer did not say Connection: close`);
      if (closeAfter || answered === steps.length) return finish();
      if (answered === batches.slice(0, batch + 1).flat().length && ++batch < batches.length) sendBatch();
    });
    socket.on('connect', sendBatch);
    socket.on('data', (d: Buffer) => {
      if (done) return;
      const err = parser.feed(d);
      if (err !== null && !done) fail(`answer ${answered + 1} (${steps[answered]?.what ?? 'after the last'}) is not well-framed HTTP/1.1: ${err}`);
    });
    socket.on('end', () => {
      if (done) return;
      parser.eof();
      if (!done) fail(`${steps[answered]?.what ?? 'the last answer'}: the server closed the connection without saying Connection: close`);
    });
  });
}
