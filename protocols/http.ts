// HTTP/1.1 server side of one connection: parses requests as bytes arrive and answers them from
// precomputed responses. Every model calls feed() for every chunk, so it works on bytes, never on
// strings or regexes, and allocates only for echoed bodies, batches of pipelined replies and a head
// split across reads.
//
// Policies (strict where leniency would cost speed or invite request smuggling):
// - Lines end with CRLF. A bare LF or bare CR anywhere in the head is rejected with 400, as are
//   obs-fold continuation lines and whitespace between a header name and its colon (RFC 9112 §2.2, §5).
// - Transfer-Encoding: chunked (as the last coding, the only one we apply) frames the body as
//   HTTP/1.1 requires; any other coding is 501, then close. Transfer-Encoding together with
//   Content-Length, or in HTTP/1.0, is 400, then close (the request-smuggling guard, RFC 9112 §6.1).
// - Content-Length must be digits only (no lists); a repeated header is accepted only if every value
//   is the same. Anything else is 400, then close; over MAX_BODY_BYTES is 413, then close, and so is
//   a chunked body that grows past it.
// - HTTP/1.1 requires exactly one Host header: none, or two, is 400 (RFC 9112 §3.2).
// - Empty lines before a request line are skipped (RFC 9112 §2.2).
// - A body is kept only for /echo, in a buffer that grows as its bytes arrive: a declared length
//   reserves nothing.
// - A head is judged only on bytes already seen, left to right, so feeding a request byte by byte
//   gives exactly the same replies as feeding it whole.
import type { Session } from './types.js';
import { ChunkedDecoder, CHUNK_DONE, CHUNK_OK, CHUNK_TOO_LARGE } from './chunked.js';

export const HELLO_BODY = 'Hello, World!';
const SERVER_NAME = 'concurrency-bench';
/** Largest request head accepted (request line, headers and the blank line), bytes; more → 431. */
export const MAX_HEAD_BYTES = 8192;
/** Largest request body accepted, bytes; more → 413. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Largest body GET /bytes/N answers (the payload scenario's sizes); above it, 404. */
export const MAX_BYTES_ROUTE = 1 << 20;

/** The body of GET /bytes/N: N bytes of a fixed pattern, the same from every model (and the C servers). */
export function bytesBody(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = 0x61 + (i % 26); // a..z repeated
  return b;
}

/** RFC 7231 IMF-fixdate of an epoch time in ms, e.g. `Mon, 23 Nov 2026 02:45:46 GMT`. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

const HTAB = 0x09, LF = 0x0a, CR = 0x0d, SP = 0x20, COMMA = 0x2c, COLON = 0x3a, QUERY = 0x3f, DEL = 0x7f;
const INCOMPLETE = 0;

// Reply kinds; parse errors are returned as a negative kind.
const HELLO = 0, NOT_FOUND = 1, ROOT_405 = 2, ECHO_405 = 3, BAD_REQUEST = 4, TOO_LARGE = 5;
const HEAD_TOO_LARGE = 6, NOT_IMPLEMENTED = 7, BAD_VERSION = 8;
const ECHO = 100; // built per request, from echoHeads
const BYTES = 101; // GET /bytes/N, built once per N and second

/** Status line, body and extra header lines of each canned reply, indexed by kind. */
const CANNED: readonly (readonly [status: string, body: string, extra: string])[] = [
  ['200 OK', HELLO_BODY, ''],
  ['404 Not Found', 'Not Found', ''],
  ['405 Method Not Allowed', 'Method Not Allowed', 'Allow: GET, HEAD\r\n'],
  ['405 Method Not Allowed', 'Method Not Allowed', 'Allow: POST\r\n'],
  ['400 Bad Request', 'Bad Request', ''],
  ['413 Content Too Large', 'Content Too Large', ''],
  ['431 Request Header Fields Too Large', 'Request Header Fields Too Large', ''],
  ['501 Not Implemented', 'Not Implemented', ''],
  ['505 HTTP Version Not Supported', 'HTTP Version Not Supported', ''],
];

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const GET = bytes('GET'), HEAD = bytes('HEAD'), POST = bytes('POST');
const ROOT_PATH = bytes('/'), ECHO_PATH = bytes('/echo'), BYTES_PREFIX = bytes('/bytes/');
const CONTENT_LENGTH = bytes('content-length'), CONNECTION = bytes('connection');
const TRANSFER_ENCODING = bytes('transfer-encoding'), CLOSE = bytes('close'), KEEP_ALIVE = bytes('keep-alive');
const HOST = bytes('host'), CHUNKED = bytes('chunked');
/** A body buffer starts at this size (or the declared length, if smaller) and doubles as bytes arrive. */
const BODY_START_BYTES = 16 * 1024;

