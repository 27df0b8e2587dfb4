// What the raw-descriptor models (busy-poll, select, poll, epoll) share: the connection table indexed
// by descriptor, the accept/read/write handlers with partial-write buffering and back-pressure, the
// io-wait queries (fd-backend.ts: backend sockets watched by the same mechanism as the clients), and
// the loop driver that keeps Node's own event loop alive. Each model file supplies only a Readiness:
// how it learns which descriptors are ready.
import { performance } from 'node:perf_hooks';
import type { Protocol } from '../../schema/catalog.js';
import { createSession, type Session } from '../../protocols/session.js';
import { EAGAIN, ECONNABORTED, EINTR } from '../../sys/errno.js';
import { accept, close, listenTcp, recv, send, setNoDelay, shutdownWrite } from '../../sys/socket.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { poolCap } from './backend-pool.js';
import { burn, NO_WORK, type Work } from '../../schema/work.js';
import { backendSessions } from './backend-link.js';
import { reportFault } from './limit-report.js';
import { BK_SENDING, LoopBackend } from './fd-backend.js';
import { printLimit } from './limit-report.js';

export { NONE, READ, WRITE, type Readiness, type WatchMode } from './watch.js';
import { NONE, READ, WRITE, type Readiness } from './watch.js';

/** Longest stretch of wall time the loop keeps the JS thread before yielding to Node's loop, ms. */
const SLICE_MS = 15;
/** One receive buffer for every connection; a read never takes more than this. */
const RECV_BYTES = 64 * 1024;

// Connection states, one byte per descriptor.
const FREE = 0;
/** Watched for reading; nothing waits to be sent. */
const READING = 1;
/** Part of a reply waits to be sent: watched for writing only, so the peer's input is not read. */
const WRITING = 2;
/** The last reply is out and the write side shut: read and discard until the peer closes. */
const DRAINING = 3;
/** A client whose reply waits for its backend answer: not watched, so nothing more is read from it. */
const WAITING = 4;
// States from BK_SENDING up are backend sockets (fd-backend.ts).

/** A copy of `a` with room for index `i`, filled with `fill` past the old end. */
function grown<T extends Int32Array | Uint8Array>(a: T, i: number, fill: number): T {
  let size = a.length;
  while (size <= i) size *= 2;
  const next = new (a.constructor as new (n: number) => T)(size);
  next.fill(fill);
  next.set(a);
  return next;
}

/** Int32Array indexed by descriptor (used by the models for their own per-fd slots). */
export function fdSlots(a: Int32Array, fd: number): Int32Array {
  return fd < a.length ? a : grown(a, fd, -1);
}

/** Every connection of one server, indexed by descriptor, and what to do when one is ready. */
export class Connections {
  readonly listenFd: number;
  private readonly protocol: Protocol;
  private readiness!: Readiness;
  private state = new Uint8Array(1024);
  private readonly sessions: (Session | null)[] = [];
  /**
   * The bytes still to send per descriptor while WRITING. Re-sliced only when a send makes progress,
   * so retrying a blocked socket (busy-poll does on every pass) allocates nothing.
   */
  private readonly pending: (Buffer | null)[] = [];
  private readonly buf = Buffer.alloc(RECV_BYTES);
  /** buf.subarray(0, n) made once per length n, so a read allocates nothing. */
  private readonly views: (Buffer | undefined)[] = [];
  /** Connections closed at once because the readiness mechanism could not watch them. */
  refused = 0;
  private readonly work: Work;
  /** io-wait: the backend queries, and the reply each waiting client holds. */
  private backend: LoopBackend | null = null;
  private readonly held: (Buffer | null)[] = [];

  constructor(listenFd: number, protocol: Protocol, work: Work = NO_WORK) {
    this.listenFd = listenFd;
    this.protocol = protocol;
    this.work = work;
  }

