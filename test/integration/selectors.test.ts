// What the raw-descriptor models (busy-poll, select, poll, epoll, and the native-epoll ceiling) must
// do beyond the conformance suite: back-pressure, a thousand connections, select's FD_SETSIZE limit
// and a clean stop under load.
import { afterEach, describe, expect, it } from 'vitest';
import { describeNeeds, type Requirement } from '../helpers/tools.js';
import { groupMembers } from '../../harness/sampler.js';
import { HttpSession } from '../../protocols/http.js';
import { connect, startServer, type TestServer } from '../helpers/server.js';
import { echoOnce, groupRssBytes, keepEchoing, messageFor, openMany, waitFor, type Tracked } from '../helpers/load.js';

const MiB = 1 << 20;
const MODELS = ['busy-poll', 'select', 'poll', 'epoll', 'native-epoll'];
/** The C servers are compiled at start (cc); the io_uring ones need the kernel's io_uring too. */
const needs = (model: string): Requirement[] => [...(model.startsWith('native-') ? ['cc' as const] : []), ...(model.includes('io-uring') ? ['io_uring' as const] : [])];

let server: TestServer | undefined;
let open: Tracked[] = [];
afterEach(async () => {
  for (const t of open) t.socket.destroy();
  open = [];
  if (server) await server.stop();
  server = undefined;
});

