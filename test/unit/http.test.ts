import { describe, it, expect } from 'vitest';
import { HttpSession, HELLO_BODY, MAX_HEAD_BYTES, MAX_BODY_BYTES, httpDate } from '../../protocols/http.js';
import { createSession } from '../../protocols/session.js';

interface Response {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const FIXED_MS = Date.UTC(2026, 10, 23, 2, 45, 46, 123);
const fixedClock = (): number => FIXED_MS;

/**
 * Parses every response in `bytes`, framing bodies by Content-Length (none for HEAD replies, by
 * position in `headIndexes`), and fails unless the bytes end exactly after the last one.
 */
function parseResponses(bytes: Buffer, headIndexes: readonly number[] = []): Response[] {
  const out: Response[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', at, 'latin1');
    if (end < 0) throw new Error(`unterminated response head at ${at}`);
    const [statusLine, ...lines] = bytes.toString('latin1', at, end).split('\r\n');
    const match = /^HTTP\/1\.1 (\d{3}) [^\r\n]+$/.exec(statusLine!);
    if (!match) throw new Error(`bad status line: ${statusLine}`);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`bad header line: ${line}`);
      const name = line.slice(0, colon).toLowerCase();
      if (headers.has(name)) throw new Error(`repeated header: ${name}`);
      headers.set(name, line.slice(colon + 1).trim());
    }
    const length = Number(headers.get('content-length'));
    if (!Number.isInteger(length) || length < 0) throw new Error('missing or bad Content-Length');
    const bodyLength = headIndexes.includes(out.length) ? 0 : length;
    if (end + 4 + bodyLength > bytes.length) throw new Error('body shorter than Content-Length');
    out.push({ status: Number(match[1]), headers, body: bytes.subarray(end + 4, end + 4 + bodyLength) });
    at = end + 4 + bodyLength;
  }
  return out;
}

function parseOne(bytes: Buffer | null, headIndexes: readonly number[] = []): Response {
  expect(bytes).not.toBeNull();
  const all = parseResponses(bytes!, headIndexes);
  expect(all).toHaveLength(1);
  return all[0]!;
}

/** Feeds every chunk and returns everything the session answered, concatenated. */
function feedAll(session: HttpSession, chunks: readonly Buffer[]): Buffer {
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    const reply = session.feed(chunk);
    if (reply !== null) out.push(Buffer.from(reply)); // copy: a reply may be a view of the input
  }
  return Buffer.concat(out);
}

function splitEvery(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}