  attach(readiness: Readiness): void {
    this.readiness = readiness;
    const work = this.work;
    if (work.kind !== 'io-wait') return;
    this.backend = new LoopBackend(readiness, {
      mark: (fd, state) => {
        if (fd >= this.state.length) this.state = grown(this.state, fd, FREE);
        this.state[fd] = state;
      },
      answered: (client) => {
        const out = this.held[client]!;
        this.held[client] = null;
        this.state[client] = READING;
        this.readiness.watch(client, READ);
        this.reply(client, out);
      },
      failed: (client, reason) => {
        reportFault(reason);
        this.dropClient(client);
      },
      refused: (client, descriptor) => {
        printLimit({ event: 'limit', reason: `cannot watch the backend socket (descriptor ${descriptor})${readiness.refusedReason ? `: ${readiness.refusedReason(1)}` : ''}` });
        this.dropClient(client);
      },
    }, work.backendHost, work.backendPort, work.connections === 'pooled', backendSessions(work), poolCap(work));
  }

  /** Dispatches a ready descriptor to the accept, read, write or drain handler. */
  ready(fd: number): void {
    if (fd === this.listenFd) return this.acceptAll();
    const s = this.state[fd];
    if (s === READING) this.read(fd);
    else if (s === WRITING) this.flush(fd);
    else if (s === DRAINING) this.drain(fd);
    else if (s! >= BK_SENDING) this.backend!.ready(fd, s!);
    // WAITING: the client is not read until its answer arrives (busy-poll tries it anyway).
  }

  private acceptAll(): void {
    for (;;) {
      const fd = accept(this.listenFd, true);
      if (fd < 0) {
        if (fd === -ECONNABORTED || fd === -EINTR) continue;
        return; // EAGAIN: none left. EMFILE and the like: the listener stays ready, tried again next round.
      }
      if (!this.readiness.add(fd)) {
        close(fd);
        this.refused++;
        continue;
      }
      if (fd >= this.state.length) this.state = grown(this.state, fd, FREE);
      this.state[fd] = READING;
      this.sessions[fd] = createSession(this.protocol);
      this.pending[fd] = null;
      try {
        setNoDelay(fd);
      } catch {
        this.drop(fd); // the peer is already gone
      }
    }
  }

  private read(fd: number): void {
    const n = recv(fd, this.buf, RECV_BYTES);
    if (n <= 0) {
      if (n !== -EAGAIN && n !== -EINTR) this.drop(fd); // 0: end of stream; else a reset
      return;
    }
    const session = this.sessions[fd]!;
    const out = session.feed(this.views[n] ?? (this.views[n] = this.buf.subarray(0, n)));
    if (out === null) {
      if (session.closeAfterReply) this.finish(fd);
      return;
    }
    const work = this.work;
    if (work.kind === 'io-wait') return this.query(fd, out);
    if (work.kind === 'cpu') burn(work.iterations); // on the loop: every other connection waits
    this.reply(fd, out);
  }

  /** Holds the client's reply while its backend query is out; the client is not read meanwhile. */
  private query(client: number, out: Buffer): void {
    this.held[client] = out.buffer === this.buf.buffer ? Buffer.from(out) : out; // the next read overwrites buf
    this.state[client] = WAITING;
    this.readiness.watch(client, NONE);
    this.backend!.query(client);
  }

  private dropClient(client: number): void {
    this.held[client] = null;
    this.drop(client);
  }

  /** Sends `out` now; what the socket does not take is kept and the connection waits for writability. */
  private reply(fd: number, out: Buffer): void {
    const len = out.length;
    const sent = send(fd, out, len);
    if (sent === len) {
      if (this.sessions[fd]!.closeAfterReply) this.finish(fd);
      return;
    }
    if (sent < 0 && sent !== -EAGAIN && sent !== -EINTR) return this.drop(fd);
    const rest = sent > 0 ? out.subarray(sent) : out;
    // A reply in the receive buffer (echo) is overwritten by the next read anywhere: copy the rest.
    // Anything else (HTTP replies) belongs to this connection already and is kept as is.
    this.pending[fd] = out.buffer === this.buf.buffer ? Buffer.from(rest) : rest;
    this.state[fd] = WRITING;
    this.readiness.watch(fd, WRITE);
  }

