// One correct exchange before any load: a server that answers wrongly is a failed cell, not a fast one.
import net from 'node:net';
import type { Protocol } from '../servers/catalog.js';
import { HELLO_BODY } from '../servers/protocols/http.js';

const PROBE = Buffer.from('concurrency-bench verify \u00e9\u00e8 0123456789\n');
const HTTP_PROBE = Buffer.from('GET / HTTP/1.1\r\nHost: verify\r\nConnection: close\r\n\r\n');

/** Resolves when the server answered one request correctly; rejects with what was wrong. */
export function verifyExchange(host: string, port: number, protocol: Protocol, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port });
    const fail = (why: string): void => {
      socket.destroy();
      reject(new Error(`verify ${protocol} exchange: ${why}`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no complete answer within ${timeoutMs} ms`));
    socket.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
    socket.on('connect', () => socket.write(protocol === 'echo' ? PROBE : HTTP_PROBE));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const got = Buffer.concat(chunks);
      if (protocol === 'echo' && got.length >= PROBE.length) {
        if (got.equals(PROBE)) {
          socket.destroy();
          resolve();
        } else fail(`echoed bytes differ from the ${PROBE.length} sent`);
      }
    });
    socket.on('end', () => {
      if (protocol !== 'http') return fail('connection closed before the echo was complete');
      const text = Buffer.concat(chunks).toString('latin1');
      if (!text.startsWith('HTTP/1.1 200 ')) return fail(`expected HTTP/1.1 200, got "${text.split('\r\n')[0]}"`);
      if (!text.endsWith(`\r\n\r\n${HELLO_BODY}`)) return fail(`expected body "${HELLO_BODY}"`);
      socket.destroy();
      resolve();
    });
  });
}
