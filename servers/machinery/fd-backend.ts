// The io-wait backend queries of the raw-descriptor models (busy-poll, select, poll, epoll): each
// backend socket is one more descriptor in the model's own Readiness, beside its clients, so a
// request's wait costs the loop nothing but the readiness it already pays for. What goes over the
// socket is its session's (protocols/backend-session.ts): on readable, recv, feed, and send what
// the session then has (a handshake takes several round trips; a query one). Small messages go
// into an empty socket at once; a send that finds no room (or a connect still in progress) waits
// for writability. After the answer the socket goes back to the pool (pooled) or is closed
// (per-request). With a pool cap, a query that finds every connection busy waits its turn
// (backend-pool.ts) with its client unwatched, as during the query itself.
import { BackendPool, NEW_CONNECTION, QUEUED } from './backend-pool.js';
import { ANSWERED, FAULT, rowFor, type BackendSession } from '../../protocols/backend-session.js';
import { EAGAIN, EINTR, errnoName, SysError } from '../../sys/errno.js';
import { close, connectTcp, recv, send } from '../../sys/socket.js';
import { NONE, READ, WRITE, type Readiness } from './watch.js';

// Backend socket states, in the same per-descriptor state table as the clients' (fd-loop.ts).
/** Bytes wait to be sent (a connect in progress, or a socket that had no room): watched for writing. */
export const BK_SENDING = 5;
/** Everything sent; the session waits for the backend: watched for reading. */
const BK_QUERY = 6;
/** In the pool: watched for reading, so a backend that goes away is noticed. */
const BK_IDLE = 7;

/** Receive buffer shared by every backend socket of the loop; sessions copy what they keep. */
const RECV_BYTES = 16 * 1024;

/** What the loop does for the backend: its state table, and what follows an answer or a fault. */
export interface BackendHost {
  /** Records a backend socket's state (FREE, 0, once closed). */
  mark(fd: number, state: number): void;
  /** The client's query was answered: its held reply may go. */
  answered(client: number): void;
  /** The client's query failed: report it and end the client. */
  failed(client: number, reason: string): void;
  /** The readiness mechanism could not watch a backend socket: a limit of the model. */
  refused(client: number, descriptor: number): void;
}

/** One backend connection: its protocol state, whose query it carries, and what is left to send. */
interface BackendLink {
  readonly session: BackendSession;
  /** The client waiting for this connection's answer, -1 while idle. */
  client: number;
  /** Bytes the socket had no room for yet, or null. */
  unsent: Buffer | null;
}

export class LoopBackend {
  /** Links by descriptor. */
  private readonly links: (BackendLink | null)[] = [];
  private readonly pool: BackendPool<number, number>;
  private queries = 0;
  private readonly buf = Buffer.alloc(RECV_BYTES);

  constructor(
    private readonly readiness: Readiness,
    private readonly host: BackendHost,
    private readonly address: string,
    private readonly port: number,
    private readonly pooled: boolean,
    private readonly newSession: () => BackendSession,
    /** Most backend connections at once when pooled; 0 for none. */
    cap: number,
  ) {
    this.pool = new BackendPool<number, number>(pooled ? cap : 0);
  }

  /** Starts one query for `client`: on an idle pooled socket, a new one, or once one is free. */
  query(client: number): void {
    const b = this.pool.acquire(client);
    if (b === QUEUED) return; // the client stays unwatched until a connection is handed to it
    if (b === NEW_CONNECTION) this.openFor(client);
    else this.start(b, client);
  }

  /** A backend socket is ready; `state` is its entry in the loop's table. */
  ready(b: number, state: number): void {
    if (state === BK_QUERY) this.read(b);
    else if (state === BK_SENDING) this.flush(b);
    else if (state === BK_IDLE) this.checkIdle(b);
  }

