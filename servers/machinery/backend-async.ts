// The backend query as Node's event loop makes it: the request's code awaits the answer while the
// loop serves every other connection. Pooled: a pool that grows to the number of queries in flight
// at once and keeps its sockets (what a Node database driver's pool does), up to the pool cap when
// there is one, past which a query waits its turn (backend-pool.ts); per-request: a new socket per
// query. The bytes are a BackendSession's (the service's; postgres goes through pg, backend-pg.ts).
import net from 'node:net';
import { BackendPool, NEW_CONNECTION, poolCap, QUEUED } from './backend-pool.js';
import { ANSWERED, FAULT, rowFor, type BackendSession } from '../../protocols/backend-session.js';
import { type IoWaitWork } from '../../schema/work.js';
import { BACKEND_TIMEOUT_MS, backendSessions } from './backend-link.js';

interface Conn {
  socket: net.Socket;
  session: BackendSession;
  /** Settles the query in flight on this socket. */
  settle: ((fault: string | null) => void) | null;
}

/** A query waiting for a pooled connection: run it on the one handed over, or on a new one (null). */
type Waiter = (conn: Conn | null) => void;

export class AsyncBackend {
  private readonly pool: BackendPool<Conn, Waiter>;
  private readonly all = new Set<Conn>();
  private readonly newSession: () => BackendSession;
  private readonly address: string;
  private readonly port: number;
  private readonly perRequest: boolean;
  private queries = 0;
  private closed = false;

  constructor(work: IoWaitWork) {
    this.address = work.backendHost;
    this.port = work.backendPort;
    this.perRequest = work.connections === 'per-request';
    this.newSession = backendSessions(work);
    this.pool = new BackendPool(poolCap(work));
  }

  /** Resolves with null once answered, or with what went wrong. Never rejects. */
  query(): Promise<string | null> {
    return new Promise((resolve) => {
      const run: Waiter = (conn) => this.run(conn ?? this.open(), resolve);
      const got = this.pool.acquire(run);
      if (got !== QUEUED) run(got === NEW_CONNECTION ? null : got);
    });
  }

  private run(conn: Conn, resolve: (fault: string | null) => void): void {
    // The timer starts when the query goes out: a turn waited for a pooled connection is not the backend's delay.
    const timer = setTimeout(() => finish(`the backend did not answer within ${BACKEND_TIMEOUT_MS} ms`), BACKEND_TIMEOUT_MS);
    const finish = (fault: string | null): void => {
      if (conn.settle === null) return;
      clearTimeout(timer);
      conn.settle = null;
      if (fault !== null || this.perRequest || this.closed) this.drop(conn);
      else this.pool.release(conn)?.(conn);
      resolve(fault);
    };
    conn.settle = finish;
    conn.session.query(rowFor(++this.queries));
    this.flush(conn);
  }

  /** Writes what the session has; it is not reused before its answer, so the write need not copy it. */
  private flush(conn: Conn): void {
    const out = conn.session.take();
    if (out !== null) conn.socket.write(out);
  }

  private open(): Conn {
    const socket = net.connect({ host: this.address, port: this.port, noDelay: true });
    const conn: Conn = { socket, session: this.newSession(), settle: null };
    this.all.add(conn);
    socket.on('data', (chunk: Buffer) => {
      if (conn.settle === null) return this.drop(conn); // an answer nobody asked for
      const step = conn.session.feed(chunk, 0, chunk.length);
      if (step === ANSWERED) conn.settle(null);
      else if (step === FAULT) conn.settle(conn.session.fault ?? 'backend fault');
      else this.flush(conn);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => conn.settle?.(`backend connection failed (${e.code ?? e.message})`));
    socket.on('close', () => {
      conn.settle?.('the backend closed its connection mid-query');
      this.drop(conn);
    });
    return conn;
  }

  /** Closes `conn` once; its place in the pool goes to the first waiter, which opens a new one. */
  private drop(conn: Conn): void {
    if (!this.all.delete(conn)) return;
    conn.socket.destroy();
    const next = this.pool.closed(conn);
    if (next !== undefined && !this.closed) next(null);
  }

  close(): void {
    this.closed = true;
    for (const conn of [...this.all]) this.drop(conn);
  }
}
