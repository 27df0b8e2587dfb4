// HTTP/1.1 responses as a load generator sees them: framed by Content-Length, chunked encoding or
// the end of the stream, and each checked against the response the probe saw (status and body).
// Works on bytes as they arrive, split anywhere; the common case (a whole head in one read) costs
// one indexOf and a pass over the header lines, and the body is compared in place, never copied.

import { ChunkedDecoder, CHUNK_DONE, CHUNK_OK } from './chunked.js';

const CR = 0x0d, LF = 0x0a, COLON = 0x3a, SP = 0x20, HTAB = 0x09;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const HTTP_1 = Buffer.from('HTTP/1.', 'latin1');
/** A response head longer than this is a framing error: no server we drive sends one. */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

const lower = (s: string): Buffer => Buffer.from(s, 'latin1');
const CONTENT_LENGTH = lower('content-length');
const TRANSFER_ENCODING = lower('transfer-encoding');
const CONNECTION = lower('connection');
const CHUNKED = lower('chunked');
const CLOSE = lower('close');
const KEEP_ALIVE = lower('keep-alive');

/** What every response must be: the status and body of the probe response. */
export interface Expected {
  status: number;
  body: Buffer;
}

/**
 * Called once per complete final response. `error` is null for a response that matched, else its
 * kind: `HTTP_<status>` for another status, `mismatch` for other body bytes. `close` is true when
 * the server said it closes the connection after this response.
 */
export type OnResponse = (error: string | null, close: boolean) => void;

const enum S {
  Head,
  Length,
  UntilClose,
  Chunked,
}

/** Chunk sizes that add up past this are a framing error: no server we drive sends that much. */
const MAX_CHUNKED_BYTES = 2 ** 31;

export class ResponseParser {
  private state = S.Head;
  /** Bytes of a head split across reads; empty in the common case. */
  private pending: Buffer | null = null;
  private status = 0;
  private chunked: ChunkedDecoder | null = null;
  private close = false;
  private remaining = 0;
  private bodyAt = 0;
  private bodyBad = false;
  private lastHead: Buffer | null = null;
  private lastStatus = 0;
  private lastClose = false;
  private lastRemaining = 0;
  /** Filled only when learning (no expectation): the body bytes of the probe response. */
  private learned: Buffer[] | null;

  constructor(
    private readonly expected: Expected | null,
    private readonly onResponse: OnResponse,
  ) {
    this.learned = expected === null ? [] : null;
  }

  /** True between the first byte of a response and its last. */
  get midResponse(): boolean {
    return this.state !== S.Head || this.pending !== null;
  }

  /**
   * Consumes buf[0, end) (the whole buffer by default: a read buffer is passed with the count read,
   * saving a subarray per read); returns a framing error (`parse`) or null.
   */
  feed(buf: Buffer, end = buf.length): string | null {
    if (this.pending !== null) {
      const joined = Buffer.concat([this.pending, buf.subarray(0, end)]);
      this.pending = null;
      buf = joined;
      end = joined.length;
    }
    let at = 0;
    while (at < end) {
      if (this.state === S.Head) {
        // A match past `end` (stale bytes of a read buffer) means none inside it: indexOf finds the first.
        const headEnd = buf.indexOf(HEAD_END, at);
        if (headEnd < 0 || headEnd + 4 > end) {
          if (end - at > MAX_RESPONSE_HEAD_BYTES) return 'parse';
          this.pending = Buffer.from(buf.subarray(at, end));
          return null;
        }
        const err = this.head(buf, at, headEnd + 4);
        if (err !== null) return err;
        at = headEnd + 4;
        this.afterHead();
        continue;
      }
      at = this.body(buf, at, end);
      if (at < 0) return 'parse';
    }
    return null;
  }

  /** The stream ended: completes a body delimited by the close; returns `EOF` mid-response, else null. */
  eof(): string | null {
    if (this.state === S.UntilClose) {
      this.complete();
      return null;
    }
    return this.midResponse ? 'EOF' : null;
  }

  /** Learning: forget the body bytes seen so far, so the next response's are learned alone. */
  resetLearned(): void {
    if (this.learned !== null) this.learned = [];
  }

  /** The probe's status and body, once one response was parsed without an expectation. */
  learnedResponse(): Expected {
    return { status: this.status, body: Buffer.concat(this.learned ?? []) };
  }

  /**
   * A server repeats the same head, byte for byte, until its Date header changes (once a second):
   * one memcmp against the last head parsed stands in for parsing it again.
   */
  private head(buf: Buffer, from: number, to: number): string | null {
    const len = to - from;
    const last = this.lastHead;
    if (last !== null && last.length === len && buf.compare(last, 0, len, from, to) === 0) {
      this.status = this.lastStatus;
      this.close = this.lastClose;
      this.remaining = this.lastRemaining;
      return null;
    }
    const err = this.parseHead(buf, from, to - 2);
    if (err !== null) return err;
    this.lastHead = Buffer.from(buf.subarray(from, to));
    this.lastStatus = this.status;
    this.lastClose = this.close;
    this.lastRemaining = this.remaining;
    return null;
  }