  /** Opens a connection (counted by the pool already) for `client`'s query; on failure the next waiter tries. */
  private openFor(client: number): void {
    for (let c: number | undefined = client; c !== undefined; c = this.pool.closed()) {
      let b: number;
      try {
        b = connectTcp(this.address, this.port, { nonBlocking: true });
      } catch (e) {
        this.host.failed(c, `cannot connect to the backend: ${e instanceof SysError ? e.message : String(e)}`);
        continue;
      }
      if (!this.readiness.add(b)) {
        close(b);
        this.host.refused(c, b);
        continue;
      }
      this.links[b] = { session: this.newSession(), client: -1, unsent: null };
      return this.start(b, c);
    }
  }

  private start(b: number, client: number): void {
    const link = this.links[b]!;
    link.client = client;
    link.session.query(rowFor(++this.queries));
    this.flush(b);
  }

  /**
   * Sends what the session has (a message into an empty socket goes whole), then watches for the
   * answer; what finds no room waits for writability, as a connect in progress does.
   */
  private flush(b: number): void {
    const link = this.links[b]!;
    for (let out = link.unsent ?? link.session.take(); out !== null; out = link.session.take()) {
      const sent = send(b, out, out.length);
      if (sent === out.length) continue;
      if (sent >= 0 || sent === -EAGAIN || sent === -EINTR) {
        // The session may reuse its buffer for its next query, but not before this one is answered.
        link.unsent = sent > 0 ? out.subarray(sent) : out;
        this.host.mark(b, BK_SENDING);
        this.readiness.watch(b, WRITE);
        return;
      }
      return this.fault(b, `backend send failed (${errnoName(-sent)})`);
    }
    link.unsent = null;
    this.host.mark(b, BK_QUERY);
    this.readiness.watch(b, READ);
  }

  private read(b: number): void {
    const n = recv(b, this.buf, RECV_BYTES);
    if (n === -EAGAIN || n === -EINTR) return;
    if (n <= 0) return this.fault(b, n === 0 ? 'the backend closed its connection mid-query' : `backend recv failed (${errnoName(-n)})`);
    const link = this.links[b]!;
    const step = link.session.feed(this.buf, 0, n);
    if (step === FAULT) return this.fault(b, link.session.fault ?? 'backend fault');
    if (step === ANSWERED) return this.answered(b, link);
    const out = link.session.take();
    if (out !== null) {
      link.unsent = out;
      this.flush(b);
    }
  }

  /** The answer is in: the socket goes to the next waiter, back to the pool, or is closed. */
  private answered(b: number, link: BackendLink): void {
    const client = link.client;
    link.client = -1;
    if (this.pooled) {
      const next = this.pool.release(b);
      if (next !== undefined) this.start(b, next);
      else {
        this.host.mark(b, BK_IDLE);
        this.readiness.watch(b, READ);
      }
    } else this.lose(b);
    this.host.answered(client);
  }

  /**
   * A pooled socket reported ready while idle: the backend closed it (or sent what nobody asked
   * for), and it leaves the pool. busy-poll asks every socket on every pass, so only a recv that
   * finds something (or an end) counts.
   */
  private checkIdle(b: number): void {
    const n = recv(b, this.buf, RECV_BYTES);
    if (n !== -EAGAIN && n !== -EINTR) this.lose(b);
  }

  private fault(b: number, reason: string): void {
    const client = this.links[b]!.client;
    this.lose(b);
    if (client >= 0) this.host.failed(client, reason);
  }

  /** Closes `b` and gives its place in the pool to the first waiter, which opens a new connection. */
  private lose(b: number): void {
    this.drop(b);
    const next = this.pool.closed(b);
    if (next !== undefined) this.openFor(next);
  }

  /** Closes backend socket `b` (also from the loop's closeAll, where no waiter is served). */
  drop(b: number): void {
    this.links[b] = null;
    this.readiness.watch(b, NONE);
    this.readiness.remove(b);
    close(b);
    this.host.mark(b, 0);
  }
}
