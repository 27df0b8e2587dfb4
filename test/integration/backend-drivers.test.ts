// The io-wait drivers, one model per style of waiting, each started directly against a backend and
// loaded by a few HTTP clients: every request is answered after its query, the pool cap holds (the
// backend's own count of connections at once), and per-request opens one connection per query.
// Blocking: thread-per-connection; loop: epoll; coroutines: generators; completions: io-uring;
// awaiting: async (pg for PostgreSQL). Against the service and against a real PostgreSQL, whose
// own counters (pg_stat_database) say how many sessions each server opened and how many queries
// it ran. Performance is not asserted here.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type Database } from '../../harness/database.js';
import { rowFor } from '../../protocols/backend-session.js';
import { dist } from '../../harness/paths.js';
import { startGroup, stopGroup, waitForMessage, type Child } from '../../harness/processes.js';
import { connect, parseResponses, startServer, type TestServer } from '../helpers/server.js';
import { itNeeds, type Requirement } from '../helpers/tools.js';

/** Model of each style of waiting, and whether it honours the pool cap (blocking models keep one per thread). */
const STYLES: readonly { style: string; model: string; capped: boolean; needs: readonly Requirement[] }[] = [
  { style: 'blocking', model: 'thread-per-connection', capped: false, needs: [] },
  { style: 'loop', model: 'epoll', capped: true, needs: [] },
  { style: 'coroutines', model: 'generators', capped: true, needs: [] },
  { style: 'completions', model: 'io-uring', capped: true, needs: ['io_uring'] },
  { style: 'awaiting', model: 'async', capped: true, needs: [] },
];

const CLIENTS = 8;
const REQUESTS = 10;

interface ServiceStats {
  queries: number;
  waitingPeak: number;
  connectionsPeak: number;
  connectionsOpened: number;
}

interface Service {
  child: Child;
  port: number;
  /** SIGTERM, then the stats line it prints. */
  stop(): Promise<ServiceStats>;
}

const started: { stop(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const s of started.splice(0).reverse()) await s.stop().catch(() => {});
});

async function startService(delay = '10ms', misbehave?: string): Promise<Service> {
  const child = startGroup(process.execPath, [dist('servers/backend.js'), '--delay', delay, ...(misbehave ? ['--misbehave', misbehave] : [])], { cpus: null });
  let stats: ServiceStats | null = null;
  let statsSeen: () => void = () => {};
  const seen = new Promise<void>((r) => (statsSeen = r));
  child.onLine((m) => {
    if (m?.event !== 'backend-stats') return;
    stats = m as unknown as ServiceStats;
    statsSeen();
  });
  const port = await waitForMessage(child, (m) => (m.event === 'listening' ? Number(m.port) : undefined), 10_000, 'backend');
  let stopped: Promise<ServiceStats> | null = null;
  const service: Service = {
    child,
    port,
    stop: () =>
      (stopped ??= (async () => {
        await stopGroup(child, 3000);
        // The line may be read just after the exit is seen.
        await Promise.race([seen, new Promise((r) => setTimeout(r, 1000))]);
        if (stats === null) throw new Error('the backend printed no backend-stats line');
        return stats;
      })()),
  };
  started.push(service);
  return service;
}

interface PostgresLogin {
  user: string;
  database: string;
  passwordFile: string | null;
  delayMs: number;
}

async function startModel(model: string, backendPort: number, connections: 'pooled' | 'per-request', pool: number, postgres?: PostgresLogin): Promise<TestServer & { faults: string[] }> {
  const work = postgres ? { kind: 'io-wait', backend: 'postgres', backendPort, connections, pool, postgres } : { kind: 'io-wait', backend: 'service', backendPort, connections, pool };
  const server = await startServer(model, 'http', ['--work', JSON.stringify(work)]);
  const faults: string[] = [];
  server.child.onLine((m) => {
    if (m?.event === 'fault') faults.push(String(m.reason));
  });
  started.push(server);
  return Object.assign(server, { faults });
}

/** What one client saw: the bodies of its answers, and whether the server closed on it. */
interface ClientRun {
  answered: number;
  bodies: string[];
  closed: boolean;
}

