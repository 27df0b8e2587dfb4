import { describe, expect, it } from 'vitest';
import { ResponseParser, type Expected } from '../../protocols/http-response.js';

const HELLO: Expected = { status: 200, body: Buffer.from('Hello, World!') };
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

interface Seen {
  results: { error: string | null; close: boolean }[];
  framing: string | null;
}

/** Feeds `bytes` in pieces of `step` bytes (0: all at once) and collects what the parser reported. */
function run(bytes: Buffer, step: number, expected: Expected | null = HELLO, eof = false): Seen {
  const results: Seen['results'] = [];
  const p = new ResponseParser(expected, (error, close) => results.push({ error, close }));
  let framing: string | null = null;
  const size = step === 0 ? bytes.length : step;
  for (let at = 0; at < bytes.length && framing === null; at += size) framing = p.feed(bytes.subarray(at, at + size));
  if (eof && framing === null) framing = p.eof();
  return { results, framing };
}

/** Same result whether fed whole, byte by byte, or split at every position into two reads. */
function everySplit(bytes: Buffer, expected: Expected | null = HELLO, eof = false): Seen {
  const whole = run(bytes, 0, expected, eof);
  expect(run(bytes, 1, expected, eof)).toEqual(whole);
  for (let cut = 1; cut < bytes.length; cut++) {
    const results: Seen['results'] = [];
    const p = new ResponseParser(expected, (error, close) => results.push({ error, close }));
    let framing = p.feed(bytes.subarray(0, cut));
    if (framing === null) framing = p.feed(bytes.subarray(cut));
    if (eof && framing === null) framing = p.eof();
    expect({ results, framing }).toEqual(whole);
  }
  return whole;
}

const okLength = 'HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 13\r\nDate: Mon, 23 Nov 2026 02:45:46 GMT\r\n\r\nHello, World!';

describe('ResponseParser', () => {
  it('frames Content-Length responses split at every byte, pipelined back to back', () => {
    const seen = everySplit(b(okLength + okLength + okLength));
    expect(seen).toEqual({ results: Array(3).fill({ error: null, close: false }), framing: null });
  });

  it('frames chunked bodies with extensions and trailers', () => {
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n5;ext=1\r\nHello\r\n8\r\n, World!\r\n0\r\nX-Trailer: y\r\n\r\n';
    const seen = everySplit(b(chunked + okLength));
    expect(seen.results).toEqual([{ error: null, close: false }, { error: null, close: false }]);
    expect(seen.framing).toBeNull();
  });

  it('reads a body without length until the connection closes', () => {
    const seen = everySplit(b('HTTP/1.0 200 OK\r\nServer: old\r\n\r\nHello, World!'), HELLO, true);
    expect(seen).toEqual({ results: [{ error: null, close: true }], framing: null });
  });

  it('reports the end of stream in the middle of a response as EOF', () => {
    expect(run(b(okLength.slice(0, -3)), 0, HELLO, true).framing).toBe('EOF');
    expect(run(b('HTTP/1.1 200 OK\r\nContent-Le'), 0, HELLO, true).framing).toBe('EOF');
  });

  it('counts another status and another body as errors by kind, and keeps framing', () => {
    const bad500 = 'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops!';
    const wrongBody = 'HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, Wörld!';
    const shortBody = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHello';
    const longBody = 'HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nHello, World!!';
    const seen = everySplit(b(bad500 + wrongBody + shortBody + longBody + okLength));
    expect(seen.results.map((r) => r.error)).toEqual(['HTTP_500', 'mismatch', 'mismatch', 'mismatch', null]);
  });

  it('notes Connection: close and HTTP/1.0 keep-alive', () => {
    const close = 'HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 13\r\n\r\nHello, World!';
    const keep10 = 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 13\r\n\r\nHello, World!';
    expect(run(b(close), 0).results).toEqual([{ error: null, close: true }]);
    expect(run(b(keep10), 0).results).toEqual([{ error: null, close: false }]);
  });

  it('skips interim 1xx responses and gives 204 no body', () => {
    const seen = everySplit(b('HTTP/1.1 100 Continue\r\n\r\n' + okLength + 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n'));
    expect(seen.results.map((r) => r.error)).toEqual([null, 'HTTP_204']);
  });

  it('rejects malformed framing', () => {
    for (const bad of [
      'HTTX/1.1 200 OK\r\n\r\n',
      'HTTP/1.1 2x0 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n',
      'HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHelloXX',
    ]) {
      expect(run(b(bad), 0).framing, bad).toBe('parse');
      expect(run(b(bad), 1).framing, bad).toBe('parse');
    }
  });

  it('reads only buf[0, end) of a reused read buffer, even when stale bytes after it would complete a head', () => {
    const results: Seen['results'] = [];
    const p = new ResponseParser(HELLO, (error, close) => results.push({ error, close }));
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r';
    const buf = Buffer.alloc(256);
    buf.write(head + '\n' + 'Hello, World!', 'latin1');
    expect(p.feed(buf, head.length)).toBeNull(); // the last \n of the head is stale here
    expect(results).toEqual([]);
    buf.write('\nHello, World!XXXXHTTP/1.1 500', 'latin1');
    expect(p.feed(buf, 14)).toBeNull();
    expect(results).toEqual([{ error: null, close: false }]);
  });

  it('parses a repeated head once and still sees every change in the next one', () => {
    const r500 = 'HTTP/1.1 500 OK\r\nContent-Length: 13\r\n\r\nHello, World!';
    const close = 'HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!';
    const seen = run(b(okLength + okLength + r500 + okLength + close + okLength), 0);
    expect(seen.results).toEqual([
      { error: null, close: false }, { error: null, close: false }, { error: 'HTTP_500', close: false },
      { error: null, close: false }, { error: null, close: true }, { error: null, close: false },
    ]);
  });

  it('learns the status and body of a probe response when it has no expectation', () => {
    const p = new ResponseParser(null, () => {});
    for (const byte of b('HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n')) {
      expect(p.feed(Buffer.of(byte))).toBeNull();
    }
    const got = p.learnedResponse();
    expect(got.status).toBe(201);
    expect(got.body.toString()).toBe('abcde');
  });
});
