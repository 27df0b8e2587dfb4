// The bookkeeping of io-wait's backend connections in one server process, shared by the loops
// (fd-backend.ts), generators, io-uring and the awaited service backend: which connections are
// idle, how many are open, and who waits, first come first served, for one when `cap` are busy.
// Pure: it never opens or closes anything. A driver asks acquire() for a connection, opens one when
// told NEW_CONNECTION, and reports each connection back once: release() after an answer (kept), closed()
// after a fault, an end, a per-request query or a failed open. Either may hand the connection (or
// the right to open one) to the first live waiter, which the driver then serves.

/** acquire(): no connection is idle and the cap allows one more: the caller opens it (already counted). */
export const NEW_CONNECTION: unique symbol = Symbol('open a backend connection');
/** acquire(): `cap` connections are busy: the waiter is queued and handed one by release() or closed(). */
export const QUEUED: unique symbol = Symbol('queued for a backend connection');

export class BackendPool<C, W> {
  private readonly idle: C[] = [];
  /** Waiters in arrival order from `head` on (a queue without shift()'s copying). */
  private queue: W[] = [];
  private head = 0;
  /** Connections open or being opened: idle, busy and granted ones. */
  private open = 0;
  /** The most connections open at once so far. */
  peak = 0;

  /**
   * @param cap most connections open at once; 0 for no cap (one per query in flight).
   * @param alive false for a waiter that left while it waited (its client closed): it is skipped.
   */
  constructor(
    readonly cap: number,
    private readonly alive: (w: W) => boolean = () => true,
  ) {}

  /** An idle connection for `w`, NEW_CONNECTION (the caller opens one), or QUEUED (`w` waits its turn). */
  acquire(w: W): C | typeof NEW_CONNECTION | typeof QUEUED {
    const c = this.idle.pop();
    if (c !== undefined) return c;
    if (this.cap === 0 || this.open < this.cap) {
      this.peak = Math.max(this.peak, ++this.open);
      return NEW_CONNECTION;
    }
    this.queue.push(w);
    return QUEUED;
  }

  /**
   * `c` answered its query and stays open: the first live waiter, to be served on `c` now, or
   * undefined (c is idle until acquired).
   */
  release(c: C): W | undefined {
    const w = this.next();
    if (w === undefined) this.idle.push(c);
    return w;
  }

  /**
   * A connection is gone (closed after a fault, an end or a per-request query, or never opened):
   * `c` leaves the idle list if it was there, and the first live waiter, if any, may open a new one
   * (counted already) and is returned.
   */
  closed(c: C | null = null): W | undefined {
    if (c !== null) {
      const i = this.idle.indexOf(c);
      if (i >= 0) this.idle.splice(i, 1);
    }
    const w = this.next();
    if (w === undefined) this.open--;
    return w;
  }

  /** Connections not in use, for a driver that must look after them (or close them at the end). */
  idleConnections(): readonly C[] {
    return this.idle;
  }

  /** Waiters still queued (left ones included until they are skipped). */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  private next(): W | undefined {
    while (this.head < this.queue.length) {
      const w = this.queue[this.head]!;
      this.queue[this.head++] = undefined as W; // not kept alive by the queue
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (this.alive(w)) return w;
    }
    return undefined;
  }
}

/** The cap a server's pool gets from its work: `pool` when pooled, none per request (it keeps nothing). */
export function poolCap(work: { connections: 'pooled' | 'per-request'; pool: number }): number {
  return work.connections === 'pooled' ? work.pool : 0;
}