/** `requests` GET / one after another on one keep-alive connection; stops at a close. */
async function client(port: number, requests: number): Promise<ClientRun> {
  const s = await connect(port);
  const run: ClientRun = { answered: 0, bodies: [], closed: false };
  let buf = Buffer.alloc(0);
  let wake: () => void = () => {};
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake();
  });
  s.on('close', () => {
    run.closed = true;
    wake();
  });
  s.on('error', () => {});
  try {
    for (let i = 0; i < requests && !run.closed; i++) {
      s.write('GET / HTTP/1.1\r\nHost: t\r\n\r\n');
      const until = Date.now() + 10_000;
      for (;;) {
        const got = parseResponses(buf);
        if (got.length > run.answered) {
          for (const r of got.slice(run.answered)) {
            expect(r.status).toBe(200);
            run.bodies.push(r.body.toString());
          }
          run.answered = got.length;
          break;
        }
        if (run.closed) break;
        if (Date.now() > until) throw new Error(`no answer to request ${i + 1} within 10 s`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 200);
        });
      }
    }
  } finally {
    s.destroy();
  }
  return run;
}

/** `clients` connections at once, each making `requests` requests. */
function load(port: number, clients = CLIENTS, requests = REQUESTS): Promise<ClientRun[]> {
  return Promise.all(Array.from({ length: clients }, () => client(port, requests)));
}

describe.each(STYLES)('io-wait drivers against the service: $style ($model)', ({ model, capped, needs }) => {
  itNeeds(needs)('pooled with a cap of 2: every request answered, and at most 2 backend connections at once (blocking: one per thread)', async () => {
    const service = await startService();
    const server = await startModel(model, service.port, 'pooled', 2);
    const runs = await load(server.port);
    await server.stop();
    const stats = await service.stop();
    for (const r of runs) {
      expect(r.answered).toBe(REQUESTS);
      expect(r.bodies.every((b) => b === runs[0]!.bodies[0])).toBe(true);
    }
    expect(server.faults).toEqual([]);
    expect(stats.queries).toBe(CLIENTS * REQUESTS);
    if (capped) {
      expect(stats.connectionsPeak).toBeLessThanOrEqual(2);
      expect(stats.waitingPeak).toBeLessThanOrEqual(2);
      expect(stats.connectionsOpened).toBeLessThanOrEqual(2);
    } else {
      // psycopg2 per thread: the cap does not apply; each thread keeps its own connection.
      expect(stats.connectionsOpened).toBe(CLIENTS);
    }
  });

  itNeeds(needs)('pooled without a cap: the pool grows past 2 to the queries in flight, and keeps its connections', async () => {
    const service = await startService();
    const server = await startModel(model, service.port, 'pooled', 0);
    const runs = await load(server.port);
    await server.stop();
    const stats = await service.stop();
    expect(runs.map((r) => r.answered)).toEqual(Array(CLIENTS).fill(REQUESTS));
    expect(stats.queries).toBe(CLIENTS * REQUESTS);
    expect(stats.connectionsPeak).toBeGreaterThan(2);
    expect(stats.connectionsOpened).toBeLessThanOrEqual(CLIENTS);
  });

  itNeeds(needs)('per-request: one connection per query, whatever the pool says', async () => {
    const service = await startService();
    const server = await startModel(model, service.port, 'per-request', 2);
    const runs = await load(server.port);
    await server.stop();
    const stats = await service.stop();
    expect(runs.map((r) => r.answered)).toEqual(Array(CLIENTS).fill(REQUESTS));
    expect(stats.queries).toBe(CLIENTS * REQUESTS);
    expect(stats.connectionsOpened).toBe(stats.queries);
    expect(stats.connectionsPeak).toBeGreaterThan(2);
  });

  itNeeds(needs)('a wrong answer is a fault that ends its client, and no request waiting for a pooled connection is left hanging', async () => {
    const service = await startService('10ms', 'wrong-answer');
    const server = await startModel(model, service.port, 'pooled', 2);
    const runs = await load(server.port, CLIENTS, 2);
    await server.stop();
    await service.stop();
    expect(new Set(server.faults)).toEqual(new Set(['backend answered a different query'])); // once per process (per thread when blocking)
    for (const r of runs) {
      expect(r.answered).toBe(0);
      expect(r.closed).toBe(true);
    }
  });
});

describe('io-wait drivers: the backend going away', () => {
  for (const { model, needs } of STYLES) itNeeds(needs)(`${model}: a backend that closes mid-query is a fault with that reason`, async () => {
    // A server that accepts, reads the query and closes: the answer never comes.
    const closer = net.createServer((s) => s.once('data', () => s.destroy()));
    await new Promise<void>((r) => closer.listen(0, '127.0.0.1', r));
    try {
      const server = await startModel(model, (closer.address() as net.AddressInfo).port, 'pooled', 2);
      const runs = await load(server.port, 4, 1);
      await server.stop();
      expect(new Set(server.faults)).toEqual(new Set(['the backend closed its connection mid-query']));
      expect(runs.every((r) => r.closed && r.answered === 0)).toBe(true);
    } finally {
      closer.close();
    }
  });
});

