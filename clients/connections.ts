// The connection table of one load thread: what each of its connections is doing, indexed by the
// connection's local number j. It is a struct of arrays (one typed array per field, allocated once)
// because the loop touches a few fields of one connection per event and must allocate nothing;
// the fields are named, and the ring of requests in flight is reached only through its accessors.
import type { ResponseParser } from '../protocols/http-response.js';

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSED = 2;

export class ConnectionTable {
  /** The connection's socket, or -1. */
  readonly fd: Int32Array;
  /** CONNECTING, OPEN or CLOSED. */
  readonly state: Uint8Array;
  /** 1 once any exchange on this connection was answered (it stays 1 over reopenings). */
  readonly served: Uint8Array;
  /** 1 from a connection's open until its first answer: that answer times connect-to-first-byte. */
  readonly fresh: Uint8Array;
  /** When the connection was opened, ms. */
  readonly connectAt: Float64Array;
  /** Requests in flight: a ring of `depth` slots per connection, oldest at head[j]. */
  readonly inflight: Int32Array;
  private readonly head: Int32Array;
  /** Per slot (see slotOf): when its request was sent and when it was due (open loop), ms. */
  readonly sentAt: Float64Array;
  readonly dueAt: Float64Array;
  /** Operations sent (the schedule index of the next one) and operations due (open loop). */
  readonly sent: Float64Array;
  readonly due: Float64Array;
  /** Bytes handed to send() that the socket did not take yet, from outOff; wantOut: EPOLLOUT asked. */
  readonly outBuf: (Buffer | null)[];
  readonly outOff: Int32Array;
  readonly wantOut: Uint8Array;
  /** Echo: bytes of the oldest message in flight echoed so far. */
  readonly got: Int32Array;
  /** HTTP: the response parser of the connection's current socket. */
  readonly parser: (ResponseParser | null)[];

  constructor(
    readonly count: number,
    /** Requests in flight per connection at most. */
    readonly depth: number,
  ) {
    this.fd = new Int32Array(count).fill(-1);
    this.state = new Uint8Array(count).fill(CLOSED);
    this.served = new Uint8Array(count);
    this.fresh = new Uint8Array(count);
    this.connectAt = new Float64Array(count);
    this.inflight = new Int32Array(count);
    this.head = new Int32Array(count);
    this.sentAt = new Float64Array(count * depth);
    this.dueAt = new Float64Array(count * depth);
    this.sent = new Float64Array(count);
    this.due = new Float64Array(count);
    this.outBuf = new Array(count).fill(null);
    this.outOff = new Int32Array(count);
    this.wantOut = new Uint8Array(count);
    this.got = new Int32Array(count);
    this.parser = new Array(count).fill(null);
  }

  /** The slot of j's oldest request in flight. */
  oldest(j: number): number {
    return j * this.depth + this.head[j]!;
  }

  /** The slot of j's q-th request in flight, oldest first (q = 0 is the oldest). */
  slotOf(j: number, q: number): number {
    return j * this.depth + ((this.head[j]! + q) % this.depth);
  }

  /** Puts a new request in flight on j, sent at `sentAt` and due at `dueAt`; returns its slot. */
  claim(j: number, sentAt: number, dueAt: number): number {
    const idx = j * this.depth + ((this.head[j]! + this.inflight[j]!) % this.depth);
    this.sentAt[idx] = sentAt;
    this.dueAt[idx] = dueAt;
    this.sent[j]!++;
    this.inflight[j]!++;
    return idx;
  }

  /** Takes j's oldest request out of flight (it was answered); returns its slot. */
  release(j: number): number {
    const idx = this.oldest(j);
    this.head[j] = (this.head[j]! + 1) % this.depth;
    this.inflight[j]!--;
    return idx;
  }

  /** Marks j closed; its unanswered operations go back to the schedule, to be sent again. */
  reset(j: number): void {
    this.fd[j] = -1;
    this.state[j] = CLOSED;
    this.sent[j] = Math.max(0, this.sent[j]! - this.inflight[j]!);
    this.inflight[j] = 0;
    this.head[j] = 0;
    this.got[j] = 0;
    this.outBuf[j] = null;
  }

  /** Connections open and answered at least once. */
  answeredOpen(): number {
    let n = 0;
    for (let j = 0; j < this.count; j++) if (this.state[j] === OPEN && this.served[j] === 1) n++;
    return n;
  }
}
