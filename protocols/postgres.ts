// One client connection to PostgreSQL (protocol 3.0) as pure code: startup, trust or SCRAM-SHA-256,
// then TechEmpower's single query as a named prepared statement, its one row checked. Every model
// drives this codec in a hot loop, so the steady state allocates nothing: the Bind/Execute/Sync
// bytes are built once per connection and only the row id is patched in, messages are read in place
// in the caller's chunk, and the carry buffer is copied into only when a message straddles two reads.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ANSWERED, FAULT, MORE, randomNumberOf, type BackendSession, type Step } from './backend-session.js';

export interface PostgresLogin {
  user: string;
  database: string;
  /** null: trust authentication (the server must not ask for a password). */
  password: string | null;
  /** How long the database holds each query (pg_sleep), ms; 0: a plain single-row select. */
  delayMs: number;
}

/** Longest server message accepted, bytes: anything longer is a framing error, not data. */
const MAX_MESSAGE_BYTES = 1 << 20;
/** The prepared statement every connection parses once. */
export const STATEMENT_NAME = 'cb_world';
/** Most PBKDF2 iterations a server may ask for: beyond this one handshake would stall a loop for seconds. */
const MAX_SCRAM_ITERATIONS = 1_000_000;
const PROTOCOL_3_0 = 196608;
const INT4_OID = 23;
const BINARY = 1;

/** The query of io-wait: TechEmpower's single query, held `delayMs` by the database itself. */
export function worldQuerySql(delayMs: number): string {
  if (!(delayMs >= 0) || !Number.isFinite(delayMs)) throw new RangeError(`postgres: delayMs must be a finite number >= 0, got ${delayMs}`);
  if (delayMs === 0) return 'SELECT id, randomnumber FROM world WHERE id = $1';
  // Fixed-point, so 1.1 ms is 0.0011 and not 0.0011000000000000001; pg_sleep resolves to microseconds.
  const seconds = (delayMs / 1000).toFixed(6).replace(/\.?0+$/, '');
  return `SELECT id, randomnumber, pg_sleep(${seconds}) FROM world WHERE id = $1`;
}

// ---- Frontend messages (built once per connection) ----

const cstr = (s: string): Buffer => Buffer.from(s + '\0', 'utf8');
const int16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/** A message: type byte (none for the startup message), int32 length counting itself, body. */
function frame(type: string | null, ...body: Buffer[]): Buffer {
  const head = type === null ? 4 : 5;
  const size = body.reduce((n, b) => n + b.length, 0);
  const m = Buffer.alloc(head + size);
  if (type !== null) m[0] = type.charCodeAt(0);
  m.writeInt32BE(4 + size, head - 4);
  let at = head;
  for (const b of body) at += b.copy(m, at);
  return m;
}

export function startupMessage(user: string, database: string): Buffer {
  const params = ['user', user, 'database', database, 'client_encoding', 'UTF8', 'application_name', 'concurrency-bench'];
  for (const p of params) if (p.includes('\0')) throw new RangeError('postgres: user and database must not contain NUL');
  return frame(null, int32(PROTOCOL_3_0), ...params.map(cstr), Buffer.from([0]));
}

/**
 * Parse+Bind+Execute+Sync in one buffer: the first query sends all of it, later ones the view from
 * `bindAt`, which shares its memory, so patching the id at `idAt` serves both.
 */
export interface QueryTemplate {
  bytes: Buffer;
  steady: Buffer;
  idAt: number;
}

function queryTemplate(delayMs: number): QueryTemplate {
  const parse = frame('P', cstr(STATEMENT_NAME), cstr(worldQuerySql(delayMs)), int16(1), int32(INT4_OID));
  // unnamed portal, our statement, one binary parameter (int4, patched), all results binary
  const head = [cstr(''), cstr(STATEMENT_NAME), int16(1), int16(BINARY), int16(1), int32(4)];
  const bind = frame('B', ...head, int32(0), int16(1), int16(BINARY));
  const execute = frame('E', cstr(''), int32(0));
  const bytes = Buffer.concat([parse, bind, execute, frame('S')]);
  const idAt = parse.length + 5 + head.reduce((n, b) => n + b.length, 0);
  return { bytes, steady: bytes.subarray(parse.length), idAt };
}

