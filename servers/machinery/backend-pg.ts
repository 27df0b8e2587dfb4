// The PostgreSQL query as a Node user makes it: node-postgres (pg), awaited on the event loop, as
// the awaiting models (async, node-http, thread-offload, cluster workers) wait on a real database.
// Pooled: a pg.Pool of at most `pool` connections (a very large one when there is no cap, so the
// model and not the pool is measured), with the query named so pg prepares it once per connection,
// as our codec does (protocols/postgres.ts); per-request: a new pg.Client per query (connect, log
// in, query, end). The query and its check are the codec's: TechEmpower's single query, its row's
// randomnumber recomputed from the id. Same shape as AsyncBackend: query() resolves with null or
// a fault, never rejects; the password never appears in a fault.
import pg from 'pg';
import { randomNumberOf, rowFor } from '../../protocols/backend-session.js';
import { STATEMENT_NAME, worldQuerySql } from '../../protocols/postgres.js';
import { type IoWaitWork } from '../../schema/work.js';
import { BACKEND_TIMEOUT_MS, readPassword } from './backend-link.js';

/** A pool "without a cap": pg needs a number; this is more than any suite's connections. */
const UNCAPPED = 10_000;

interface WorldRow {
  id: number;
  randomnumber: number;
}

export class PgBackend {
  private readonly config: pg.ClientConfig;
  private readonly pool: pg.Pool | null;
  private readonly sql: string;
  private readonly password: string | null;
  private queries = 0;

  constructor(work: IoWaitWork) {
    const target = work.postgres!;
    this.password = readPassword(target);
    this.sql = worldQuerySql(target.delayMs);
    this.config = {
      host: work.backendHost,
      port: work.backendPort,
      user: target.user,
      database: target.database,
      ...(this.password === null ? {} : { password: this.password }),
      connectionTimeoutMillis: BACKEND_TIMEOUT_MS,
      query_timeout: BACKEND_TIMEOUT_MS,
    };
    if (work.connections === 'pooled') {
      this.pool = new pg.Pool({ ...this.config, max: work.pool || UNCAPPED, idleTimeoutMillis: 0 });
      // An idle connection the database ended: pg drops it from the pool; without a listener the process would die.
      this.pool.on('error', () => {});
    } else this.pool = null;
  }

  /** Resolves with null once the row is in and right, or with what went wrong. Never rejects. */
  async query(): Promise<string | null> {
    const id = rowFor(++this.queries);
    const q = { name: STATEMENT_NAME, text: this.sql, values: [id] };
    try {
      const res = this.pool !== null ? await this.pool.query<WorldRow>(q) : await this.once<WorldRow>(q);
      return checkRows(id, res.rows);
    } catch (e) {
      return this.faultOf(e);
    }
  }

  /** Per request: a connection of its own, ended whatever happens. */
  private async once<R extends pg.QueryResultRow>(q: pg.QueryConfig): Promise<pg.QueryResult<R>> {
    const client = new pg.Client(this.config);
    client.on('error', () => {}); // reported through the query's rejection
    try {
      await client.connect();
      return await client.query<R>(q);
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** A fault line like every other driver's: the connection's reasons, or the database's own words. */
  private faultOf(e: unknown): string {
    const err = e as Error & { code?: string; severity?: string };
    let reason: string;
    if (err.severity !== undefined) reason = `postgres: ${err.code ?? '?????'} ${err.message.length > 200 ? err.message.slice(0, 199) + '…' : err.message}`; // an ErrorResponse, as the codec words it
    else if (/Connection terminated/.test(err.message ?? '')) reason = 'the backend closed its connection mid-query';
    else if (/timeout/i.test(err.message ?? '')) reason = `the backend did not answer within ${BACKEND_TIMEOUT_MS} ms`;
    else if (err.code === 'ECONNREFUSED') reason = `cannot connect to the backend: ${err.code}`;
    else if (typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) reason = `backend connection failed (${err.code})`;
    else reason = `postgres: ${err.message ?? String(e)}`;
    return this.password === null || this.password === '' ? reason : reason.split(this.password).join('***');
  }

  async close(): Promise<void> {
    await this.pool?.end().catch(() => {});
  }
}

/** null when `rows` is the one row of `id` with its randomnumber, else what is wrong (the codec's words). */
export function checkRows(id: number, rows: readonly WorldRow[]): string | null {
  if (rows.length === 0) return `postgres: no row for id ${id}`;
  if (rows.length > 1) return `postgres: more than one row for id ${id}`;
  const row = rows[0]!;
  if (row.id !== id) return `postgres: asked for row ${id}, got row ${row.id}`;
  const expected = randomNumberOf(id);
  if (row.randomnumber !== expected) return `postgres: row ${id} has randomnumber ${row.randomnumber}, expected ${expected}`;
  return null;
}
