// The backend query as Node's event loop makes it: the request's code awaits the answer while the
// loop serves every other connection. Pooled: a pool that grows to the number of queries in flight
// at once and keeps its sockets (what a Node database driver's pool does, without a cap, so the
// model and not the pool size is measured); per-request: a new socket per query.
import net from 'node:net';
import { ANSWER_BYTES, BACKEND_TIMEOUT_MS, checkAnswer, queryBytes, type Work } from './work.js';

interface Conn {
  socket: net.Socket;
  /** Settles the query in flight on this socket. */
  settle: ((fault: string | null) => void) | null;
  query: Buffer | null;
  got: Buffer[];
  gotBytes: number;
}

export class AsyncBackend {
  private readonly idle: Conn[] = [];
  private readonly all = new Set<Conn>();
  private id = 0;
  private closed = false;

  constructor(
    private readonly port: number,
    private readonly perRequest: boolean,
  ) {}

  static from(work: Work): AsyncBackend | null {
    return work.kind === 'io-wait' ? new AsyncBackend(work.backendPort, work.connections === 'per-request') : null;
  }

  /** Resolves with null once answered, or with what went wrong. Never rejects. */
  query(): Promise<string | null> {
    const conn = (!this.perRequest && this.idle.pop()) || this.open();
    const q = queryBytes(++this.id);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(`the backend did not answer within ${BACKEND_TIMEOUT_MS} ms`), BACKEND_TIMEOUT_MS);
      const finish = (fault: string | null): void => {
        if (conn.settle === null) return;
        clearTimeout(timer);
        conn.settle = null;
        conn.query = null;
        if (fault !== null || this.perRequest || this.closed) this.drop(conn);
        else this.idle.push(conn);
        resolve(fault);
      };
      conn.settle = finish;
      conn.query = q;
      conn.got = [];
      conn.gotBytes = 0;
      conn.socket.write(q);
    });
  }

  private open(): Conn {
    const socket = net.connect({ host: '127.0.0.1', port: this.port, noDelay: true });
    const conn: Conn = { socket, settle: null, query: null, got: [], gotBytes: 0 };
    this.all.add(conn);
    socket.on('data', (chunk: Buffer) => {
      if (conn.settle === null || conn.query === null) return conn.socket.destroy(); // an answer nobody asked for
      conn.got.push(chunk);
      conn.gotBytes += chunk.length;
      if (conn.gotBytes < ANSWER_BYTES) return;
      const answer = conn.got.length === 1 ? chunk : Buffer.concat(conn.got);
      conn.settle(answer.length === ANSWER_BYTES ? checkAnswer(conn.query, answer) : 'backend sent more than one answer');
    });
    socket.on('error', (e: NodeJS.ErrnoException) => conn.settle?.(`backend connection failed (${e.code ?? e.message})`));
    socket.on('close', () => {
      conn.settle?.('the backend closed its connection mid-query');
      this.drop(conn);
    });
    return conn;
  }

  private drop(conn: Conn): void {
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    conn.socket.destroy();
  }

  close(): void {
    this.closed = true;
    for (const conn of [...this.all]) this.drop(conn);
  }
}
