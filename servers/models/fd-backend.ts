// The io-wait backend queries of the raw-descriptor models (busy-poll, select, poll, epoll): each
// backend socket is one more descriptor in the model's own Readiness, beside its clients, so a
// request's wait costs the loop nothing but the readiness it already pays for. A query is sent
// once the socket is connected, its answer read as it arrives, and the socket then goes back to
// the pool (pooled) or is closed (per-request).
import { EAGAIN, EINTR, errnoName, SysError } from '../sys/errno.js';
import { close, connectTcp, recv, send } from '../sys/socket.js';
import { ANSWER_BYTES, checkAnswer, queryBytes } from '../work.js';
import { NONE, READ, WRITE, type Readiness } from './watch.js';

// Backend socket states, in the same per-descriptor state table as the clients' (fd-loop.ts).
/** Connecting: watched for writing; the query goes out once it may. */
export const BK_CONNECTING = 5;
/** Query sent: watched for reading. */
export const BK_QUERY = 6;
/** In the pool: watched for reading, so a backend that goes away is noticed. */
export const BK_IDLE = 7;

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

export class LoopBackend {
  private owner = new Int32Array(1024).fill(-1);
  private at = new Int32Array(1024);
  private readonly queries: (Buffer | null)[] = [];
  private readonly answers: (Buffer | undefined)[] = [];
  /** Pooled sockets not in use. */
  private readonly idle: number[] = [];
  private queryId = 0;
  /** A receive buffer for the idle check only (its bytes are never used). */
  private readonly scratch = Buffer.alloc(256);

  constructor(
    private readonly readiness: Readiness,
    private readonly host: BackendHost,
    private readonly port: number,
    private readonly pooled: boolean,
  ) {}

  /** Sends one query for `client`, on a pooled socket or a new one. */
  query(client: number): void {
    let b = this.pooled ? this.idle.pop() ?? -1 : -1;
    if (b < 0) {
      try {
        b = connectTcp('127.0.0.1', this.port, { nonBlocking: true });
      } catch (e) {
        return this.host.failed(client, `cannot connect to the backend: ${e instanceof SysError ? e.message : String(e)}`);
      }
      if (!this.readiness.add(b)) {
        close(b);
        return this.host.refused(client, b);
      }
      if (b >= this.owner.length) {
        let size = this.owner.length;
        while (size <= b) size *= 2;
        const owner = new Int32Array(size).fill(-1);
        owner.set(this.owner);
        this.owner = owner;
        const at = new Int32Array(size);
        at.set(this.at);
        this.at = at;
      }
    }
    this.owner[b] = client;
    this.queries[b] = queryBytes(++this.queryId);
    this.at[b] = 0;
    this.send(b);
  }

  /** A backend socket is ready; `state` is its entry in the loop's table. */
  ready(b: number, state: number): void {
    if (state === BK_QUERY) this.read(b);
    else if (state === BK_CONNECTING) this.send(b);
    else if (state === BK_IDLE) this.checkIdle(b);
  }

  /** Sends the query (10 bytes into an empty socket: all or nothing), or waits for the connect. */
  private send(b: number): void {
    const q = this.queries[b]!;
    const sent = send(b, q, q.length);
    if (sent === q.length) {
      this.host.mark(b, BK_QUERY);
      this.readiness.watch(b, READ);
    } else if (sent === -EAGAIN || sent === -EINTR) {
      this.host.mark(b, BK_CONNECTING); // the connect is still in progress: send once writable
      this.readiness.watch(b, WRITE);
    } else {
      this.fault(b, sent < 0 ? `backend send failed (${errnoName(-sent)})` : 'short send of a backend query');
    }
  }

  private read(b: number): void {
    const answer = (this.answers[b] ??= Buffer.alloc(ANSWER_BYTES));
    const at = this.at[b]!;
    const n = recv(b, at === 0 ? answer : answer.subarray(at), ANSWER_BYTES - at);
    if (n === -EAGAIN || n === -EINTR) return;
    if (n <= 0) return this.fault(b, n === 0 ? 'the backend closed its connection mid-query' : `backend recv failed (${errnoName(-n)})`);
    this.at[b] = at + n;
    if (at + n < ANSWER_BYTES) return;
    const wrong = checkAnswer(this.queries[b]!, answer);
    if (wrong !== null) return this.fault(b, wrong);
    const client = this.owner[b]!;
    this.owner[b] = -1;
    if (this.pooled) {
      this.host.mark(b, BK_IDLE);
      this.idle.push(b);
    } else this.drop(b);
    this.host.answered(client);
  }

  /**
   * A pooled socket reported ready while idle: the backend closed it (or sent what nobody asked
   * for), and it leaves the pool. busy-poll asks every socket on every pass, so only a recv that
   * finds something (or an end) counts.
   */
  private checkIdle(b: number): void {
    const n = recv(b, this.scratch, this.scratch.length);
    if (n !== -EAGAIN && n !== -EINTR) this.drop(b);
  }

  private fault(b: number, reason: string): void {
    const client = this.owner[b]!;
    this.drop(b);
    if (client >= 0) this.host.failed(client, reason);
  }

  /** Closes backend socket `b` (also from the loop's closeAll). */
  drop(b: number): void {
    const i = this.idle.indexOf(b);
    if (i >= 0) this.idle.splice(i, 1);
    this.owner[b] = -1;
    this.queries[b] = null;
    this.readiness.watch(b, NONE);
    this.readiness.remove(b);
    close(b);
    this.host.mark(b, 0);
  }
}