/** mulberry32: a seeded PRNG so random chunking is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const req = (s: string): Buffer => Buffer.from(s, 'latin1');
const GET_ROOT = 'GET / HTTP/1.1\r\nHost: localhost:3000\r\n\r\n';
const post = (body: Buffer | string, extra = ''): Buffer => {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([req(`POST /echo HTTP/1.1\r\nHost: x\r\n${extra}Content-Length: ${b.length}\r\n\r\n`), b]);
};

function expectClosedWith(status: number, request: Buffer | string): Response {
  const session = new HttpSession(fixedClock);
  const res = parseOne(session.feed(typeof request === 'string' ? req(request) : request));
  expect(res.status).toBe(status);
  expect(res.headers.get('connection')).toBe('close');
  expect(session.closeAfterReply).toBe(true);
  expect(session.feed(req(GET_ROOT))).toBeNull();
  return res;
}

describe('httpDate', () => {
  it('formats an IMF-fixdate', () => {
    expect(httpDate(FIXED_MS)).toBe('Mon, 23 Nov 2026 02:45:46 GMT');
    expect(httpDate(Date.UTC(2024, 1, 29, 0, 0, 5))).toBe('Thu, 29 Feb 2024 00:00:05 GMT');
  });
});

describe('HttpSession routes', () => {
  it('answers GET / with Hello, World! and every required header', () => {
    const session = new HttpSession();
    const res = parseOne(session.feed(req(GET_ROOT)));
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(HELLO_BODY);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.headers.get('content-length')).toBe('13');
    expect(res.headers.get('server')).toBe('concurrency-bench');
    expect(res.headers.get('date')).toMatch(IMF_FIXDATE);
    expect(res.headers.get('connection')).toBe('keep-alive');
    expect(session.closeAfterReply).toBe(false);
  });

  it('routes on the path without its query string', () => {
    expect(parseOne(new HttpSession().feed(req('GET /?a=1 HTTP/1.1\r\nHost: t\r\n\r\n'))).status).toBe(200);
    expect(parseOne(new HttpSession().feed(req('GET /echo?a=1 HTTP/1.1\r\nHost: t\r\n\r\n'))).status).toBe(405);
  });

  it('answers an unknown path with 404 and keeps the connection', () => {
    const session = new HttpSession();
    const res = parseOne(session.feed(req('GET /nope HTTP/1.1\r\nHost: t\r\n\r\n')));
    expect(res.status).toBe(404);
    expect(res.body.toString()).toBe('Not Found');
    expect(session.closeAfterReply).toBe(false);
    expect(parseOne(session.feed(req(GET_ROOT))).status).toBe(200);
  });

  it('answers 405 with the methods each path allows', () => {
    const onRoot = parseOne(new HttpSession().feed(req('POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi')));
    expect(onRoot.status).toBe(405);
    expect(onRoot.headers.get('allow')).toBe('GET, HEAD');
    const onEcho = parseOne(new HttpSession().feed(req('GET /echo HTTP/1.1\r\nHost: t\r\n\r\n')));
    expect(onEcho.status).toBe(405);
    expect(onEcho.headers.get('allow')).toBe('POST');
  });

  it('answers HEAD / with the GET headers and no body', () => {
    const session = new HttpSession();
    const bytes = session.feed(req(`HEAD / HTTP/1.1\r\nHost: t\r\n\r\n${GET_ROOT}`));
    const [head, get] = parseResponses(bytes!, [0]);
    expect(head!.status).toBe(200);
    expect(head!.headers.get('content-length')).toBe('13');
    expect(head!.body.length).toBe(0);
    expect(get!.body.toString()).toBe(HELLO_BODY);
  });

  it('echoes a POST /echo body as application/octet-stream, and an empty one', () => {
    const res = parseOne(new HttpSession().feed(post('ping')));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.body.toString()).toBe('ping');
    const empty = parseOne(new HttpSession().feed(req('POST /echo HTTP/1.1\r\nHost: t\r\n\r\n')));
    expect(empty.status).toBe(200);
    expect(empty.body.length).toBe(0);
  });

  it('echoes every byte value exactly', () => {
    const body = Buffer.alloc(512);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const res = parseOne(new HttpSession().feed(post(body)));
    expect(res.body.equals(body)).toBe(true);
  });

  it('skips the body of a request it does not echo', () => {
    const session = new HttpSession();
    const out = session.feed(req(`GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nGET /nope\r\n${GET_ROOT}`));
    expect(parseResponses(out!).map((r) => r.status)).toEqual([200, 200]);
  });
});

describe('HttpSession framing', () => {
  const mixed = Buffer.concat([req(GET_ROOT), post('first body'), req('GET /missing HTTP/1.1\r\nHost: t\r\n\r\n'),
    post(Buffer.from([0, 13, 10, 13, 10, 255])), req(GET_ROOT)]);

  it('answers pipelined requests in order in one buffer', () => {
    const out = new HttpSession().feed(Buffer.concat([req(GET_ROOT), post('abc'), req(GET_ROOT)]));
    const all = parseResponses(out!);
    expect(all.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(all.map((r) => r.body.toString())).toEqual([HELLO_BODY, 'abc', HELLO_BODY]);
  });

  it('gives the same bytes fed one byte at a time as fed whole', () => {
    const whole = feedAll(new HttpSession(fixedClock), [mixed]);
    const bytewise = feedAll(new HttpSession(fixedClock), splitEvery(mixed, 1));
    expect(parseResponses(whole).map((r) => r.status)).toEqual([200, 200, 404, 200, 200]);
    expect(bytewise.equals(whole)).toBe(true);
  });

  it('gives the same bytes for a split at every position', () => {
    const whole = feedAll(new HttpSession(fixedClock), [mixed]);
    for (let cut = 1; cut < mixed.length; cut++) {
      const split = feedAll(new HttpSession(fixedClock), [mixed.subarray(0, cut), mixed.subarray(cut)]);
      expect(split.equals(whole), `cut at ${cut}`).toBe(true);
    }
  });

  it('waits for the rest of a request split inside the blank line and inside the body', () => {
    const bytes = post('hello body');
    const blank = bytes.indexOf('\r\n\r\n');
    const session = new HttpSession();
    expect(session.feed(bytes.subarray(0, blank + 2))).toBeNull();
    expect(session.feed(bytes.subarray(blank + 2, blank + 7))).toBeNull(); // "\r\nhel"
    expect(parseOne(session.feed(bytes.subarray(blank + 7))).body.toString()).toBe('hello body');
  });

  it('echoes a 100 KiB body fed in random-sized chunks', () => {
    const random = prng(42);
    const body = Buffer.alloc(100 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = Math.floor(random() * 256);
    const bytes = Buffer.concat([post(body), req(GET_ROOT)]);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      const size = 1 + Math.floor(random() * 3000);
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    const all = parseResponses(feedAll(new HttpSession(), chunks));
    expect(all).toHaveLength(2);
    expect(all[0]!.body.equals(body)).toBe(true);
    expect(all[1]!.body.toString()).toBe(HELLO_BODY);
  });
});

describe('HttpSession keep-alive', () => {
  it('closes after a Connection: close request and ignores what follows', () => {
    const session = new HttpSession();
    const out = session.feed(req(`GET / HTTP/1.1\r\nHost: t\r\nCONNECTION: Close\r\n\r\n${GET_ROOT}`));
    const res = parseOne(out);
    expect(res.headers.get('connection')).toBe('close');
    expect(session.closeAfterReply).toBe(true);
    expect(session.feed(req(GET_ROOT))).toBeNull();
  });

  it('finds close in a Connection list', () => {
    const session = new HttpSession();
    parseOne(session.feed(req('GET / HTTP/1.1\r\nHost: t\r\nConnection: keep-alive , close\r\n\r\n')));
    expect(session.closeAfterReply).toBe(true);
  });

  it('closes an HTTP/1.0 request unless it asks for keep-alive', () => {
    const plain = new HttpSession();
    expect(parseOne(plain.feed(req('GET / HTTP/1.0\r\n\r\n'))).headers.get('connection')).toBe('close');
    expect(plain.closeAfterReply).toBe(true);
    const kept = new HttpSession();
    const res = parseOne(kept.feed(req('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')));
    expect(res.headers.get('connection')).toBe('keep-alive');
    expect(kept.closeAfterReply).toBe(false);
  });
});

describe('HttpSession rejects', () => {
  it.each([
    ['a bad request line', 'GARBAGE\r\n\r\n'],
    ['a missing version', 'GET /\r\n\r\n'],
    ['an empty version', 'GET / \r\n\r\n'],
    ['a lower-case version', 'GET / http/1.1\r\n\r\n'],
    ['no Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n'],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['Transfer-Encoding with Content-Length', 'POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
    ['Transfer-Encoding in HTTP/1.0', 'POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a chunk size that is not hex', 'POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['chunk data not followed by CRLF', 'POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX'],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost localhost\r\n\r\n'],
    ['whitespace before a colon', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n'],
    ['an obs-fold line', 'GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n  continued\r\n\r\n'],
    ['bare LF line ends', 'GET / HTTP/1.1\nHost: x\n\n'],
    ['a bare LF after a header', 'GET / HTTP/1.1\r\nHost: x\n\r\n'],
    ['a bare CR', 'GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n'],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nHost: x\0\r\n\r\n'],
    ['a non-numeric Content-Length', 'POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n'],
    ['a negative Content-Length', 'POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n'],
    ['an empty Content-Length', 'POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n\r\n'],
    ['a Content-Length list', 'POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\nx'],
    ['conflicting Content-Lengths', 'POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy'],
  ])('answers 400 and closes for %s', (_name, request) => {
    expect(expectClosedWith(400, request).body.toString()).toBe('Bad Request');
  });

  it('accepts repeated identical Content-Lengths', () => {
    const res = parseOne(new HttpSession().feed(req('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok')));
    expect(res.body.toString()).toBe('ok');
  });

  it('answers 505 for another major version', () => {
    expectClosedWith(505, 'GET / HTTP/2.0\r\n\r\n');
  });

  it('decodes a chunked body, with extensions and trailers, split at every byte', () => {
    const request = 'POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n' + GET_ROOT;
    const whole = new HttpSession(fixedClock).feed(req(request));
    const all = parseResponses(whole!);
    expect(all.map((r) => [r.status, r.body.toString()])).toEqual([[200, 'hello world'], [200, HELLO_BODY]]);
    const session = new HttpSession(fixedClock);
    const pieces = [...req(request)].map((byte) => session.feed(Buffer.of(byte))).filter((x): x is Buffer => x !== null);
    expect(Buffer.concat(pieces).equals(whole!)).toBe(true);
  });

  it('answers 501 for a coding other than chunked, and 413 for a chunked body past the cap', () => {
    expectClosedWith(501, 'POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n');
    expectClosedWith(413, `POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${(MAX_BODY_BYTES + 1).toString(16)}\r\n`);
  });

  it('skips empty lines before a request line', () => {
    expect(parseOne(new HttpSession(fixedClock).feed(req(`\r\n\r\n${GET_ROOT}`))).status).toBe(200);
    const session = new HttpSession(fixedClock);
    expect(session.feed(req('\r'))).toBeNull();
    expect(parseOne(session.feed(req(`\n${GET_ROOT}`))).status).toBe(200);
  });

  it('accepts HTTP/1.0 without Host', () => {
    expect(parseOne(new HttpSession(fixedClock).feed(req('GET / HTTP/1.0\r\n\r\n'))).status).toBe(200);
  });

  it('grows an echo body buffer as its bytes arrive instead of reserving the declared length', () => {
    const session = new HttpSession(fixedClock);
    expect(session.feed(req(`POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${MAX_BODY_BYTES}\r\n\r\nab`))).toBeNull();
    const held = (session as unknown as { body: Buffer | null }).body;
    expect(held!.length).toBeLessThanOrEqual(64 * 1024);
  });

  it('answers 413 for a body over the cap', () => {
    expectClosedWith(413, `POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n`);
    expectClosedWith(413, 'POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n');
  });

  const headOf = (size: number): string => {
    const fixed = 'GET / HTTP/1.1\r\nHost: t\r\nX-Pad: \r\n\r\n'.length;
    return `GET / HTTP/1.1\r\nHost: t\r\nX-Pad: ${'a'.repeat(size - fixed)}\r\n\r\n`;
  };

  it('accepts a head of exactly the limit', () => {
    expect(headOf(MAX_HEAD_BYTES)).toHaveLength(MAX_HEAD_BYTES);
    const out = feedAll(new HttpSession(), splitEvery(req(headOf(MAX_HEAD_BYTES)), 1000));
    expect(parseOne(out).status).toBe(200);
  });

  it('answers 431 for a head one byte over the limit, whole or in pieces', () => {
    expectClosedWith(431, headOf(MAX_HEAD_BYTES + 1));
    const session = new HttpSession();
    const unterminated = req(`GET / HTTP/1.1\r\nHost: t\r\nX-Pad: ${'a'.repeat(MAX_HEAD_BYTES)}`);
    const out = feedAll(session, splitEvery(unterminated, 100));
    expect(parseOne(out).status).toBe(431);
    expect(session.closeAfterReply).toBe(true);
  });
});

describe('HttpSession Date header', () => {
  it('is an IMF-fixdate from the clock, refreshed only when the second changes', () => {
    let now = FIXED_MS;
    const session = new HttpSession(() => now);
    const date = (): string | undefined => parseOne(session.feed(req(GET_ROOT))).headers.get('date');
    expect(date()).toBe('Mon, 23 Nov 2026 02:45:46 GMT');
    now += 800; // still 02:45:46.923
    expect(date()).toBe('Mon, 23 Nov 2026 02:45:46 GMT');
    now += 100;
    expect(date()).toBe('Mon, 23 Nov 2026 02:45:47 GMT');
  });
});

describe('createSession', () => {
  it('makes an HTTP session for the http protocol', () => {
    const session = createSession('http');
    expect(session).toBeInstanceOf(HttpSession);
    expect(parseOne(session.feed(req(GET_ROOT))).status).toBe(200);
  });
});

describe('GET /bytes/N (the payload scenario)', () => {
  const feed = (req: string): Buffer => new HttpSession(fixedClock).feed(Buffer.from(req, 'latin1')) ?? Buffer.alloc(0);

  it('answers N bytes of a..z, HEAD without them, and keeps the connection', () => {
    const [get, head] = parseResponses(feed('GET /bytes/30 HTTP/1.1\r\nHost: t\r\n\r\nHEAD /bytes/30 HTTP/1.1\r\nHost: t\r\n\r\n'), [1]);
    expect(get!.status).toBe(200);
    expect(get!.body.toString()).toBe('abcdefghijklmnopqrstuvwxyzabcd');
    expect(get!.headers.get('content-type')).toBe('application/octet-stream');
    expect(get!.headers.get('connection')).toBe('keep-alive');
    expect(head!.headers.get('content-length')).toBe('30');
    expect(head!.body.length).toBe(0);
  });

  it('one path per N: 404 above 1 MiB, with a leading zero or a non-digit; 405 for POST', () => {
    expect(parseResponses(feed('GET /bytes/1048576 HTTP/1.1\r\nHost: t\r\n\r\n'))[0]!.body.length).toBe(1 << 20);
    for (const path of ['/bytes/1048577', '/bytes/01', '/bytes/1x', '/bytes/', '/bytes/12345678']) {
      expect(parseResponses(feed(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`))[0]!.status, path).toBe(404);
    }
    const post = parseResponses(feed('POST /bytes/5 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n'))[0]!;
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