describe('io-wait drivers against PostgreSQL', () => {
  let db: Database;
  let login: PostgresLogin;
  beforeAll(async () => {
    db = await startPostgres({ auth: 'scram', maxConnections: 100, cpus: null, url: null });
    login = { user: db.user, database: db.database, passwordFile: db.passwordFile, delayMs: 10 };
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  });

  /** Runs the load on `model` and returns what the database counted for it: sessions opened, queries run. */
  async function measured(model: string, connections: 'pooled' | 'per-request', pool: number): Promise<{ runs: ClientRun[]; faults: string[]; sessions: number; queries: number }> {
    await db.settle();
    const before = await db.counters();
    const server = await startModel(model, db.port, connections, pool, login);
    const runs = await load(server.port);
    await server.stop();
    await db.settle();
    const after = await db.counters();
    const sessions = after.sessions - before.sessions;
    // Every session commits once as it starts (database.ts usageBetween): the rest are the queries.
    return { runs, faults: server.faults, sessions, queries: after.commits - before.commits - sessions };
  }

  describe.each(STYLES)('$style ($model)', ({ model, capped, needs }) => {
    itNeeds(needs)('pooled with a cap of 2: every row right, and at most 2 sessions (blocking: one per thread)', async () => {
      const m = await measured(model, 'pooled', 2);
      expect(m.faults).toEqual([]); // every row was checked against randomNumberOf
      expect(m.runs.map((r) => r.answered)).toEqual(Array(CLIENTS).fill(REQUESTS));
      expect(m.queries).toBe(CLIENTS * REQUESTS);
      if (capped) expect(m.sessions).toBeLessThanOrEqual(2);
      else expect(m.sessions).toBe(CLIENTS);
    });

    itNeeds(needs)('pooled without a cap: more than 2 sessions, kept (at most one per client)', async () => {
      const m = await measured(model, 'pooled', 0);
      expect(m.faults).toEqual([]);
      expect(m.runs.map((r) => r.answered)).toEqual(Array(CLIENTS).fill(REQUESTS));
      expect(m.sessions).toBeGreaterThan(2);
      expect(m.sessions).toBeLessThanOrEqual(CLIENTS);
    });

    itNeeds(needs)('per-request: a session (connect, SCRAM, query, close) per query', async () => {
      const m = await measured(model, 'per-request', 2);
      expect(m.faults).toEqual([]);
      expect(m.runs.map((r) => r.answered)).toEqual(Array(CLIENTS).fill(REQUESTS));
      expect(m.queries).toBe(CLIENTS * REQUESTS);
      expect(m.sessions).toBe(CLIENTS * REQUESTS);
    });

    itNeeds(needs)('a wrong row is a fault naming it; a wrong password a fault that does not show it', async () => {
      // The first query of every server process (and of every blocking thread) asks for rowFor(1).
      const admin = new pg.Client({ host: '127.0.0.1', port: db.port, user: db.user, database: db.database, password: login.passwordFile ? readFileSync(login.passwordFile, 'utf8').trim() : undefined });
      await admin.connect();
      try {
        await admin.query('UPDATE world SET randomnumber = randomnumber + 1 WHERE id = $1', [rowFor(1)]);
        const server = await startModel(model, db.port, 'pooled', 2, login);
        const runs = await load(server.port, 4, 1);
        await server.stop();
        expect([...new Set(server.faults)]).toEqual([expect.stringMatching(new RegExp(`^postgres: row ${rowFor(1)} has randomnumber \\d+, expected \\d+$`))]);
        // The client whose query got the row is ended; the others asked for other rows (blocking threads each start at rowFor(1)).
        expect(runs.filter((r) => r.closed && r.answered === 0).length).toBeGreaterThanOrEqual(1);
        if (!capped) expect(runs.every((r) => r.answered === 0)).toBe(true);
      } finally {
        await admin.query('UPDATE world SET randomnumber = randomnumber - 1 WHERE id = $1', [rowFor(1)]);
        await admin.end();
      }
      const wrong = join(mkdtempSync(join(tmpdir(), 'cb-drivers-')), 'password');
      writeFileSync(wrong, 'not-the-password-4711\n', { mode: 0o600 });
      const server = await startModel(model, db.port, 'pooled', 2, { ...login, passwordFile: wrong });
      const runs = await load(server.port, 2, 1);
      await server.stop();
      expect(new Set(server.faults)).toEqual(new Set([`postgres: 28P01 password authentication failed for user "${db.user}"`]));
      expect(server.faults.join(' ')).not.toContain('4711');
      expect(runs.every((r) => r.answered === 0)).toBe(true);
    });
  });
});
