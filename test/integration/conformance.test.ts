// Every model in the catalog, on every protocol it serves, answers the same bytes. A new model is
// tested by adding it to the catalog.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODELS } from '../../schema/catalog.js';
import { bytesBody } from '../../protocols/http.js';
import { describeNeeds, type Requirement } from '../helpers/tools.js';
import { STOP_GRACE_MS } from '../../harness/processes.js';
import { connect, leftAfterSigterm, parseResponses, readUntil, seededBytes, seededInts, startServer, type TestServer } from '../helpers/server.js';

const MiB = 1 << 20;

// The io_uring models need a kernel that allows io_uring (elsewhere their cells are limits, tested in
// io-uring.test.ts); the C ceilings need a compiler.
const needs = (m: (typeof MODELS)[number]): Requirement[] => [...(m.name.includes('io-uring') ? ['io_uring' as const] : []), ...(m.requires ? [m.requires] : [])];

for (const model of MODELS) {
  for (const protocol of model.protocols) {
    describeNeeds(needs(model))(`${model.name} ${protocol}`, () => {
      let server: TestServer;
      beforeAll(async () => {
        server = await startServer(model.name, protocol, ['--workers', '4']);
      });
      afterAll(async () => {
        // Whatever the SIGTERM test left (or all of it, when that test did not run).
        await server?.stop();
      });

      if (protocol === 'echo') {
        it('echoes 1 MiB sent in random-sized chunks back exactly', async () => {
          const data = seededBytes(MiB, 7);
          const next = seededInts(11);
          const socket = await connect(server.port);
          const reply = readUntil(socket, (got) => got.length >= data.length, 30_000);
          for (let at = 0; at < data.length; ) {
            const n = 1 + (next() % 16384);
            socket.write(data.subarray(at, at + n));
            at += n;
          }
          const got = await reply;
          socket.destroy();
          expect(got.length).toBe(data.length);
          expect(got.equals(data)).toBe(true);
        });

        it('serves several connections at once, each its own bytes', async () => {
          const sockets = await Promise.all([1, 2, 3].map(() => connect(server.port)));
          const payloads = sockets.map((_, i) => seededBytes(4096, 100 + i));
          const replies = sockets.map((s, i) => readUntil(s, (got) => got.length >= payloads[i]!.length));
          sockets.forEach((s, i) => s.write(payloads[i]!));
          const got = await Promise.all(replies);
          sockets.forEach((s) => s.destroy());
          got.forEach((g, i) => expect(g.equals(payloads[i]!)).toBe(true));
        });
      } else {
        it('answers keep-alive requests on one connection', async () => {
          const socket = await connect(server.port);
          for (let i = 0; i < 3; i++) {
            const reply = readUntil(socket, (got) => parseResponses(got).length === 1);
            socket.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
            const [res] = parseResponses(await reply);
            expect(res!.status).toBe(200);
            expect(res!.body.toString()).toBe('Hello, World!');
          }
          socket.destroy();
        });

        it('answers GET /bytes/N with N pattern bytes, and 404 past 1 MiB or with a leading zero', async () => {
          const socket = await connect(server.port);
          const reply = readUntil(socket, (got) => parseResponses(got).length === 5, 10_000);
          socket.write(['/bytes/0', '/bytes/65536', '/bytes/1048577', '/bytes/064', '/bytes/5?x=1'].map((p) => `GET ${p} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));
          const res = parseResponses(await reply);
          socket.destroy();
          expect(res.map((r) => r.status)).toEqual([200, 200, 404, 404, 200]);
          expect(res[0]!.body.length).toBe(0);
          expect(res[1]!.body.equals(bytesBody(65536))).toBe(true);
          expect(res[4]!.body.toString()).toBe('abcde');
        });

        it('answers pipelined requests in order', async () => {
          const body = seededBytes(3000, 5);
          const socket = await connect(server.port);
          const reply = readUntil(socket, (got) => parseResponses(got).length === 4);
          socket.write(
            Buffer.concat([
              Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n'),
              Buffer.from(`POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`),
              body,
              Buffer.from('GET /missing HTTP/1.1\r\nHost: t\r\n\r\n'),
              Buffer.from('GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'),
            ]),
          );
          const res = parseResponses(await reply);
          socket.destroy();
          expect(res.map((r) => r.status)).toEqual([200, 200, 404, 200]);
          expect(res[1]!.body.equals(body)).toBe(true);
          expect(res[3]!.headers.connection?.toLowerCase()).toBe('close');
        });
      }

      it('survives a client that resets its connection mid-message', async () => {
        const victim = await connect(server.port);
        victim.write(protocol === 'echo' ? seededBytes(200_000, 3) : 'POST /echo HTTP/1.1\r\nContent-Length: 100000\r\n\r\npartial');
        await new Promise((r) => setTimeout(r, 50));
        victim.resetAndDestroy();
        await new Promise((r) => setTimeout(r, 100));
        const socket = await connect(server.port);
        const request = protocol === 'echo' ? Buffer.from('still here\n') : Buffer.from('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
        const reply = readUntil(socket, (got) => (protocol === 'echo' ? got.length >= request.length : parseResponses(got).length === 1));
        socket.write(request);
        const got = await reply;
        socket.destroy();
        if (protocol === 'echo') expect(got.equals(request)).toBe(true);
        else expect(parseResponses(got)[0]!.status).toBe(200);
      });

      // Last, as it ends the server. SIGTERM only, as the harness sends it first: stopGroup's SIGKILL
      // afterwards would end any process that ignores SIGTERM and hide it, so the group must be gone
      // by itself within the grace stopGroup gives it.
      it('SIGTERM leaves no process behind: the whole group ends by itself within the grace', async () => {
        const left = await leftAfterSigterm(server.child.pid);
        expect(left, `still running ${STOP_GRACE_MS} ms after SIGTERM, so the harness would SIGKILL them`).toEqual([]);
      }, STOP_GRACE_MS + 10_000);
    });
  }
}

describe('node-http keeps node:http as users run it', () => {
  /** Everything the server sends until it closes the connection. */
  const untilClosed = (socket: import('node:net').Socket): Promise<Buffer> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('error', () => {});
      socket.on('close', () => resolve(Buffer.concat(chunks)));
    });

  it("answers malformed requests and oversized headers with node:http's own 400 and 431, then closes", async () => {
    const s = await startServer('node-http', 'http');
    try {
      for (const [request, status] of [
        ['GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
        ['NOT A REQUEST\r\n\r\n', 400],
        [`GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`, 431],
      ] as const) {
        const socket = await connect(s.port);
        const reply = untilClosed(socket);
        socket.write(request);
        expect((await reply).toString('latin1').split('\r\n')[0], request.slice(0, 40)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      }
    } finally {
      await s.stop();
    }
  });

  it('keeps the shared 8 KiB head limit: a 9,000-byte header is 431 there as in the shared code; 300 short headers show how each counts', async () => {
    const oneHeader = (size: number): string => {
      const fixed = 'GET / HTTP/1.1\r\nHost: t\r\nX-Pad: \r\n\r\n'.length;
      return `GET / HTTP/1.1\r\nHost: t\r\nX-Pad: ${'a'.repeat(size - fixed)}\r\n\r\n`;
    };
    // 300 headers of 20 bytes: 9,027 bytes of head, of which node:http counts the names and values (8,100).
    const manyShort = `GET / HTTP/1.1\r\nHost: t\r\n${Array.from({ length: 300 }, (_, i) => `X-${String(i).padStart(4, '0')}: ${'b'.repeat(20)}\r\n`).join('')}\r\n`;
    const firstLine = async (port: number, request: string): Promise<string> => {
      const socket = await connect(port);
      const reply = readUntil(socket, (got) => got.includes('\r\n'));
      socket.write(request);
      const line = (await reply).toString('latin1').split('\r\n')[0]!;
      socket.destroy();
      return line;
    };
    const nodeHttp = await startServer('node-http', 'http');
    const shared = await startServer('async', 'http');
    try {
      for (const s of [nodeHttp, shared]) {
        expect(await firstLine(s.port, oneHeader(8192))).toMatch(/^HTTP\/1\.1 200 /);
        expect(await firstLine(s.port, oneHeader(9000))).toMatch(/^HTTP\/1\.1 431 /);
      }
      expect(manyShort.length).toBeGreaterThan(9000);
      expect(await firstLine(nodeHttp.port, manyShort)).toMatch(/^HTTP\/1\.1 200 /);
      expect(await firstLine(shared.port, manyShort)).toMatch(/^HTTP\/1\.1 431 /);
    } finally {
      await nodeHttp.stop();
      await shared.stop();
    }
  });
});
