// PostgresSession against a fake server written here as pure functions: the server's messages, the
// server side of SCRAM-SHA-256 (from a password, a salt and 4096 iterations) and a parser of what
// the client sends. Every conversation is fed whole, byte by byte and in random splits, from
// buffers the test overwrites as soon as feed() returns, as a model's receive buffer would be.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { ANSWERED, FAULT, MORE, randomNumberOf, ROWS, rowFor, type Step } from '../../protocols/backend-session.js';
import { parseServerFirst, PostgresSession, scramClientFinal, startupMessage, STATEMENT_NAME, worldQuerySql, type PostgresLogin } from '../../protocols/postgres.js';

const PASSWORD = 'correct horse battery staple';
const SCRAM_LOGIN: PostgresLogin = { user: 'bench', database: 'bench', password: PASSWORD, delayMs: 0 };
const TRUST_LOGIN: PostgresLogin = { ...SCRAM_LOGIN, password: null };

// ---- Server messages ----

function message(type: string, ...body: Buffer[]): Buffer {
  const b = Buffer.concat(body);
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(4 + b.length, 1);
  return Buffer.concat([head, b]);
}
const cstr = (s: string): Buffer => Buffer.from(s + '\0', 'utf8');
const int16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

const authentication = (code: number, data: Buffer = Buffer.alloc(0)): Buffer => message('R', int32(code), data);
const authOk = (): Buffer => authentication(0);
const saslMechanisms = (...names: string[]): Buffer => authentication(10, Buffer.concat([...names.map(cstr), Buffer.from([0])]));
const parameterStatus = (name: string, value: string): Buffer => message('S', cstr(name), cstr(value));
const backendKey = (): Buffer => message('K', int32(4242), int32(0x5eed));
const readyForQuery = (): Buffer => message('Z', Buffer.from('I'));
const notice = (text: string): Buffer => message('N', cstr('SNOTICE'), cstr('C00000'), cstr(`M${text}`), Buffer.from([0]));
const errorResponse = (code: string, text: string): Buffer => message('E', cstr('SERROR'), cstr('VERROR'), cstr(`C${code}`), cstr(`M${text}`), Buffer.from([0]));
const commandComplete = (rows: number): Buffer => message('C', cstr(`SELECT ${rows}`));

/** A DataRow in binary: id, randomnumber and, with a delay, pg_sleep's void (empty in binary). */
function dataRow(id: number, random: number, withVoid: boolean): Buffer {
  const cols: Buffer[] = [Buffer.concat([int32(4), int32(id)]), Buffer.concat([int32(4), int32(random)])];
  if (withVoid) cols.push(int32(0));
  return message('D', int16(cols.length), ...cols);
}

/** What the server says once the client is authenticated, up to the first ReadyForQuery. */
const settled = (): Buffer => Buffer.concat([authOk(), parameterStatus('server_version', '18.0'), parameterStatus('client_encoding', 'UTF8'), backendKey(), notice('welcome'), readyForQuery()]);

// ---- The server side of SCRAM-SHA-256 ----