const VERSION_PATTERN = bytes('HTTP/#.#\r\n'); // '#' stands for a digit
const HASH = 0x23;

/** 1 for the bytes allowed in a token (method, header name), RFC 9110 §5.6.2. */
const TCHAR = new Uint8Array(256);
for (const c of bytes("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")) TCHAR[c] = 1;
/** 1 for the bytes allowed in a header value: not controls (bare LF, NUL, ...) except HTAB, not DEL. */
const FIELD_BYTE = new Uint8Array(256).fill(1, SP).fill(0, DEL, DEL + 1);
FIELD_BYTE[HTAB] = 1;

// Replies embed the Date, so they are rebuilt when the second changes, never per request, and
// shared by every session in the thread (a returned Buffer is never written to afterwards).
let cachedSecond = NaN;
let replies: Buffer[] = [];
let echoHeads: Buffer[] = [];
/** GET /bytes/N replies of this second, by N, as [keep-alive, close, keep-alive HEAD, close HEAD]. */
let bytesReplies = new Map<number, Buffer[]>();
let cachedDate = '';

function replyIndex(kind: number, close: boolean, omitBody: boolean): number {
  return kind * 4 + (close ? 2 : 0) + (omitBody ? 1 : 0);
}

function headLines(status: string, date: string, type: string, extra: string, close: boolean): string {
  return `HTTP/1.1 ${status}\r\nServer: ${SERVER_NAME}\r\nDate: ${date}\r\nContent-Type: ${type}\r\n` +
    `${extra}Connection: ${close ? 'close' : 'keep-alive'}\r\nContent-Length: `;
}

function refreshReplies(nowMs: number): void {
  const second = Math.floor(nowMs / 1000);
  if (second === cachedSecond) return;
  const date = httpDate(second * 1000);
  const next: Buffer[] = [];
  for (let kind = 0; kind < CANNED.length; kind++) {
    const [status, body, extra] = CANNED[kind]!;
    for (const close of [false, true]) {
      const head = `${headLines(status, date, 'text/plain', extra, close)}${body.length}\r\n\r\n`;
      next[replyIndex(kind, close, false)] = bytes(head + body);
      next[replyIndex(kind, close, true)] = bytes(head);
    }
  }
  const type = 'application/octet-stream';
  echoHeads = [bytes(headLines('200 OK', date, type, '', false)), bytes(headLines('200 OK', date, type, '', true))];
  replies = next;
  bytesReplies = new Map();
  cachedDate = date;
  cachedSecond = second;
}

function bytesReply(n: number, close: boolean, omitBody: boolean): Buffer {
  let set = bytesReplies.get(n);
  if (set === undefined) {
    const body = bytesBody(n);
    set = [false, true].flatMap((c) => {
      const head = bytes(`${headLines('200 OK', cachedDate, 'application/octet-stream', '', c)}${n}\r\n\r\n`);
      return [Buffer.concat([head, body]), head];
    });
    bytesReplies.set(n, set);
  }
  return set[(close ? 2 : 0) + (omitBody ? 1 : 0)]!;
}

function echoReply(body: Buffer | null, close: boolean): Buffer {
  const head = echoHeads[close ? 1 : 0]!;
  const length = body === null ? 0 : body.length;
  const digits = String(length);
  const out = Buffer.allocUnsafe(head.length + digits.length + 4 + length);
  head.copy(out, 0);
  let at = head.length + out.write(digits, head.length, 'latin1');
  out[at++] = CR; out[at++] = LF; out[at++] = CR; out[at++] = LF;
  if (body !== null) body.copy(out, at);
  return out;
}

/** Compares b[at, at + len) with ref; with fold 0x20 ASCII case-insensitively against a lower-case
 * ref (`| 0x20` lowers letters; the only other byte it maps onto a ref byte, CR, never gets here). */
function same(b: Buffer, at: number, len: number, ref: Buffer, fold = 0): boolean {
  if (len !== ref.length) return false;
  for (let k = 0; k < len; k++) if ((b[at + k]! | fold) !== ref[k]) return false;
  return true;
}

/** N of the last GET /bytes/N routed (feed() is never re-entered, so one variable serves every session). */
let routedBytes = 0;