// ---- SCRAM-SHA-256 (RFC 5802, RFC 7677), client side ----

/** What the client needs from the server-first-message, or why it is unusable. */
export interface ServerFirst {
  nonce: string;
  salt: Buffer;
  iterations: number;
}

export function parseServerFirst(message: string, clientNonce: string): ServerFirst | string {
  const attrs = new Map<string, string>();
  for (const part of message.split(',')) attrs.set(part.slice(0, 1), part.slice(2));
  if (attrs.has('m')) return 'postgres: SCRAM: the server requires an extension we do not know';
  const nonce = attrs.get('r') ?? '';
  const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
  const iterations = Number(attrs.get('i'));
  if (!nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) return 'postgres: SCRAM: the server nonce does not extend ours';
  if (salt.length === 0) return 'postgres: SCRAM: no salt in the server-first-message';
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_SCRAM_ITERATIONS) return `postgres: SCRAM: absurd iteration count ${attrs.get('i')}`;
  return { nonce, salt, iterations };
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text, 'utf8').digest();

/**
 * The client-final-message and the server signature that must come back in server-final. The
 * password is used as is when ASCII (SASLprep leaves printable ASCII alone, and PostgreSQL falls
 * back to the raw bytes when SASLprep refuses control characters); NFKC covers the rest of SASLprep
 * that matters in practice.
 */