  private flush(fd: number): void {
    const p = this.pending[fd]!;
    const sent = send(fd, p, p.length);
    if (sent === p.length) {
      this.pending[fd] = null;
      this.state[fd] = READING;
      this.readiness.watch(fd, READ);
      if (this.sessions[fd]!.closeAfterReply) this.finish(fd);
      return;
    }
    if (sent < 0 && sent !== -EAGAIN && sent !== -EINTR) return this.drop(fd);
    if (sent > 0) this.pending[fd] = p.subarray(sent);
  }

  /**
   * The session asked to close after its last reply, which is out. Shutting the write side and
   * reading until the peer closes (rather than closing at once) keeps unread request bytes from
   * turning the close into a reset that could destroy the reply in flight.
   */
  private finish(fd: number): void {
    shutdownWrite(fd);
    this.state[fd] = DRAINING;
  }

  private drain(fd: number): void {
    const n = recv(fd, this.buf, RECV_BYTES);
    if (n === 0 || (n < 0 && n !== -EAGAIN && n !== -EINTR)) this.drop(fd);
  }

  private drop(fd: number): void {
    this.readiness.remove(fd);
    close(fd);
    this.state[fd] = FREE;
    this.sessions[fd] = null;
    this.pending[fd] = null;
  }

  closeAll(): void {
    for (let fd = 0; fd < this.state.length; fd++) {
      const s = this.state[fd]!;
      if (s >= BK_SENDING) this.backend!.drop(fd);
      else if (s !== FREE) this.dropClient(fd);
    }
  }
}

/**
 * Listens, then runs `readiness` in slices of at most SLICE_MS (or until a wait finds nothing to do),
 * yielding to Node's loop between slices with setImmediate so signal handlers (and close()) can run.
 * close() only sets a flag; the next slice sees it, closes every descriptor and resolves.
 */
export function serveFds(o: ModelOptions, makeReadiness: (conns: Connections) => Readiness, waitMs: number): Promise<RunningServer> {
  const listener = listenTcp(o.host, o.port, { nonBlocking: true });
  const conns = new Connections(listener.fd, o.protocol, o.work);
  let readiness: Readiness;
  try {
    readiness = makeReadiness(conns);
    conns.attach(readiness);
    if (!readiness.add(listener.fd)) throw new Error(`cannot watch the listening socket (descriptor ${listener.fd})`);
  } catch (e) {
    close(listener.fd);
    throw e;
  }
  let reported = false;
  const reportLimit = (): void => {
    if (reported || conns.refused === 0 || !readiness.refusedReason) return;
    reported = true;
    printLimit({ event: 'limit', reason: readiness.refusedReason(conns.refused) });
  };
  return runInSlices(o.host, listener, {
    turn: () => readiness.turn(waitMs),
    afterSlice: reportLimit,
    stop: () => {
      reportLimit();
      conns.closeAll();
      readiness.close();
    },
  });
}

/**
 * Runs `turn` (true: it found nothing to do) in slices of at most SLICE_MS on Node's loop, yielding
 * between slices with setImmediate so signal handlers (and close()) can run. close() only sets a
 * flag; the next slice sees it, calls `stop`, closes the listener and resolves. Shared by the
 * raw-descriptor models and generators.
 */
export function runInSlices(
  host: string,
  listener: { fd: number; port: number },
  loop: { turn: () => boolean; afterSlice?: () => void; stop: () => void },
): Promise<RunningServer> {
  const { turn, afterSlice, stop } = loop;
  let stopping = false;
  let closed!: () => void;
  const done = new Promise<void>((resolve) => (closed = resolve));
  const slice = (): void => {
    if (stopping) {
      stop();
      close(listener.fd);
      closed();
      return;
    }
    const until = performance.now() + SLICE_MS;
    while (!turn() && performance.now() < until);
    afterSlice?.();
    setImmediate(slice);
  };
  setImmediate(slice);
  return Promise.resolve({
    host,
    port: listener.port,
    close: () => {
      stopping = true;
      return done;
    },
  });
}