function route(b: Buffer, method: number, methodLen: number, path: number, pathLen: number): number {
  const getOrHead = (): boolean => same(b, method, methodLen, GET) || same(b, method, methodLen, HEAD);
  if (same(b, path, pathLen, ROOT_PATH)) return getOrHead() ? HELLO : ROOT_405;
  if (same(b, path, pathLen, ECHO_PATH)) return same(b, method, methodLen, POST) ? ECHO : ECHO_405;
  const digits = pathLen - BYTES_PREFIX.length;
  if (digits >= 1 && digits <= 7 && same(b, path, BYTES_PREFIX.length, BYTES_PREFIX)) {
    let n = 0;
    for (let i = path + BYTES_PREFIX.length; i < path + pathLen; i++) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) return NOT_FOUND;
      n = n * 10 + d;
    }
    if (n > MAX_BYTES_ROUTE || (digits > 1 && b[path + BYTES_PREFIX.length] === 0x30)) return NOT_FOUND; // no leading zeros: one path per N
    routedBytes = n;
    return getOrHead() ? BYTES : ROOT_405;
  }
  return NOT_FOUND;
}

const isSpace = (c: number | undefined): boolean => c === SP || c === HTAB;

// Replies waiting to be returned by the current feed(). feed() is never re-entered, so one array
// serves every session in the thread.
const parts: Buffer[] = [];

export class HttpSession implements Session {
  private closing = false;
  private head: Buffer | null = null; // a head split across reads, allocated on first need
  private headLen = 0;
  private bodyLeft = 0;
  private body: Buffer | null = null; // an echo body arriving over several reads
  private bodyAt = 0;
  private keepBody = false;
  /** The framing of a chunked body being read; null outside one. */
  private chunked: ChunkedDecoder | null = null;
  // What the request being parsed asked for.
  private kind = HELLO;
  private bytesN = 0;
  private omitBody = false;
  private http10 = false;
  private contentLength = -1;
  private transferEncoding = false;
  private teChunked = false;
  private hosts = 0;
  private connClose = false;
  private connKeepAlive = false;
  private keepAlive = true;
  private readonly now: () => number;

  /** @param now clock in epoch ms for the Date header; tests pass a fixed one. */
  constructor(now: () => number = Date.now) { this.now = now; }

  get closeAfterReply(): boolean { return this.closing; }

  feed(data: Buffer): Buffer | null {
    if (this.closing || data.length === 0) return null;
    refreshReplies(this.now());
    let at = 0;
    if (this.chunked !== null) at = this.takeChunked(data, 0);
    else if (this.bodyLeft > 0) at = this.takeBody(data, 0);
    else if (this.headLen > 0) at = this.resumeHead(data);
    while (!this.closing && at < data.length) at = this.parseAt(data, at);
    if (parts.length <= 1) return parts.pop() ?? null;
    const out = Buffer.concat(parts);
    parts.length = 0;
    return out;
  }

  /** Parses a request starting at data[at]; returns where the next one starts. */
  private parseAt(data: Buffer, at: number): number {
    const r = this.parseHead(data, at, Math.min(data.length, at + MAX_HEAD_BYTES));
    if (r > 0) return this.startRequest(data, at + r);
    if (r < 0) return this.fail(-r, data);
    if (data.length - at >= MAX_HEAD_BYTES) return this.fail(HEAD_TOO_LARGE, data);
    this.head ??= Buffer.allocUnsafe(MAX_HEAD_BYTES);
    this.headLen = data.copy(this.head, 0, at);
    return data.length;
  }

  /** Appends to a head kept from earlier reads and parses it again from its start. */
  private resumeHead(data: Buffer): number {
    const head = this.head!;
    const before = this.headLen;
    this.headLen += data.copy(head, before, 0, Math.min(data.length, MAX_HEAD_BYTES - before));
    const r = this.parseHead(head, 0, this.headLen);
    if (r > 0) {
      this.headLen = 0;
      return this.startRequest(data, r - before); // r > before: the old bytes alone were incomplete
    }
    if (r < 0) return this.fail(-r, data);
    return this.headLen === MAX_HEAD_BYTES ? this.fail(HEAD_TOO_LARGE, data) : data.length;
  }