interface ScramVerifier {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();

/** What PostgreSQL keeps in pg_authid for a password. */
function scramVerifier(password: string, salt: Buffer, iterations = 4096): ScramVerifier {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  return { salt, iterations, storedKey: createHash('sha256').update(hmac(salted, 'Client Key')).digest(), serverKey: hmac(salted, 'Server Key') };
}

const attr = (msg: string, name: string): string | undefined => msg.split(',').find((p) => p.startsWith(`${name}=`))?.slice(2);

/** Checks a client-final-message's proof; returns the server-final-message, or null for a wrong password. */
function verifyClientFinal(v: ScramVerifier, clientFirstBare: string, serverFirst: string, clientFinal: string): string | null {
  const withoutProof = clientFinal.slice(0, clientFinal.lastIndexOf(',p='));
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = hmac(v.storedKey, authMessage);
  const clientKey = Buffer.from(attr(clientFinal, 'p') ?? '', 'base64');
  if (clientKey.length !== 32) return null;
  for (let i = 0; i < 32; i++) clientKey[i]! ^= signature[i]!;
  const stored = createHash('sha256').update(clientKey).digest();
  if (!timingSafeEqual(stored, v.storedKey)) return null;
  return `v=${hmac(v.serverKey, authMessage).toString('base64')}`;
}

// ---- What the client sends ----

interface Frontend {
  type: string;
  body: Buffer;
}

function frontendMessages(bytes: Buffer, startup: boolean): Frontend[] {
  const out: Frontend[] = [];
  let p = 0;
  if (startup) {
    const len = bytes.readInt32BE(0);
    out.push({ type: 'startup', body: bytes.subarray(4, len) });
    p = len;
  }
  while (p < bytes.length) {
    const len = bytes.readInt32BE(p + 1);
    out.push({ type: String.fromCharCode(bytes[p]!), body: bytes.subarray(p + 5, p + 1 + len) });
    p += 1 + len;
  }
  expect(p).toBe(bytes.length);
  return out;
}

function cstrings(body: Buffer): string[] {
  return body.toString('utf8').split('\0');
}

// ---- The fake server ----

interface FakeOptions {
  auth?: 'trust' | 'scram' | number;
  mechanisms?: string[];
  /** The password the server's verifier was made from. */
  password?: string;
  /** Flip a bit of the server signature (a server that does not know the password). */
  badSignature?: boolean;
  /** Rows the server returns for a queried id. */
  rows?: (id: number) => Buffer[];
  /** An ErrorResponse instead of the n-th query's row (1-based). */
  errorOnQuery?: number;
  /** Extra messages in the middle of each answer. */
  chatter?: boolean;
}

interface FakeServer {
  receive(bytes: Buffer): Buffer;
  parses: number;
  queries: number[];
  sql: string[];
  startup: Map<string, string>;
  clientFirst: string;
}

function fakeServer(o: FakeOptions = {}, delayMs = 0): FakeServer {
  const verifier = scramVerifier(o.password ?? PASSWORD, randomBytes(16));
  const rows = o.rows ?? ((id: number) => [dataRow(id, randomNumberOf(id), delayMs > 0)]);
  let phase: 'startup' | 'sasl-first' | 'sasl-final' | 'query' = 'startup';
  let clientFirstBare = '';
  let serverFirst = '';
  const s: FakeServer = { parses: 0, queries: [], sql: [], startup: new Map(), clientFirst: '', receive };

  function receive(bytes: Buffer): Buffer {
    const msgs = frontendMessages(bytes, phase === 'startup');
    if (phase === 'startup') return onStartup(msgs[0]!);
    if (phase === 'sasl-first') return onSaslInitial(msgs[0]!);
    if (phase === 'sasl-final') return onSaslFinal(msgs[0]!);
    return Buffer.concat(msgs.map(onQuery));
  }
  function onStartup(m: Frontend): Buffer {
    expect(m.body.readInt32BE(0)).toBe(196608);
    const kv = cstrings(m.body.subarray(4));
    for (let i = 0; kv[i] !== ''; i += 2) s.startup.set(kv[i]!, kv[i + 1]!);
    const auth = o.auth ?? 'scram';
    if (auth === 'trust') return settledAnd();
    if (typeof auth === 'number') return authentication(auth, auth === 5 ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0));
    phase = 'sasl-first';
    return saslMechanisms(...(o.mechanisms ?? ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']));
  }
  function onSaslInitial(m: Frontend): Buffer {
    expect(m.type).toBe('p');
    const mechanism = cstrings(m.body)[0]!;
    expect(mechanism).toBe('SCRAM-SHA-256');
    const rest = m.body.subarray(Buffer.byteLength(mechanism) + 1);
    s.clientFirst = rest.subarray(4, 4 + rest.readInt32BE(0)).toString('utf8');
    expect(s.clientFirst.startsWith('n,,')).toBe(true);
    clientFirstBare = s.clientFirst.slice(3);
    serverFirst = `r=${attr(clientFirstBare, 'r')}${randomBytes(12).toString('base64')},s=${verifier.salt.toString('base64')},i=${verifier.iterations}`;
    phase = 'sasl-final';
    return authentication(11, Buffer.from(serverFirst));
  }
  function onSaslFinal(m: Frontend): Buffer {
    expect(m.type).toBe('p');
    const serverFinal = verifyClientFinal(verifier, clientFirstBare, serverFirst, m.body.toString('utf8'));
    if (serverFinal === null) return message('E', cstr('SFATAL'), cstr('C28P01'), cstr('Mpassword authentication failed for user "bench"'), Buffer.from([0]));
    const signed = o.badSignature ? flipSignature(serverFinal) : serverFinal;
    return Buffer.concat([authentication(12, Buffer.from(signed)), settledAnd()]);
  }
  function settledAnd(): Buffer {
    phase = 'query';
    return settled();
  }
  function onQuery(m: Frontend): Buffer {
    if (m.type === 'P') return onParse(m.body);
    if (m.type === 'B') return onBind(m.body);
    if (m.type === 'E') return onExecute();
    expect(m.type).toBe('S');
    return readyForQuery();
  }
  function onParse(body: Buffer): Buffer {
    const [name, sql] = cstrings(body);
    expect(name).toBe(STATEMENT_NAME);
    s.sql.push(sql!);
    const at = Buffer.byteLength(name!) + Buffer.byteLength(sql!) + 2;
    expect([body.readInt16BE(at), body.readInt32BE(at + 2)]).toEqual([1, 23]); // one int4 parameter
    s.parses++;
    return message('1');
  }
  function onBind(body: Buffer): Buffer {
    expect(cstrings(body).slice(0, 2)).toEqual(['', STATEMENT_NAME]);
    const at = 2 + STATEMENT_NAME.length;
    // one binary format for the parameter, one 4-byte value, one binary format for every result
    expect([body.readInt16BE(at), body.readInt16BE(at + 2), body.readInt16BE(at + 4), body.readInt32BE(at + 6)]).toEqual([1, 1, 1, 4]);
    expect([body.readInt16BE(at + 14), body.readInt16BE(at + 16), body.length]).toEqual([1, 1, at + 18]);
    s.queries.push(body.readInt32BE(at + 10));
    return message('2');
  }
  function onExecute(): Buffer {
    const id = s.queries.at(-1)!;
    if (o.errorOnQuery === s.queries.length) return errorResponse('57014', 'canceling statement due to statement timeout');
    const found = rows(id);
    const chatter = o.chatter ? [notice('chatty'), parameterStatus('TimeZone', 'UTC')] : [];
    return Buffer.concat([...chatter, ...found, ...chatter, commandComplete(found.length)]);
  }
  return s;
}

function flipSignature(serverFinal: string): string {
  const sig = Buffer.from(serverFinal.slice(2), 'base64');
  sig[0]! ^= 1;
  return `v=${sig.toString('base64')}`;
}

// ---- Driving a session ----

type Split = (reply: Buffer) => Buffer[];
const whole: Split = (b) => [b];
const byteByByte: Split = (b) => Array.from(b, (_, i) => b.subarray(i, i + 1));
function randomSplit(seed: number): Split {
  let x = seed | 1;
  return (b) => {
    const parts: Buffer[] = [];
    for (let at = 0; at < b.length; ) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const n = 1 + ((x >>> 0) % 23);
      parts.push(b.subarray(at, at + n));
      at += n;
    }
    return parts;
  };
}

/** A receive buffer reused for every read, overwritten after each feed() as a model's would be. */
const rx = Buffer.alloc(1 << 16);

function feedChunk(session: PostgresSession, chunk: Buffer, at: number): Step {
  chunk.copy(rx, at);
  const step = session.feed(rx, at, at + chunk.length);
  rx.fill(0xee, 0, at + chunk.length + 8);
  return step;
}

/**
 * Sends what the session has to send, feeds the server's reply in `split` pieces (at an offset into
 * the receive buffer, so start matters), until the session answers or fails.
 */
function exchange(session: PostgresSession, server: FakeServer, split: Split = whole): Step {
  for (let round = 0; round < 10; round++) {
    const out = session.take();
    if (out === null) throw new Error(`session stalled (fault: ${session.fault})`);
    for (const chunk of split(server.receive(Buffer.from(out)))) {
      const step = feedChunk(session, chunk, 3 + (round % 5));
      if (step !== MORE) return step;
    }
  }
  throw new Error('no answer after 10 rounds');
}

function runQueries(session: PostgresSession, server: FakeServer, ids: number[], split: Split = whole): Step[] {
  return ids.map((id) => {
    session.query(id);
    return exchange(session, server, split);
  });
}

function faultOf(options: FakeOptions, login: PostgresLogin = SCRAM_LOGIN, split: Split = whole): string {
  const session = new PostgresSession(login);
  const server = fakeServer(options, login.delayMs);
  session.query(17);
  expect(exchange(session, server, split)).toBe(FAULT);
  expect(session.take()).toBeNull();
  expect(session.feed(readyForQuery(), 0, 6)).toBe(FAULT);
  return session.fault!;
}

// ---- Tests ----

describe('worldQuerySql', () => {
  it("is TechEmpower's single query, with pg_sleep in seconds when there is a delay", () => {
    expect(worldQuerySql(0)).toBe('SELECT id, randomnumber FROM world WHERE id = $1');
    expect(worldQuerySql(50)).toBe('SELECT id, randomnumber, pg_sleep(0.05) FROM world WHERE id = $1');
    expect(worldQuerySql(1.1)).toContain('pg_sleep(0.0011)');
    expect(worldQuerySql(1000)).toContain('pg_sleep(1)');
    expect(() => worldQuerySql(-1)).toThrow(/delayMs/);
    expect(() => worldQuerySql(Number.NaN)).toThrow(/delayMs/);
  });
});

describe('startupMessage', () => {
  it('asks for protocol 3.0 with the user, database, UTF8 and our application name', () => {
    const m = startupMessage('bench', 'world');
    expect(m.readInt32BE(0)).toBe(m.length);
    expect(m.readInt32BE(4)).toBe(196608);
    expect(m.subarray(8).toString('utf8')).toBe('user\0bench\0database\0world\0client_encoding\0UTF8\0application_name\0concurrency-bench\0\0');
    expect(() => startupMessage('a\0b', 'x')).toThrow(/NUL/);
  });
});

describe('SCRAM-SHA-256 client', () => {
  it('computes the proof and server signature of RFC 7677 section 3', () => {
    const clientFirstBare = 'n=user,r=rOprNGfwEbeRWgbNEkqO';
    const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
    const server = parseServerFirst(serverFirst, 'rOprNGfwEbeRWgbNEkqO');
    if (typeof server === 'string') throw new Error(server);
    const { clientFinal, serverSignature } = scramClientFinal('pencil', clientFirstBare, serverFirst, server);
    expect(clientFinal).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(serverSignature.toString('base64')).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('refuses a server-first-message it cannot use', () => {
    expect(parseServerFirst('r=other123,s=c2FsdA==,i=4096', 'abc')).toMatch(/nonce/);
    expect(parseServerFirst('r=abc,s=c2FsdA==,i=4096', 'abc')).toMatch(/nonce/);
    expect(parseServerFirst('r=abcd,i=4096', 'abc')).toMatch(/salt/);
    expect(parseServerFirst('r=abcd,s=c2FsdA==,i=0', 'abc')).toMatch(/iteration/);
    expect(parseServerFirst('r=abcd,s=c2FsdA==,i=999999999', 'abc')).toMatch(/iteration/);
    expect(parseServerFirst('m=ext,r=abcd,s=c2FsdA==,i=4096', 'abc')).toMatch(/extension/);
  });
});

describe('PostgresSession handshakes and queries', () => {
  it('logs in with trust and sends the held query after the first ReadyForQuery', () => {
    const session = new PostgresSession(TRUST_LOGIN);
    const server = fakeServer({ auth: 'trust' });
    expect(runQueries(session, server, [17])).toEqual([ANSWERED]);
    expect(Object.fromEntries(server.startup)).toEqual({ user: 'bench', database: 'bench', client_encoding: 'UTF8', application_name: 'concurrency-bench' });
    expect(server.queries).toEqual([17]);
    expect(server.sql).toEqual(['SELECT id, randomnumber FROM world WHERE id = $1']);
    expect(session.fault).toBeNull();
  });

  it('logs in with SCRAM-SHA-256: gs2 header n,, and an empty username, the server signature verified', () => {
    const session = new PostgresSession(SCRAM_LOGIN);
    const server = fakeServer({ auth: 'scram' });
    expect(runQueries(session, server, [1])).toEqual([ANSWERED]);
    expect(server.clientFirst).toMatch(/^n,,n=,r=[A-Za-z0-9+/=]{24}$/);
    expect(server.queries).toEqual([1]);
  });

  it('stays idle after the handshake when no query was given, and sends one when asked', () => {
    const session = new PostgresSession(TRUST_LOGIN);
    const server = fakeServer({ auth: 'trust' });
    expect(feedChunk(session, server.receive(session.take()!), 0)).toBe(MORE);
    expect(session.take()).toBeNull();
    expect(runQueries(session, server, [ROWS])).toEqual([ANSWERED]);
    expect(server.queries).toEqual([ROWS]);
  });

  it('parses the statement once per connection: later queries send Bind, Execute, Sync only', () => {
    const session = new PostgresSession({ ...SCRAM_LOGIN, delayMs: 25 });
    const server = fakeServer({}, 25);
    const ids = [5, 6, 9999, 1];
    expect(runQueries(session, server, ids)).toEqual(ids.map(() => ANSWERED));
    expect(server.parses).toBe(1);
    expect(server.sql).toEqual(['SELECT id, randomnumber, pg_sleep(0.025) FROM world WHERE id = $1']);
    expect(server.queries).toEqual(ids);
  });

  it('allocates nothing per query: take() returns the same buffer each time, only the id changes', () => {
    const session = new PostgresSession(TRUST_LOGIN);
    const server = fakeServer({ auth: 'trust' });
    runQueries(session, server, [1]);
    const sent: Buffer[] = [];
    for (const id of [2, 3, 4]) {
      session.query(id);
      const out = session.take()!;
      sent.push(out);
      feedChunk(session, server.receive(Buffer.from(out)), 0);
    }
    expect(sent[1]).toBe(sent[0]);
    expect(sent[2]).toBe(sent[0]);
    expect(server.queries).toEqual([1, 2, 3, 4]);
  });

  it('allocates nothing per query: thousands of answers fed in place cause no garbage collection', async () => {
    const session = new PostgresSession(TRUST_LOGIN);
    runQueries(session, fakeServer({ auth: 'trust' }), [1]);
    // One answer, patched per id in place, so the loop itself allocates nothing either.
    const answer = Buffer.concat([message('2'), dataRow(0, 0, false), commandComplete(1), readyForQuery()]);
    const expected = Int32Array.from({ length: ROWS + 1 }, (_, id) => (id === 0 ? 0 : randomNumberOf(id)));
    const loop = (n: number): number => {
      let wrong = 0;
      for (let i = 1; i <= n; i++) {
        const id = rowFor(i);
        answer.writeInt32BE(id, 5 + 11);
        answer.writeInt32BE(expected[id]!, 5 + 19);
        session.query(id);
        if (session.take() === null || session.feed(answer, 0, answer.length) !== ANSWERED) wrong++;
      }
      return wrong;
    };
    loop(20_000); // compiled before it is watched
    // Scavenges (minor collections) are what per-query garbage causes; a major collection may be
    // vitest's own, so only the young generation is counted.
    let scavenges = 0;
    let start = Infinity;
    let end = Infinity;
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const minor = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR;
        if (minor && e.startTime >= start && e.startTime < end) scavenges++;
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    start = performance.now();
    const wrong = loop(200_000);
    end = performance.now();
    await new Promise((r) => setTimeout(r, 20));
    observer.disconnect();
    expect(wrong).toBe(0);
    expect(scavenges).toBe(0);
  });

  it.each([
    ['whole', whole],
    ['byte by byte', byteByByte],
    ['in random splits (seed 1)', randomSplit(1)],
    ['in random splits (seed 7)', randomSplit(7)],
  ])('answers every query with each reply fed %s, notices and parameter changes ignored', (_, split) => {
    const session = new PostgresSession({ ...SCRAM_LOGIN, delayMs: 3 });
    const server = fakeServer({ chatter: true }, 3);
    const ids = Array.from({ length: 12 }, (_, i) => rowFor(i + 1));
    expect(runQueries(session, server, ids, split)).toEqual(ids.map(() => ANSWERED));
    expect(server.queries).toEqual(ids);
    expect(server.parses).toBe(1);
  });

  it('keeps what follows an answer in the same read for the next feed', () => {
    const session = new PostgresSession(TRUST_LOGIN);
    runQueries(session, fakeServer({ auth: 'trust' }), [1]);
    session.query(2);
    session.take();
    const answer = Buffer.concat([message('2'), dataRow(2, randomNumberOf(2), false), commandComplete(1), readyForQuery()]);
    const trailing = errorResponse('57P01', 'terminating connection due to administrator command');
    expect(feedChunk(session, Buffer.concat([answer, trailing.subarray(0, 9)]), 0)).toBe(ANSWERED);
    session.query(3);
    expect(feedChunk(session, trailing.subarray(9), 0)).toBe(FAULT);
    expect(session.fault).toBe('postgres: 57P01 terminating connection due to administrator command');
  });
});

describe('PostgresSession faults', () => {
  const allSplits: [string, Split][] = [['whole', whole], ['byte by byte', byteByByte]];

  it.each(allSplits)('an ErrorResponse mid-query is a fault with its SQLSTATE and message (%s)', (_, split) => {
    const session = new PostgresSession(SCRAM_LOGIN);
    const server = fakeServer({ errorOnQuery: 2 });
    expect(runQueries(session, server, [1, 2], split)).toEqual([ANSWERED, FAULT]);
    expect(session.fault).toBe('postgres: 57014 canceling statement due to statement timeout');
    expect(() => session.query(3)).toThrow(/failed session/);
  });

  it.each(allSplits)('a wrong password is the server 28P01, and the fault never shows the password (%s)', (_, split) => {
    const fault = faultOf({ password: 'the real one' }, SCRAM_LOGIN, split);
    expect(fault).toBe('postgres: 28P01 password authentication failed for user "bench"');
    expect(fault).not.toContain(PASSWORD);
  });

  it.each(allSplits)('a server that cannot sign with the password is a fault (%s)', (_, split) => {
    const fault = faultOf({ badSignature: true }, SCRAM_LOGIN, split);
    expect(fault).toBe('postgres: SCRAM: wrong server signature (the server does not know the password)');
    expect(fault).not.toContain(PASSWORD);
  });

  it('a server that says AuthenticationOk before proving it knows the password is a fault', () => {
    const session = new PostgresSession(SCRAM_LOGIN);
    const server = fakeServer({});
    session.query(1);
    feedChunk(session, server.receive(session.take()!), 0);
    session.take();
    expect(feedChunk(session, settled(), 0)).toBe(FAULT);
    expect(session.fault).toBe('postgres: unexpected authentication request 0 while waiting for SASLContinue');
  });

  it('a SCRAM error from the server is a fault that quotes it', () => {
    const session = new PostgresSession(SCRAM_LOGIN);
    const server = fakeServer({});
    session.query(1);
    feedChunk(session, server.receive(session.take()!), 0);
    feedChunk(session, server.receive(session.take()!), 0);
    expect(session.take()).not.toBeNull();
    expect(feedChunk(session, authentication(12, Buffer.from('e=invalid-proof')), 0)).toBe(FAULT);
    expect(session.fault).toBe('postgres: SCRAM: the server says invalid-proof');
  });

  it.each([
    [3, 'postgres: the server asks for a cleartext password; only trust and SCRAM-SHA-256 are supported'],
    [5, 'postgres: the server asks for an MD5 password; only trust and SCRAM-SHA-256 are supported'],
    [7, 'postgres: the server asks for GSSAPI; only trust and SCRAM-SHA-256 are supported'],
    [9, 'postgres: the server asks for SSPI; only trust and SCRAM-SHA-256 are supported'],
    [99, 'postgres: unexpected authentication request 99 while waiting for an authentication request'],
  ])('authentication request %i is a fault that names it', (code, text) => {
    expect(faultOf({ auth: code })).toBe(text);
    expect(faultOf({ auth: code }, TRUST_LOGIN)).toBe(text);
  });

  it('SASL with SCRAM-SHA-256-PLUS only is a fault that names it', () => {
    expect(faultOf({ mechanisms: ['SCRAM-SHA-256-PLUS'] })).toBe('postgres: the server offers SASL SCRAM-SHA-256-PLUS; only SCRAM-SHA-256 is supported');
  });

  it('a server that asks for a password when none was given is a fault', () => {
    expect(faultOf({}, TRUST_LOGIN)).toBe('postgres: the server asks for a password (SCRAM-SHA-256) and none was given');
  });

  it.each(allSplits)('a wrong row is a fault: another id, a wrong randomnumber, no row, two rows (%s)', (_, split) => {
    expect(faultOf({ auth: 'trust', rows: (id) => [dataRow(id + 1, randomNumberOf(id + 1), false)] }, TRUST_LOGIN, split)).toBe('postgres: asked for row 17, got row 18');
    expect(faultOf({ auth: 'trust', rows: (id) => [dataRow(id, randomNumberOf(id) + 1, false)] }, TRUST_LOGIN, split)).toBe(`postgres: row 17 has randomnumber ${randomNumberOf(17) + 1}, expected ${randomNumberOf(17)}`);
    expect(faultOf({ auth: 'trust', rows: () => [] }, TRUST_LOGIN, split)).toBe('postgres: no row for id 17');
    const twice = (id: number): Buffer[] => [dataRow(id, randomNumberOf(id), false), dataRow(id, randomNumberOf(id), false)];
    expect(faultOf({ auth: 'trust', rows: twice }, TRUST_LOGIN, split)).toBe('postgres: more than one row for id 17');
  });

  it('a row of the wrong shape is a fault', () => {
    const noVoid = { ...TRUST_LOGIN, delayMs: 5 };
    expect(faultOf({ auth: 'trust', rows: (id) => [dataRow(id, randomNumberOf(id), false)] }, noVoid)).toBe('postgres: the row has 2 columns, expected 3');
    const text = (id: number): Buffer[] => [message('D', int16(2), int32(2), Buffer.from(String(id)), int32(4), int32(randomNumberOf(id)))];
    expect(faultOf({ auth: 'trust', rows: text })).toBe('postgres: malformed DataRow (column 1)');
    const long = (id: number): Buffer[] => [Buffer.concat([dataRow(id, randomNumberOf(id), false).subarray(0, 1), int32(27), dataRow(id, randomNumberOf(id), false).subarray(5), Buffer.from([0, 0, 0, 0])])];
    expect(faultOf({ auth: 'trust', rows: long })).toBe('postgres: malformed DataRow (bytes after the last column)');
  });

  it('an unexpected message type is a fault that names it and what was awaited', () => {
    const rowDescription = (): Buffer[] => [message('T', int16(0))];
    expect(faultOf({ auth: 'trust', rows: rowDescription })).toBe("postgres: unexpected message 'T' while waiting for DataRow");
  });

  it.each(allSplits)('an absurd message length is a fault, under 4 or over 1 MiB (%s)', (_, split) => {
    const absurd = (len: number) => () => {
      const m = Buffer.alloc(9);
      m[0] = 0x44;
      m.writeInt32BE(len, 1);
      return [m];
    };
    expect(faultOf({ auth: 'trust', rows: absurd(3) }, TRUST_LOGIN, split)).toBe("postgres: message 'D' has an absurd length (3 bytes)");
    expect(faultOf({ auth: 'trust', rows: absurd((1 << 20) + 1) }, TRUST_LOGIN, split)).toBe("postgres: message 'D' has an absurd length (1048577 bytes)");
  });

  it('takes a long message split across reads (a 100 KiB notice), growing its carry', () => {
    const big = notice('x'.repeat(100_000));
    const rows = (id: number): Buffer[] => [big, dataRow(id, randomNumberOf(id), false)];
    const session = new PostgresSession(TRUST_LOGIN);
    expect(runQueries(session, fakeServer({ auth: 'trust', rows }), [1, 2], randomSplit(3))).toEqual([ANSWERED, ANSWERED]);
  });

  it('refuses a second query while one is out, and an id that is not a positive int4', () => {
    const session = new PostgresSession(TRUST_LOGIN);
    session.query(1);
    expect(() => session.query(2)).toThrow(/another query/);
    expect(() => new PostgresSession(TRUST_LOGIN).query(0)).toThrow(RangeError);
    expect(() => new PostgresSession(TRUST_LOGIN).query(1.5)).toThrow(RangeError);
  });
});