  /** Parses the status line and header lines in buf[from, to) (to is just past the last header's CRLF). */
  private parseHead(buf: Buffer, from: number, to: number): string | null {
    // "HTTP/1.x SSS": the status line must start like this.
    if (to - from < 14 || buf.compare(HTTP_1, 0, 7, from, from + 7) !== 0 || buf[from + 8] !== SP) return 'parse';
    const minor = buf[from + 7]! - 0x30;
    const d0 = buf[from + 9]! - 0x30, d1 = buf[from + 10]! - 0x30, d2 = buf[from + 11]! - 0x30;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return 'parse';
    this.status = d0 * 100 + d1 * 10 + d2;
    this.close = minor === 0; // HTTP/1.0 closes unless it says keep-alive
    let length = -1;
    let chunked = false;
    let otherCoding = false;
    let line = buf.indexOf(CR, from);
    if (line < 0 || buf[line + 1] !== LF) return 'parse';
    line += 2;
    while (line < to) {
      const eol = buf.indexOf(CR, line);
      if (eol < 0 || eol >= to || buf[eol + 1] !== LF) return 'parse';
      const colon = buf.indexOf(COLON, line);
      if (colon < 0 || colon > eol || colon === line) return 'parse';
      let v = colon + 1;
      let ve = eol;
      while (v < ve && (buf[v] === SP || buf[v] === HTAB)) v++;
      while (ve > v && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
      const nameLen = colon - line;
      if (nameLen === 14 && sameFolded(buf, line, nameLen, CONTENT_LENGTH)) {
        const n = parseDecimal(buf, v, ve);
        if (n < 0 || (length >= 0 && n !== length)) return 'parse';
        length = n;
      } else if (nameLen === 17 && sameFolded(buf, line, nameLen, TRANSFER_ENCODING)) {
        // Only the last coding frames the body: "gzip, chunked" is chunked, "chunked, gzip" is not.
        const last = lastToken(buf, v, ve);
        chunked = last.len === 7 && sameFolded(buf, last.at, 7, CHUNKED);
        otherCoding = !chunked;
      } else if (nameLen === 10 && sameFolded(buf, line, nameLen, CONNECTION)) {
        if (hasToken(buf, v, ve, CLOSE)) this.close = true;
        else if (hasToken(buf, v, ve, KEEP_ALIVE)) this.close = false;
      }
      line = eol + 2;
    }
    const s = this.status;
    if (s < 200 || s === 204 || s === 304) this.remaining = 0;
    else if (chunked) this.remaining = -2;
    else if (otherCoding || length < 0) {
      this.remaining = -1;
      this.close = true; // only the close can end such a body
    }
    else this.remaining = length;
    return null;
  }

  private afterHead(): void {
    this.bodyAt = 0;
    this.bodyBad = this.expected !== null && this.status !== this.expected.status;
    if (this.status < 200) return; // 1xx: an interim response; the real one follows
    if (this.remaining === -2) {
      this.state = S.Chunked;
      this.chunked = new ChunkedDecoder(MAX_CHUNKED_BYTES);
    } else if (this.remaining === -1) this.state = S.UntilClose;
    else if (this.remaining === 0) this.complete();
    else this.state = S.Length;
  }

  /** Consumes body bytes from `at`; returns where it stopped, or -1 on a framing error. */
  private body(buf: Buffer, at: number, end: number): number {
    switch (this.state) {
      case S.Length: {
        const n = Math.min(this.remaining, end - at);
        this.bodyBytes(buf, at, n);
        this.remaining -= n;
        if (this.remaining === 0) this.complete();
        return at + n;
      }
      case S.UntilClose:
        this.bodyBytes(buf, at, end - at);
        return end;
      case S.Chunked: {
        const c = this.chunked!;
        if (c.inData) {
          const n = c.dataIn(end - at);
          this.bodyBytes(buf, at, n);
          c.consumed(n);
          return at + n;
        }
        const r = c.byte(buf[at]!);
        if (r === CHUNK_DONE) this.complete();
        return r >= CHUNK_OK ? at + 1 : -1;
      }
      default:
        return -1;
    }
  }

  private bodyBytes(buf: Buffer, at: number, n: number): void {
    if (n === 0) return;
    if (this.learned !== null) {
      this.learned.push(Buffer.from(buf.subarray(at, at + n)));
      return;
    }
    if (this.bodyBad) return;
    const want = this.expected!.body;
    const off = this.bodyAt;
    if (off + n > want.length || buf.compare(want, off, off + n, at, at + n) !== 0) this.bodyBad = true;
    this.bodyAt = off + n;
  }

  private complete(): void {
    this.state = S.Head;
    let error: string | null = null;
    if (this.expected !== null) {
      if (this.status !== this.expected.status) error = `HTTP_${this.status}`;
      else if (this.bodyBad || this.bodyAt !== this.expected.body.length) error = 'mismatch';
    }
    this.onResponse(error, this.close);
  }
}

/** ASCII case-insensitive comparison with a lower-case reference. */
function sameFolded(b: Buffer, at: number, len: number, ref: Buffer): boolean {
  for (let k = 0; k < len; k++) {
    const c = b[at + k]!;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== ref[k]) return false;
  }
  return true;
}

function parseDecimal(b: Buffer, from: number, to: number): number {
  if (from === to || to - from > 15) return -1;
  let n = 0;
  for (let k = from; k < to; k++) {
    const d = b[k]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function lastToken(b: Buffer, from: number, to: number): { at: number; len: number } {
  let end = to;
  while (end > from && (b[end - 1] === SP || b[end - 1] === HTAB)) end--;
  let start = end;
  while (start > from && b[start - 1] !== 0x2c && b[start - 1] !== SP && b[start - 1] !== HTAB) start--;
  return { at: start, len: end - start };
}

/** Whether the comma-separated list in b[from, to) holds `token` (case-insensitive). */
function hasToken(b: Buffer, from: number, to: number, token: Buffer): boolean {
  let k = from;
  while (k < to) {
    while (k < to && (b[k] === SP || b[k] === HTAB || b[k] === 0x2c)) k++;
    let e = k;
    while (e < to && b[e] !== 0x2c) e++;
    let te = e;
    while (te > k && (b[te - 1] === SP || b[te - 1] === HTAB)) te--;
    if (te - k === token.length && sameFolded(b, k, te - k, token)) return true;
    k = e + 1;
  }
  return false;
}