  private startRequest(data: Buffer, at: number): number {
    if (this.transferEncoding) {
      if (this.contentLength >= 0 || this.http10) return this.fail(BAD_REQUEST, data);
      if (!this.teChunked) return this.fail(NOT_IMPLEMENTED, data);
    }
    const length = this.contentLength < 0 ? 0 : this.contentLength;
    if (length > MAX_BODY_BYTES) return this.fail(TOO_LARGE, data);
    this.keepAlive = !this.connClose && (!this.http10 || this.connKeepAlive);
    this.keepBody = this.kind === ECHO;
    this.body = null;
    this.bodyAt = 0;
    if (this.transferEncoding) {
      this.chunked = new ChunkedDecoder(MAX_BODY_BYTES);
      return this.takeChunked(data, at);
    }
    if (this.keepBody && length > 0 && data.length - at >= length) {
      this.reply(data.subarray(at, at + length)); // the whole body is here: no copy
      return at + length;
    }
    this.bodyLeft = length;
    return this.takeBody(data, at);
  }

  /** Keeps data[at, at + n) of an echo body, growing its buffer as bytes arrive. */
  private keep(data: Buffer, at: number, n: number, atLeast: number): void {
    if (!this.keepBody || n === 0) return;
    const need = this.bodyAt + n;
    if (this.body === null || this.body.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, Math.min(atLeast, Math.max(BODY_START_BYTES, 2 * (this.body?.length ?? 0)))));
      if (this.body !== null) this.body.copy(grown, 0, 0, this.bodyAt);
      this.body = grown;
    }
    this.bodyAt += data.copy(this.body, this.bodyAt, at, at + n);
  }

  /** Consumes Content-Length body bytes (kept only for echo) and replies once the body is complete. */
  private takeBody(data: Buffer, at: number): number {
    const n = Math.min(this.bodyLeft, data.length - at);
    this.keep(data, at, n, this.bodyAt + this.bodyLeft);
    this.bodyLeft -= n;
    if (this.bodyLeft === 0) this.replyBody();
    return at + n;
  }

  private replyBody(): void {
    const body = this.body === null ? null : this.body.subarray(0, this.bodyAt);
    this.body = null;
    this.reply(body);
  }

  /** Consumes a chunked body: sizes and trailers byte by byte, chunk data in bulk. */
  private takeChunked(data: Buffer, at: number): number {
    const c = this.chunked!;
    while (at < data.length) {
      if (c.inData) {
        const n = c.dataIn(data.length - at);
        this.keep(data, at, n, MAX_BODY_BYTES);
        c.consumed(n);
        at += n;
        continue;
      }
      const r = c.byte(data[at++]!);
      if (r === CHUNK_DONE) {
        this.chunked = null;
        this.replyBody();
        return at;
      }
      if (r !== CHUNK_OK) return this.fail(r === CHUNK_TOO_LARGE ? TOO_LARGE : BAD_REQUEST, data);
    }
    return at;
  }

  private reply(echoBody: Buffer | null): void {
    const close = !this.keepAlive;
    const kind = this.kind;
    parts.push(kind === ECHO ? echoReply(echoBody, close) : kind === BYTES ? bytesReply(this.bytesN, close, this.omitBody) : replies[replyIndex(kind, close, this.omitBody)]!);
    if (close) this.closing = true;
  }

  private fail(kind: number, data: Buffer): number {
    parts.push(replies[replyIndex(kind, true, false)]!);
    this.closing = true;
    return data.length;
  }

  /** Head length in bytes when complete, INCOMPLETE, or a negative reply kind when rejected. */
  private parseHead(b: Buffer, start: number, end: number): number {
    this.contentLength = -1;
    this.transferEncoding = this.teChunked = this.connClose = this.connKeepAlive = false;
    this.hosts = 0;
    let line = start;
    while (line + 1 < end && b[line] === CR && b[line + 1] === LF) line += 2; // empty lines before a request
    if (line < end && b[line] === CR && line + 1 >= end) return INCOMPLETE;
    let i = this.parseRequestLine(b, line, end);
    while (i > 0) {
      if (i >= end) return INCOMPLETE;
      if (b[i] === CR) {
        if (i + 1 >= end) return INCOMPLETE;
        if (b[i + 1] !== LF) return -BAD_REQUEST;
        // HTTP/1.1 needs exactly one Host; HTTP/1.0 may have none, never two.
        if (this.hosts > 1 || (this.hosts === 0 && !this.http10)) return -BAD_REQUEST;
        return i + 2 - start;
      }
      i = this.parseHeaderLine(b, i, end);
    }
    return i;
  }

  /** Returns where the header lines start, INCOMPLETE, or a negative reply kind. */
  private parseRequestLine(b: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end && TCHAR[b[i]!] === 1) i++;
    if (i === end) return INCOMPLETE;
    if (i === start || b[i] !== SP) return -BAD_REQUEST;
    const methodLen = i - start;
    const target = ++i;
    let pathEnd = -1;
    for (; i < end && b[i]! > SP && b[i] !== DEL; i++) if (b[i] === QUERY && pathEnd < 0) pathEnd = i;
    if (i === end) return INCOMPLETE;
    if (i === target || b[i] !== SP) return -BAD_REQUEST;
    const version = i + 1;
    for (let k = 0; k < VERSION_PATTERN.length; k++) {
      if (version + k >= end) return INCOMPLETE;
      const c = b[version + k]!, want = VERSION_PATTERN[k];
      if (want === HASH ? c < 0x30 || c > 0x39 : c !== want) return -BAD_REQUEST;
    }
    if (b[version + 5] !== 0x31) return -BAD_VERSION; // a 1.x server answers any 1.y (RFC 9110 §2.5)
    this.http10 = b[version + 7] === 0x30;
    this.omitBody = same(b, start, methodLen, HEAD);
    this.kind = route(b, start, methodLen, target, (pathEnd < 0 ? i : pathEnd) - target);
    if (this.kind === BYTES) this.bytesN = routedBytes;
    return version + VERSION_PATTERN.length;
  }

  /** Returns where the next line starts, INCOMPLETE, or a negative reply kind. */
  private parseHeaderLine(b: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end && TCHAR[b[i]!] === 1) i++;
    if (i === end) return INCOMPLETE;
    // Also rejects obs-fold (a line starting with whitespace) and a bare LF ending the previous line.
    if (i === start || b[i] !== COLON) return -BAD_REQUEST;
    const nameLen = i - start;
    i++;
    while (i < end && isSpace(b[i])) i++;
    const valueStart = i;
    for (; i < end && b[i] !== CR; i++) if (FIELD_BYTE[b[i]!] === 0) return -BAD_REQUEST;
    if (i + 1 >= end) return INCOMPLETE;
    if (b[i + 1] !== LF) return -BAD_REQUEST;
    let valueEnd = i;
    while (valueEnd > valueStart && isSpace(b[valueEnd - 1])) valueEnd--;
    return this.applyHeader(b, start, nameLen, valueStart, valueEnd) ? i + 2 : -BAD_REQUEST;
  }

  /** Records the headers that change framing or keep-alive; false when a value is invalid. */
  private applyHeader(b: Buffer, name: number, nameLen: number, from: number, to: number): boolean {
    if (nameLen === 14 && same(b, name, nameLen, CONTENT_LENGTH, 0x20)) return this.readContentLength(b, from, to);
    if (nameLen === 10 && same(b, name, nameLen, CONNECTION, 0x20)) this.readConnection(b, from, to);
    else if (nameLen === 4 && same(b, name, nameLen, HOST, 0x20)) this.hosts++;
    else if (nameLen === 17 && same(b, name, nameLen, TRANSFER_ENCODING, 0x20)) {
      // Only the last coding frames the body: "gzip, chunked" is chunked (and 501 for the gzip we
      // would have to undo), "chunked" alone is what we decode. A second header joins the list.
      let s = to;
      while (s > from && b[s - 1] !== COMMA) s--;
      while (s < to && isSpace(b[s])) s++;
      const only = !this.transferEncoding && s === from;
      this.teChunked = only && same(b, s, to - s, CHUNKED, 0x20);
      this.transferEncoding = true;
    }
    return true;
  }

  private readContentLength(b: Buffer, from: number, to: number): boolean {
    if (from === to) return false;
    let n = 0;
    for (let i = from; i < to; i++) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) return false;
      if (n <= MAX_BODY_BYTES) n = n * 10 + d; // past the cap only "too large" matters: stop growing
    }
    if (this.contentLength >= 0 && this.contentLength !== n) return false;
    this.contentLength = n;
    return true;
  }

  /** Finds the `close` and `keep-alive` options in a comma-separated Connection value. */
  private readConnection(b: Buffer, from: number, to: number): void {
    for (let i = from; i < to; ) {
      let s = i, e = i;
      while (e < to && b[e] !== COMMA) e++;
      i = e + 1;
      while (s < e && isSpace(b[s])) s++;
      while (e > s && isSpace(b[e - 1])) e--;
      if (same(b, s, e - s, CLOSE, 0x20)) this.connClose = true;
      else if (same(b, s, e - s, KEEP_ALIVE, 0x20)) this.connKeepAlive = true;
    }
  }
}
