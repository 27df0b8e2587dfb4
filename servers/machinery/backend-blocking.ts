// The backend query as a blocking model makes it: the thread (or process) blocks in recv() on its
// backend socket for the whole wait, and holds its connection for that long, as psycopg2 does in a
// thread. One connection per thread or process when pooled, whatever the pool cap says; a connect
// (and, for postgres, a login), query and close per request otherwise. The bytes are the session's
// (protocols/backend-session.ts), so the same loop speaks to the service and to PostgreSQL.
import { ANSWERED, FAULT, rowFor, type BackendSession } from '../../protocols/backend-session.js';
import { EAGAIN, EINTR, errnoName, SysError } from '../../sys/errno.js';
import { close, connectTcp, recv, send, setIoTimeout } from '../../sys/socket.js';
import { type Work } from '../../schema/work.js';
import { BACKEND_TIMEOUT_MS, backendSessions } from './backend-link.js';

/** How long one blocked recv waits before the caller's stop flag is looked at, ms. */
const POLL_MS = 200;
/** Receive buffer of one backend connection; the session copies what it keeps. */
const RECV_BYTES = 16 * 1024;
/** exchange(): the server is stopping, so the query was abandoned (no fault, but the connection is mid-query). */
const STOPPED = 'stopped';

export class BlockingBackend {
  private fd = -1;
  private session: BackendSession | null = null;
  private queries = 0;
  private readonly buf = Buffer.alloc(RECV_BYTES);

  constructor(
    private readonly address: string,
    private readonly port: number,
    private readonly perRequest: boolean,
    private readonly newSession: () => BackendSession,
  ) {}

  static from(work: Work): BlockingBackend | null {
    return work.kind === 'io-wait' ? new BlockingBackend(work.backendHost, work.backendPort, work.connections === 'per-request', backendSessions(work)) : null;
  }

  /**
   * One query, answered: null; otherwise what went wrong (the caller reports it and ends its
   * connection). `stopped` is looked at between timed waits, so a stopping server is not held.
   */
  query(stopped: () => boolean = () => false): string | null {
    try {
      if (this.fd < 0) {
        this.fd = connectTcp(this.address, this.port, { nonBlocking: false });
        setIoTimeout(this.fd, POLL_MS);
        this.session = this.newSession();
      }
    } catch (e) {
      this.close();
      return `cannot connect to the backend: ${e instanceof SysError ? e.message : String(e)}`;
    }
    this.session!.query(rowFor(++this.queries));
    const fault = this.exchange(this.session!, stopped);
    if (fault !== null || this.perRequest) this.close();
    return fault === STOPPED ? null : fault;
  }

  /** Sends what the session has, feeds it what arrives, until it answers or faults. */
  private exchange(s: BackendSession, stopped: () => boolean): string | null {
    const until = Date.now() + BACKEND_TIMEOUT_MS;
    for (;;) {
      const out = s.take();
      if (out !== null) {
        const wrong = this.sendAll(out);
        if (wrong !== null) return wrong;
      }
      const n = recv(this.fd, this.buf, RECV_BYTES);
      if (n > 0) {
        const step = s.feed(this.buf, 0, n);
        if (step === ANSWERED) return null;
        if (step === FAULT) return s.fault ?? 'backend fault';
      } else if (n === 0) return 'the backend closed its connection mid-query';
      else if (n === -EAGAIN || n === -EINTR) {
        if (stopped()) return STOPPED; // stopping: the answer no longer matters, and no fault either
        if (Date.now() > until) return `the backend did not answer within ${BACKEND_TIMEOUT_MS} ms`;
      } else return `backend recv failed (${errnoName(-n)})`;
    }
  }

  private sendAll(out: Buffer): string | null {
    for (let at = 0; at < out.length; ) {
      const n = send(this.fd, at === 0 ? out : out.subarray(at), out.length - at);
      if (n >= 0) at += n;
      else if (n !== -EINTR && n !== -EAGAIN) return `backend send failed (${errnoName(-n)})`;
    }
    return null;
  }

  close(): void {
    if (this.fd >= 0) close(this.fd);
    this.fd = -1;
    this.session = null;
  }
}