for (const model of MODELS) describeNeeds(needs(model))(model, () => {
  it('stops reading from a client that does not read, without growing or stalling the others', async () => {
    server = await startServer(model, 'echo');
    const rssBefore = groupRssBytes(server.child.pid);
    // Loopback buffers alone absorb about 10 MiB, so 8 MiB could not tell a bounded server from an
    // unbounded one: 96 MiB is more than the buffers plus the 64 MiB the server may grow by.
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    const total = 96 * MiB;
    const [stuck] = await openMany(server.port, 1);
    open.push(stuck!);
    stuck!.socket.pause();
    for (let at = 0; at < total; at += chunk.length) stuck!.socket.write(chunk);
    // Wait until the kernel takes no more of the client's bytes for 250 ms: the server stopped reading.
    let last = -1;
    for (let tries = 0; tries < 40 && stuck!.socket.writableLength !== last; tries++) {
      last = stuck!.socket.writableLength;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(stuck!.socket.writableLength).toBeGreaterThan(0);
    expect(groupRssBytes(server.child.pid) - rssBefore).toBeLessThan(64 * MiB);

    const other = await connect(server.port);
    open.push({ socket: other, closed: false });
    const t0 = Date.now();
    const reply = await echoOnce(other, Buffer.from('still served\n'), 2000);
    expect(reply.toString()).toBe('still served\n');
    expect(Date.now() - t0).toBeLessThan(1000);

    // Once the client reads again, everything it sent comes back.
    let received = 0;
    stuck!.socket.on('data', (d: Buffer) => (received += d.length));
    stuck!.socket.resume();
    await waitFor(() => received >= total, 30_000, `${total} echoed bytes (got ${received})`);
    expect(received).toBe(total);
  });

  it('stops within the grace period while 50 connections are busy echoing, leaving no process', async () => {
    server = await startServer(model, 'echo');
    open = await openMany(server.port, 50);
    const load = keepEchoing(open.map((t) => t.socket));
    await new Promise((r) => setTimeout(r, 300));
    const before = load.exchanges();
    expect(before).toBeGreaterThan(50);
    expect(load.mismatches()).toBe(0);
    // Stopped while the load still runs: the loop never waits idle, so only its own yielding lets
    // the SIGTERM handler run.
    const pgid = server.child.pid;
    const stopped = await server.stop();
    server = undefined;
    load.stop();
    expect(load.exchanges()).toBeGreaterThan(before);
    expect(stopped.killed).toBe(false);
    expect(stopped.code).toBe(0);
    expect(groupMembers(pgid)).toEqual([]);
  });
});

describe.each(['poll', 'epoll'])('%s', (model) => {
  it('serves 1,000 concurrent connections, each its own bytes', async () => {
    server = await startServer(model, 'echo');
    open = await openMany(server.port, 1000);
    const replies = await Promise.all(open.map((t, i) => echoOnce(t.socket, messageFor(i))));
    replies.forEach((r, i) => expect(r.equals(messageFor(i))).toBe(true));
    expect(open.filter((t) => t.closed)).toHaveLength(0);
  });
});

describe('select', () => {
  it('closes connections whose descriptor is at or above FD_SETSIZE, reports the limit and serves the rest', async () => {
    server = await startServer('select', 'echo');
    const s = server;
    open = await openMany(s.port, 1100);
    // The server holds a few descriptors of its own, so at least 1100 - 1021 connections cannot fit.
    await waitFor(() => open.filter((t) => t.closed).length >= 1100 - 1021, 5000, 'refused connections to be closed');
    await waitFor(() => s.limits.length > 0, 2000, 'a limit line');
    expect(s.limits).toHaveLength(1);
    expect(s.limits[0]).toMatch(/select\(\) cannot watch descriptor 1024 or above \(FD_SETSIZE\); \d+ connections? refused/);

    // The first 900 were accepted while descriptors were free; all of them, and every other
    // survivor, still echo. The refused ones are never more than the descriptors above the limit.
    const refused = open.filter((t) => t.closed);
    expect(refused.length).toBeLessThanOrEqual(200);
    expect(open.slice(0, 900).every((t) => !t.closed)).toBe(true);
    const alive = open.map((t, i) => ({ t, i })).filter(({ t }) => !t.closed);
    const replies = await Promise.all(alive.map(({ t, i }) => echoOnce(t.socket, messageFor(i))));
    replies.forEach((r, k) => expect(r.equals(messageFor(alive[k]!.i))).toBe(true));

    // Freed descriptors below the limit are used again.
    for (const { t } of alive.slice(0, 10)) t.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const late = await connect(s.port);
    open.push({ socket: late, closed: false });
    expect((await echoOnce(late, Buffer.from('late\n'), 2000)).toString()).toBe('late\n');
  });
});

// native-epoll carries its own HTTP parser in C; it must answer byte for byte like the shared one.
const HTTP_CASES: string[][] = [
  ['GET / HTTP/1.1\r\nHost: t\r\n\r\n'],
  ['HEAD / HTTP/1.1\r\nHost: t\r\n\r\n'],
  ['POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello'],
  ['POST /echo HTTP/1.1\r\nHost: t\r\nCont', 'ent-Length: 11\r\n\r\nhello', ' world'],
  ['GET /missing?x=1 HTTP/1.1\r\nHost: t\r\n\r\n', 'HEAD /missing HTTP/1.1\r\nHost: t\r\n\r\n'],
  ['PUT / HTTP/1.1\r\nHost: t\r\n\r\nGET /echo HTTP/1.1\r\nHost: t\r\n\r\n'],
  ['GET / HTTP/1.0\r\n\r\n'],
  ['GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n'],
  ['GET / HTTP/1.1\r\nHost: t\r\nConnection: foo, close\r\n\r\n'],
  ['GET / HTTP/1.1\r\nHost: t\r\n\r\nPOST /echo HTTP/1.1\r\nHost: t\r\ncontent-length: 3\r\n\r\nabcGET /x HTTP/1.1\r\nHost: t\r\n\r\n'],
  ['GET / HTTP/1.1\nHost: t\n\n'],
  ['GET / HTTP/2.0\r\n\r\n'],
  ['POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n'],
  ['POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n\r\n'],
  ['GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\n'],
  ['GET / HTTP/1.1\r\nHost: t\r\n Host: folded\r\n\r\n'],
  ['GET / HTTP/1.1\r\nHost: t\r\nX: ' + 'a'.repeat(5000), 'a'.repeat(4000) + '\r\n\r\n'],
  ['GET / HTTP/1.1\r\n\r\n'],
  ['\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n'],
  ['\r', '\nGET / HTTP/1.1\r\nHost: t\r\n\r\n'],
  ['GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n'],
  ['POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhel', 'lo\r\na\r\n0123456789\r\n0\r\nT: 1\r\n\r\n', 'GET / HTTP/1.1\r\nHost: t\r\n\r\n'],
  ['GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\n\r\n'],
  ['POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'],
  ['POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'],
  ['POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n'],
  ['POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n'],
  ['POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1000001\r\n'],
  ['POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 70000\r\n\r\n' + 'x'.repeat(30_000), 'y'.repeat(40_000)],
  ['GET /bytes/100 HTTP/1.1\r\nHost: t\r\n\r\nHEAD /bytes/7 HTTP/1.1\r\nHost: t\r\n\r\nPOST /bytes/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /bytes/01 HTTP/1.1\r\nHost: t\r\n\r\n'],
  ['GET /bytes/70000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'],
];

const withoutDate = (b: Buffer): string => b.toString('latin1').replace(/\r\nDate: [^\r]*/g, '\r\nDate: -');

/** What the connection got back, and whether the server closed it, once `expected` bytes arrived. */
async function exchange(port: number, chunks: string[], expected: number, expectClose: boolean): Promise<{ got: Buffer; closed: boolean }> {
  const socket = await connect(port);
  socket.setNoDelay(true);
  const parts: Buffer[] = [];
  let size = 0;
  const done = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 3000);
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      size += d.length;
      if (size >= expected && !expectClose) resolve(false);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('error', () => {});
  });
  for (const c of chunks) {
    socket.write(c, 'latin1');
    await new Promise((r) => setTimeout(r, 20)); // separate reads on the server: heads and bodies split
  }
  const closed = await done;
  socket.destroy();
  return { got: Buffer.concat(parts), closed };
}

// The C servers share native/http-session.h; each must answer byte for byte like http.ts, and so
// must the io-uring model, whose completions hand the same bytes to the shared code in other slices.
const parity = ['native-epoll', 'native-threads', 'native-fork', 'native-io-uring', 'io-uring'];
for (const model of parity) describeNeeds(needs(model))(`${model} http`, () => {
  it('answers like the shared HTTP code: same statuses, headers in the same order, bodies, closes', async () => {
    server = await startServer(model, 'http');
    const port = server.port;
    const results = await Promise.all(
      HTTP_CASES.map(async (chunks) => {
        const session = new HttpSession();
        const want = Buffer.concat(chunks.map((c) => session.feed(Buffer.from(c, 'latin1')) ?? Buffer.alloc(0)));
        const { got, closed } = await exchange(port, chunks, want.length, session.closeAfterReply);
        return { chunks, want: withoutDate(want), got: withoutDate(got), wantClose: session.closeAfterReply, closed };
      }),
    );
    for (const r of results) {
      expect({ request: r.chunks, reply: r.got, closed: r.closed }).toEqual({ request: r.chunks, reply: r.want, closed: r.wantClose });
    }
  });
});