export function scramClientFinal(password: string, clientFirstBare: string, serverFirst: string, server: ServerFirst): { clientFinal: string; serverSignature: Buffer } {
  const normalized = /^[\x00-\x7f]*$/.test(password) ? password : password.normalize('NFKC');
  const salted = pbkdf2Sync(normalized, server.salt, server.iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = createHash('sha256').update(clientKey).digest();
  const withoutProof = `c=biws,r=${server.nonce}`; // biws: base64 of the gs2 header "n,,"
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = hmac(storedKey, authMessage);
  for (let i = 0; i < clientKey.length; i++) clientKey[i]! ^= signature[i]!;
  return { clientFinal: `${withoutProof},p=${clientKey.toString('base64')}`, serverSignature: hmac(hmac(salted, 'Server Key'), authMessage) };
}

// ---- Backend messages ----

const ERROR = 0x45; // E
const NOTICE = 0x4e; // N
const PARAMETER_STATUS = 0x53; // S
const NOTIFICATION = 0x41; // A
const AUTHENTICATION = 0x52; // R
const BACKEND_KEY = 0x4b; // K
const READY = 0x5a; // Z
const PARSE_COMPLETE = 0x31; // 1
const BIND_COMPLETE = 0x32; // 2
const DATA_ROW = 0x44; // D
const COMMAND_COMPLETE = 0x43; // C

const AUTH_NAMES: Record<number, string> = {
  2: 'Kerberos V5',
  3: 'a cleartext password',
  5: 'an MD5 password',
  7: 'GSSAPI',
  8: 'GSSAPI',
  9: 'SSPI',
};

/** `postgres: <SQLSTATE> <message>` from an ErrorResponse body. */
function errorResponseText(buf: Buffer, at: number, end: number): string {
  let code = '?????';
  let message = '(no message)';
  while (at < end && buf[at] !== 0) {
    const field = buf[at];
    const z = buf.indexOf(0, at + 1);
    if (z < 0 || z >= end) break;
    if (field === 0x43) code = buf.toString('latin1', at + 1, z); // C: SQLSTATE
    if (field === 0x4d) message = buf.toString('utf8', at + 1, z); // M: primary message
    at = z + 1;
  }
  return `postgres: ${code} ${message.length > 200 ? message.slice(0, 199) + '…' : message}`;
}

function typeName(type: number): string {
  return type >= 0x20 && type < 0x7f ? `'${String.fromCharCode(type)}'` : `0x${type.toString(16).padStart(2, '0')}`;
}

/** randomNumberOf without BigInt, so checking a row allocates nothing: exact while id * 2654435761 < 2^53. */
function expectedRandomNumber(id: number): number {
  return id < 3_000_000 ? (id * 2654435761) % 10000 + 1 : randomNumberOf(id);
}

// ---- The session ----

// What the session waits for next. The handshake phases come first, so `phase >= PARSE` is "a query is out".
const AUTH_REQUEST = 0;
const SASL_CONTINUE = 1;
const SASL_FINAL = 2;
const AUTH_OK = 3;
const SETTLING = 4; // ParameterStatus and BackendKeyData until the first ReadyForQuery
const IDLE = 5;
const PARSE = 6;
const BIND = 7;
const ROW = 8;
const COMPLETE = 9;
const QUERY_READY = 10;
const FAILED = 11;
const WAITING_FOR = ['an authentication request', 'SASLContinue', 'SASLFinal', 'AuthenticationOk', 'ReadyForQuery', 'nothing (no query out)', 'ParseComplete', 'BindComplete', 'DataRow', 'CommandComplete', 'ReadyForQuery'];

const SCRAM = 'SCRAM-SHA-256';

export class PostgresSession implements BackendSession {
  fault: string | null = null;
  private phase = AUTH_REQUEST;
  private out: Buffer | null;
  private readonly template: QueryTemplate;
  private readonly columns: number;
  private parsed = false;
  /** The id of the query held back during the handshake or out now; 0 when none. */
  private id = 0;
  private expected = 0;
  private password: string | null;
  private scram: { nonce: string; clientFirstBare: string; serverSignature: Buffer | null } | null = null;
  /** Bytes of a message split across reads (and whatever followed an answer in the same read). */
  private carry = Buffer.alloc(256);
  private carryLen = 0;

  constructor(login: PostgresLogin) {
    this.template = queryTemplate(login.delayMs);
    this.columns = login.delayMs > 0 ? 3 : 2;
    this.password = login.password;
    this.out = startupMessage(login.user, login.database);
  }

  query(id: number): void {
    if (this.phase === FAILED) throw new Error('postgres: query() on a failed session');
    if (this.id !== 0) throw new Error('postgres: query() while another query is out');
    if (!Number.isInteger(id) || id < 1 || id > 0x7fffffff) throw new RangeError(`postgres: row id must be a positive int4, got ${id}`);
    this.id = id;
    this.expected = expectedRandomNumber(id);
    if (this.phase === IDLE) this.send();
  }

  take(): Buffer | null {
    const out = this.out;
    this.out = null;
    return out;
  }

  feed(data: Buffer, start: number, end: number): Step {
    if (this.phase === FAILED) return FAULT;
    let p = start;
    while (this.carryLen > 0) {
      const need = this.carryNeeds();
      if (need < 0) return this.failLength(this.carry, 0);
      if (need > 0) {
        const n = Math.min(need, end - p);
        this.stash(data, p, p + n);
        p += n;
        if (n < need) return MORE;
        continue;
      }
      const size = 1 + this.carry.readInt32BE(1);
      const step = this.handle(this.carry[0]!, this.carry, 5, size);
      this.carry.copyWithin(0, size, this.carryLen);
      this.carryLen -= size;
      if (step !== MORE) return this.after(step, data, p, end);
    }
    while (end - p >= 5) {
      const len = data.readInt32BE(p + 1);
      if (len < 4 || len > MAX_MESSAGE_BYTES) return this.failLength(data, p);
      const next = p + 1 + len;
      if (next > end) break;
      const step = this.handle(data[p]!, data, p + 5, next);
      p = next;
      if (step !== MORE) return this.after(step, data, p, end);
    }
    if (p < end) this.stash(data, p, end);
    return MORE;
  }

  /** Bytes still missing from the message at the head of the carry; -1 when its length is absurd. */
  private carryNeeds(): number {
    if (this.carryLen < 5) return 5 - this.carryLen;
    const len = this.carry.readInt32BE(1);
    if (len < 4 || len > MAX_MESSAGE_BYTES) return -1;
    return Math.max(0, 1 + len - this.carryLen);
  }

  private stash(data: Buffer, start: number, end: number): void {
    const need = this.carryLen + end - start;
    if (need > this.carry.length) {
      const bigger = Buffer.alloc(Math.max(need, this.carry.length * 2));
      this.carry.copy(bigger, 0, 0, this.carryLen);
      this.carry = bigger;
    }
    this.carryLen += data.copy(this.carry, this.carryLen, start, end);
  }

  /** An answer may share its read with what the server sends next: keep that for the next feed. */
  private after(step: Step, data: Buffer, p: number, end: number): Step {
    if (step === ANSWERED && p < end) this.stash(data, p, end);
    return step;
  }

  private handle(type: number, buf: Buffer, at: number, end: number): Step {
    if (type === ERROR) return this.fail(errorResponseText(buf, at, end));
    if (type === NOTICE || type === PARAMETER_STATUS || type === NOTIFICATION) return MORE;
    if (this.phase >= PARSE) return this.onQueryMessage(type, buf, at, end);
    if (type === AUTHENTICATION) return this.onAuthentication(buf, at, end);
    if (this.phase === SETTLING && type === BACKEND_KEY) return MORE;
    if (this.phase === SETTLING && type === READY) return this.ready();
    return this.unexpected(type);
  }

  private onQueryMessage(type: number, buf: Buffer, at: number, end: number): Step {
    const phase = this.phase;
    if (type === PARSE_COMPLETE && phase === PARSE) this.phase = BIND;
    else if (type === BIND_COMPLETE && phase === BIND) this.phase = ROW;
    else if (type === DATA_ROW && phase === ROW) return this.checkRow(buf, at, end);
    else if (type === DATA_ROW && phase === COMPLETE) return this.fail(`postgres: more than one row for id ${this.id}`);
    else if (type === COMMAND_COMPLETE && phase === ROW) return this.fail(`postgres: no row for id ${this.id}`);
    else if (type === COMMAND_COMPLETE && phase === COMPLETE) this.phase = QUERY_READY;
    else if (type === READY && phase === QUERY_READY) return this.answered();
    else return this.unexpected(type);
    return MORE;
  }

  private checkRow(buf: Buffer, at: number, end: number): Step {
    const columns = end - at >= 2 ? buf.readInt16BE(at) : 0;
    if (columns !== this.columns) return this.fail(`postgres: the row has ${columns} columns, expected ${this.columns}`);
    let p = at + 2;
    for (let c = 0; c < this.columns; c++) {
      const len = end - p >= 4 ? buf.readInt32BE(p) : -2;
      if (len < -1 || p + 4 + Math.max(0, len) > end || (c < 2 && len !== 4)) return this.fail(`postgres: malformed DataRow (column ${c + 1})`);
      p += 4 + Math.max(0, len);
    }
    if (p !== end) return this.fail('postgres: malformed DataRow (bytes after the last column)');
    const id = buf.readInt32BE(at + 6);
    const random = buf.readInt32BE(at + 14);
    if (id !== this.id) return this.fail(`postgres: asked for row ${this.id}, got row ${id}`);
    if (random !== this.expected) return this.fail(`postgres: row ${id} has randomnumber ${random}, expected ${this.expected}`);
    this.phase = COMPLETE;
    return MORE;
  }

  private answered(): Step {
    this.phase = IDLE;
    this.id = 0;
    return ANSWERED;
  }

  /** The first ReadyForQuery: the handshake is over, and a query held back goes out now. */
  private ready(): Step {
    this.phase = IDLE;
    this.password = null;
    if (this.id !== 0) this.send();
    return MORE;
  }

  private send(): void {
    this.template.bytes.writeInt32BE(this.id, this.template.idAt);
    this.out = this.parsed ? this.template.steady : this.template.bytes;
    this.phase = this.parsed ? BIND : PARSE;
    this.parsed = true;
  }

  private onAuthentication(buf: Buffer, at: number, end: number): Step {
    if (end - at < 4) return this.fail('postgres: truncated authentication request');
    const code = buf.readInt32BE(at);
    const phase = this.phase;
    if (code === 0 && (phase === AUTH_REQUEST || phase === AUTH_OK)) {
      this.phase = SETTLING;
      return MORE;
    }
    if (code === 10 && phase === AUTH_REQUEST) return this.startScram(buf, at + 4, end);
    if (code === 11 && phase === SASL_CONTINUE) return this.continueScram(buf.toString('utf8', at + 4, end));
    if (code === 12 && phase === SASL_FINAL) return this.finishScram(buf.toString('utf8', at + 4, end));
    const name = AUTH_NAMES[code];
    if (name !== undefined) return this.fail(`postgres: the server asks for ${name}; only trust and SCRAM-SHA-256 are supported`);
    return this.fail(`postgres: unexpected authentication request ${code} while waiting for ${WAITING_FOR[phase]}`);
  }

  private startScram(buf: Buffer, at: number, end: number): Step {
    const mechanisms = buf.toString('utf8', at, end).split('\0').filter((m) => m !== '');
    if (!mechanisms.includes(SCRAM)) return this.fail(`postgres: the server offers SASL ${mechanisms.join(', ') || '(none)'}; only SCRAM-SHA-256 is supported`);
    if (this.password === null) return this.fail('postgres: the server asks for a password (SCRAM-SHA-256) and none was given');
    const nonce = randomBytes(18).toString('base64');
    // An empty username: PostgreSQL takes the user from the startup message.
    const clientFirstBare = `n=,r=${nonce}`;
    this.scram = { nonce, clientFirstBare, serverSignature: null };
    const first = Buffer.from(`n,,${clientFirstBare}`, 'utf8');
    this.out = frame('p', cstr(SCRAM), int32(first.length), first);
    this.phase = SASL_CONTINUE;
    return MORE;
  }

  private continueScram(serverFirst: string): Step {
    const scram = this.scram!;
    const server = parseServerFirst(serverFirst, scram.nonce);
    if (typeof server === 'string') return this.fail(server);
    const { clientFinal, serverSignature } = scramClientFinal(this.password!, scram.clientFirstBare, serverFirst, server);
    scram.serverSignature = serverSignature;
    this.out = frame('p', Buffer.from(clientFinal, 'utf8'));
    this.phase = SASL_FINAL;
    return MORE;
  }

  private finishScram(serverFinal: string): Step {
    const expected = this.scram!.serverSignature!;
    this.scram = null;
    if (serverFinal.startsWith('e=')) return this.fail(`postgres: SCRAM: the server says ${serverFinal.slice(2, 100)}`);
    const got = serverFinal.startsWith('v=') ? Buffer.from(serverFinal.slice(2).split(',')[0]!, 'base64') : Buffer.alloc(0);
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) return this.fail('postgres: SCRAM: wrong server signature (the server does not know the password)');
    this.phase = AUTH_OK;
    return MORE;
  }

  private unexpected(type: number): Step {
    return this.fail(`postgres: unexpected message ${typeName(type)} while waiting for ${WAITING_FOR[this.phase]}`);
  }

  private failLength(buf: Buffer, at: number): Step {
    return this.fail(`postgres: message ${typeName(buf[at]!)} has an absurd length (${buf.readInt32BE(at + 1)} bytes)`);
  }

  private fail(reason: string): Step {
    this.fault = reason;
    this.phase = FAILED;
    this.out = null;
    this.scram = null;
    this.password = null;
    return FAULT;
  }
}
