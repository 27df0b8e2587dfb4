// Requests every HTTP server of ours must answer byte for byte like the shared code
// (protocols/http.ts): heads and bodies split across reads, pipelining, chunked bodies and
// every rule against request smuggling. The C servers are checked with them in selectors.test.ts,
// the Python examples in examples.test.ts.
import { HttpSession } from '../../protocols/http.js';
import { connect } from './server.js';

export const HTTP_CASES: string[][] = [
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

/** A reply with its Date header blanked: the only byte that may differ between two servers. */
export const withoutDate = (b: Buffer): string => b.toString('latin1').replace(/\r\nDate: [^\r]*/g, '\r\nDate: -');

/** What the connection got back, and whether the server closed it, once `expected` bytes arrived. */
export async function exchange(port: number, chunks: string[], expected: number, expectClose: boolean): Promise<{ got: Buffer; closed: boolean }> {
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

/** What the shared code answers to `chunks`, Date blanked, and whether it closes after. */
export function expectedReply(chunks: string[]): { want: string; close: boolean; bytes: number } {
  const session = new HttpSession();
  const want = Buffer.concat(chunks.map((c) => session.feed(Buffer.from(c, 'latin1')) ?? Buffer.alloc(0)));
  return { want: withoutDate(want), close: session.closeAfterReply, bytes: want.length };
}
