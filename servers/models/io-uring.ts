// Completion-based I/O with io_uring, from JavaScript through koffi (sys/uring.ts): the
// program asks for an operation and the kernel does it, copy included, and reports completion.
// One thread, one ring, the same protocol sessions as every other model.
//
// What it uses, and why:
// - Multishot accept: one SQE accepts every connection (Linux 5.19), so accepting costs no
//   submission per client.
// - Multishot recv with a provided-buffer ring: one SQE per connection receives everything it
//   sends, into buffers the kernel picks from a shared pool of BUFFERS × BUFFER_BYTES. Memory is
//   then the pool, not a buffer per connection (the C10K shape), and there is no readiness step:
//   the data is already copied when the completion arrives. A recv that finds the pool empty ends
//   (ENOBUFS) and is armed again once buffers come back.
// - Sends are single-shot, one in flight per connection, in order. An echo is sent from the
//   provided buffer it arrived in, which goes back to the pool when the send completes; an HTTP
//   reply is a JavaScript Buffer, kept referenced until its completion.
// - DEFER_TASKRUN and SINGLE_ISSUER when the kernel has them (6.1): completions are run only when
//   this thread enters the kernel, in batches, with no interrupts of its work in between.
// - io-wait: each backend connection is a record with its session (protocols/backend-session.ts).
//   A query on a new socket is a linked chain, connect → send → recv; on a pooled one, send →
//   recv. Each recv completion feeds the session: when it has more to say (a login's next step) a
//   send linked to a recv follows, else a recv, until the answer. With a pool cap a query that
//   finds every connection busy waits its turn (backend-pool.ts).
// Not used: fixed files and registered buffers (more set-up for little here), SQPOLL (a kernel
// thread spinning on a second core would make CPU per request incomparable with the other models).
//
// A completion names its connection by descriptor and generation (user_data), so a late completion
// for a connection already closed, whose descriptor a new client may have now, is recognised and
// only returns its buffer. io_uring refused (ENOSYS, EPERM) is the model's limit, not a crash.
import { BackendPool, NEW_CONNECTION, poolCap, QUEUED } from '../machinery/backend-pool.js';
import type { Protocol } from '../../schema/catalog.js';
import { ANSWERED, FAULT, rowFor, type BackendSession } from '../../protocols/backend-session.js';
import { createSession, type Session } from '../../protocols/session.js';
import { errnoName } from '../../sys/errno.js';
import { close, listenTcp, setNoDelay, shutdownBoth, shutdownWrite, sockaddrIn, tcpSocket } from '../../sys/socket.js';
import {
  ACCEPT_MULTISHOT, addressOf, CQE_F_BUFFER, CQE_F_MORE, IOSQE_BUFFER_SELECT, IOSQE_IO_LINK, OP_ACCEPT, OP_CONNECT, OP_RECV, OP_SEND,
  RECV_MULTISHOT, Uring, UringUnavailable, type BufferRing,
} from '../../sys/uring.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { burn, type IoWaitWork, type Work } from '../../schema/work.js';
import { backendSessions } from '../machinery/backend-link.js';
import { reportFault } from '../machinery/limit-report.js';
import { runInSlices } from '../machinery/fd-loop.js';
import { printLimit } from '../machinery/limit-report.js';

const RING_ENTRIES = 4096;
const BUFFERS = 1024; // a power of two
const BUFFER_BYTES = 16 * 1024;
const GROUP = 0;
const WAIT_MS = 20;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
const ENOBUFS = 105;
const ECANCELED = 125;
/** Receive buffer of one backend connection; its session copies what it keeps. */
const BACKEND_RECV_BYTES = 4096;

// user_data: the low word is a descriptor (accept, recv) or a record (send, backend); the high
// word is the kind in its low 4 bits and a generation above them.
const K_ACCEPT = 1, K_RECV = 2, K_SEND = 3, K_BACKEND = 4;
const GEN_MASK = 0x0fff_ffff;

const FREE = 0, OPEN = 1, DRAINING = 2;

/** One send in flight: what it sends (kept referenced until its completion) and for whom. */
interface SendRecord {
  fd: number;
  gen: number;
  buf: Buffer;
  off: number;
  /** The provided buffer it is sent from (echo), returned on completion; -1 for none. */
  bid: number;
}

/** One backend connection: its socket, its protocol state and the query it carries. */
interface BackendRecord {
  fd: number;
  session: BackendSession;
  /** The client waiting for this answer, and its generation. */
  client: number;
  gen: number;
  /** What the send in flight sends, kept referenced until its completion; null when none is out. */
  out: Buffer | null;
  /** Where every recv of this connection lands. */
  buf: Buffer;
  /** A fault already reported for this chain: its later, cancelled links are ignored. */
  failed: boolean;
  /** This query's number in user_data (a counter of the server's), so a completion of an earlier one is told apart. */
  seq: number;
}

/** A client whose query waits for a pooled connection; a client that left meanwhile is skipped. */
interface BackendWaiter {
  client: number;
  gen: number;
}

class Server {
  private readonly ring: Uring;
  private readonly buffers: BufferRing;
  private state = new Uint8Array(1024);
  private gens = new Uint32Array(1024);
  private readonly sessions: (Session | null)[] = [];
  /** Sends waiting for the one in flight, per connection. */
  private readonly queued: SendRecord[][] = [];
  private readonly sending: (SendRecord | null)[] = [];
  /** Records of sends in flight, by index (user_data's low word), and free indexes. */
  private readonly sends: (SendRecord | null)[] = [];
  private readonly freeSends: number[] = [];
  /** Connections whose multishot recv ended for want of buffers: armed again once some come back. */
  private starved: number[] = [];
  private buffersGiven = false;
  // io-wait: replies waiting for their query, per connection, and the backend records.
  private readonly awaiting: Buffer[][] = [];
  private querying = new Uint8Array(1024);
  private readonly backends: (BackendRecord | null)[] = [];
  private readonly freeBackends: number[] = [];
  private readonly pool: BackendPool<number, BackendWaiter>;
  private readonly newSession: (() => BackendSession) | null;
  private queryId = 0;
  private backendSeq = 0;
  private readonly backendAddr: Buffer | null;
  private accepting = false;

  constructor(
    private readonly listenFd: number,
    private readonly protocol: Protocol,
    private readonly work: Work,
  ) {
    this.ring = new Uring(RING_ENTRIES);
    try {
      this.buffers = this.ring.provideBuffers(GROUP, BUFFERS, BUFFER_BYTES);
    } catch (e) {
      this.ring.close();
      throw e;
    }
    this.backendAddr = work.kind === 'io-wait' ? sockaddrIn(work.backendHost, work.backendPort) : null;
    this.newSession = work.kind === 'io-wait' ? backendSessions(work) : null;
    this.pool = new BackendPool(work.kind === 'io-wait' ? poolCap(work) : 0, (w) => this.state[w.client] !== FREE && this.gens[w.client] === w.gen);
    this.armAccept();
  }

  private armAccept(): void {
    this.ring.prep(OP_ACCEPT, this.listenFd, 0, 0, SOCK_CLOEXEC, 0, K_ACCEPT, 0, ACCEPT_MULTISHOT);
    this.accepting = true;
  }

  private armRecv(fd: number): void {
    this.ring.prep(OP_RECV, fd, 0, 0, 0, fd, K_RECV | (this.gens[fd]! << 4), IOSQE_BUFFER_SELECT, RECV_MULTISHOT, GROUP);
  }

  /** One wait for completions and their handling; true when the wait found none. */
  turn(): boolean {
    const r = this.ring.submit(1, WAIT_MS);
    if (r < 0 && r !== -4 && r !== -62 && r !== -16) throw new Error(`io_uring_enter: ${errnoName(-r)}`); // EINTR, ETIME, EBUSY: just reap
    const n = this.ring.reap((lo, hi, res, flags) => this.complete(lo, hi, res, flags));
    if (this.buffersGiven) {
      this.buffers.publish();
      this.buffersGiven = false;
      if (this.starved.length > 0) {
        const again = this.starved;
        this.starved = [];
        for (const fd of again) if (this.state[fd] !== FREE) this.armRecv(fd);
      }
    }
    if (!this.accepting) this.armAccept();
    return n === 0;
  }

  private giveBack(bid: number): void {
    this.buffers.give(bid);
    this.buffersGiven = true;
  }

  private complete(lo: number, hi: number, res: number, flags: number): void {
    const kind = hi & 0xf;
    if (kind === K_RECV) return this.received(lo, hi >>> 4, res, flags);
    if (kind === K_SEND) return this.sent(lo, res);
    if (kind === K_BACKEND) return this.backendDone(lo, (hi >>> 4) & 0xf, hi >>> 8, res);
    if (kind === K_ACCEPT) {
      if ((flags & CQE_F_MORE) === 0) this.accepting = false; // re-armed at the end of the turn
      if (res >= 0) this.open(res);
    }
  }

  private open(fd: number): void {
    if (fd >= this.state.length) {
      let size = this.state.length;
      while (size <= fd) size *= 2;
      const state = new Uint8Array(size);
      state.set(this.state);
      this.state = state;
      const gens = new Uint32Array(size);
      gens.set(this.gens);
      this.gens = gens;
      const querying = new Uint8Array(size);
      querying.set(this.querying);
      this.querying = querying;
    }
    try {
      setNoDelay(fd);
    } catch {
      close(fd);
      return;
    }
    this.state[fd] = OPEN;
    this.sessions[fd] = createSession(this.protocol);
    this.queued[fd] = [];
    this.sending[fd] = null;
    this.awaiting[fd] = [];
    this.armRecv(fd);
  }

  private received(fd: number, gen: number, res: number, flags: number): void {
    const bid = (flags & CQE_F_BUFFER) !== 0 ? flags >>> 16 : -1;
    const live = this.state[fd] !== FREE && (this.gens[fd]! & GEN_MASK) === gen;
    if (!live) {
      if (bid >= 0) this.giveBack(bid); // a late completion for a connection already closed
      return;
    }
    if (res <= 0) {
      if (res === -ENOBUFS) {
        if ((flags & CQE_F_MORE) === 0) this.starved.push(fd);
        return;
      }
      return this.end(fd); // 0: the peer closed; else a reset
    }
    const more = (flags & CQE_F_MORE) !== 0;
    if (this.state[fd] === DRAINING) {
      this.giveBack(bid);
    } else {
      const session = this.sessions[fd]!;
      const data = this.buffers.view(bid).subarray(0, res);
      const out = session.feed(data);
      if (out === null) {
        this.giveBack(bid);
        if (session.closeAfterReply) this.finish(fd);
      } else if (out.buffer === data.buffer && this.work.kind !== 'io-wait') {
        this.reply(fd, out, bid); // an echo is the received bytes themselves: its buffer returns when the send is done
      } else {
        // HTTP replies are built elsewhere; an echo waiting on the backend would hold a pool buffer for milliseconds.
        const own = out.buffer === data.buffer ? Buffer.from(out) : out;
        this.giveBack(bid);
        this.reply(fd, own, -1);
      }
    }
    if (!more && this.state[fd] !== FREE) this.armRecv(fd);
  }

  private reply(fd: number, out: Buffer, bid: number): void {
    const work = this.work;
    if (work.kind === 'cpu') burn(work.iterations);
    if (work.kind === 'io-wait') {
      this.awaiting[fd]!.push(out);
      if (this.querying[fd] === 0) this.query(fd);
      return;
    }
    this.send(fd, out, bid);
  }

  private send(fd: number, buf: Buffer, bid: number): void {
    const rec: SendRecord = { fd, gen: this.gens[fd]!, buf, off: 0, bid };
    if (this.sending[fd] !== null) this.queued[fd]!.push(rec);
    else this.submitSend(rec);
  }

  private submitSend(rec: SendRecord): void {
    const id = this.freeSends.pop() ?? this.sends.length;
    this.sends[id] = rec;
    this.sending[rec.fd] = rec;
    const address = rec.bid >= 0 ? this.buffers.address(rec.bid) : addressOf(rec.buf);
    this.ring.prep(OP_SEND, rec.fd, address + rec.off, rec.buf.length - rec.off, MSG_NOSIGNAL, id, K_SEND);
  }

  private sent(id: number, res: number): void {
    const rec = this.sends[id]!;
    this.sends[id] = null;
    this.freeSends.push(id);
    const fd = rec.fd;
    const live = this.state[fd] !== FREE && this.gens[fd] === rec.gen;
    if (res > 0 && rec.off + res < rec.buf.length && live) {
      rec.off += res; // a partial send: the rest, from where it stopped
      return this.submitSend(rec);
    }
    if (rec.bid >= 0) this.giveBack(rec.bid);
    if (!live) return;
    this.sending[fd] = null;
    if (res < 0) return this.end(fd);
    const next = this.queued[fd]!.shift();
    if (next) return this.submitSend(next);
    if (this.sessions[fd]!.closeAfterReply && this.awaiting[fd]!.length === 0) this.finish(fd);
  }

  /**
   * The last reply is out: shut the write side and read until the peer closes (fd-loop.ts finish),
   * so unread request bytes do not turn the close into a reset that could destroy the reply.
   */
  private finish(fd: number): void {
    if (this.state[fd] !== OPEN || this.sending[fd] !== null) return;
    shutdownWrite(fd);
    this.state[fd] = DRAINING;
  }

  /** Ends a connection now: its multishot recv completes (at once, after shutdown) as a stale one. */
  private end(fd: number): void {
    if (this.state[fd] === FREE) return;
    for (const rec of this.queued[fd]!) if (rec.bid >= 0) this.giveBack(rec.bid);
    this.queued[fd] = [];
    this.sending[fd] = null; // its completion, if one is in flight, still returns its buffer
    this.awaiting[fd] = [];
    this.querying[fd] = 0; // a query still out completes as a stale one
    this.sessions[fd] = null;
    this.state[fd] = FREE;
    this.gens[fd] = (this.gens[fd]! + 1) & GEN_MASK;
    shutdownBoth(fd);
    close(fd);
  }

  // ---- io-wait: the backend query as linked SQEs ----

  private get pooled(): boolean {
    return (this.work as IoWaitWork).connections === 'pooled';
  }

  private query(client: number): void {
    this.querying[client] = 1;
    const waiter: BackendWaiter = { client, gen: this.gens[client]! };
    const got = this.pool.acquire(waiter);
    if (got === QUEUED) return; // handed a connection by release() or closed() when its turn comes
    if (got === NEW_CONNECTION) this.openFor(waiter);
    else this.startQuery(got, waiter, false);
  }

  /** A new backend record for `waiter`'s query (the pool counted it); if none can be opened, the next waiter tries. */
  private openFor(waiter: BackendWaiter): void {
    for (let w: BackendWaiter | undefined = waiter; w !== undefined; w = this.pool.closed()) {
      const fd = tcpSocket();
      if (fd < 0) {
        this.backendFault(w.client, `cannot open a backend socket (${errnoName(-fd)})`, w.gen);
        continue;
      }
      const id = this.freeBackends.pop() ?? this.backends.length;
      this.backends[id] = { fd, session: this.newSession!(), client: w.client, gen: w.gen, out: null, buf: Buffer.alloc(BACKEND_RECV_BYTES), failed: false, seq: 0 };
      return this.startQuery(id, w, true);
    }
  }

  private tag(b: BackendRecord, step: number): number {
    return K_BACKEND | (step << 4) | (b.seq << 8);
  }

  private startQuery(id: number, w: BackendWaiter, fresh: boolean): void {
    const b = this.backends[id]!;
    b.client = w.client;
    b.gen = w.gen;
    b.failed = false;
    b.seq = this.backendSeq = (this.backendSeq + 1) & 0xff_ffff;
    b.session.query(rowFor(++this.queryId));
    // connect → send → recv, linked: each starts when the one before succeeded; a failure cancels the rest.
    if (fresh) this.ring.prep(OP_CONNECT, b.fd, addressOf(this.backendAddr!), 0, 0, id, this.tag(b, 1), IOSQE_IO_LINK, 0, 0, 16);
    this.sendThenRecv(id, b);
  }

  /** What the session has to say, linked to the recv of what comes back; only a recv when it has nothing. */
  private sendThenRecv(id: number, b: BackendRecord): void {
    const out = b.session.take();
    b.out = out;
    if (out !== null) this.ring.prep(OP_SEND, b.fd, addressOf(out), out.length, MSG_NOSIGNAL, id, this.tag(b, 2), IOSQE_IO_LINK);
    this.ring.prep(OP_RECV, b.fd, addressOf(b.buf), b.buf.length, 0, id, this.tag(b, 3));
  }

  private backendDone(id: number, step: number, seq: number, res: number): void {
    const b = this.backends[id];
    if (!b || b.seq !== seq || b.failed) return; // an earlier query's completion, or a link cancelled after a fault
    if (res < 0) {
      return this.backendFailed(id, b, res === -ECANCELED ? 'backend request cancelled' : `backend ${step === 1 ? 'connect' : step === 2 ? 'send' : 'recv'} failed (${errnoName(-res)})`);
    }
    if (step === 2) {
      const whole = res === b.out!.length;
      b.out = null;
      return whole ? undefined : this.backendFailed(id, b, 'short send of a backend query');
    }
    if (step !== 3) return;
    if (res === 0) return this.backendFailed(id, b, 'the backend closed its connection mid-query');
    const st = b.session.feed(b.buf, 0, res);
    if (st === FAULT) return this.backendFailed(id, b, b.session.fault ?? 'backend fault');
    if (st !== ANSWERED) return this.sendThenRecv(id, b);
    this.backendAnswered(id, b);
  }

  /** The answer is in: the connection goes to the next waiter, to the pool, or is closed; the client's reply goes. */
  private backendAnswered(id: number, b: BackendRecord): void {
    const { client, gen } = b;
    if (this.pooled) {
      const next = this.pool.release(id);
      if (next !== undefined) this.startQuery(id, next, false);
    } else this.dropBackend(id, null);
    if (this.state[client] === FREE || this.gens[client] !== gen) return; // the client left meanwhile
    this.querying[client] = 0;
    const out = this.awaiting[client]!.shift()!;
    this.send(client, out, -1);
    if (this.awaiting[client]!.length > 0) this.query(client);
  }

  private backendFailed(id: number, b: BackendRecord, fault: string): void {
    b.failed = true;
    this.dropBackend(id, fault);
  }

  /**
   * Closes a backend connection (shut first, so a link still in flight completes now, as a stale
   * one) and gives its place in the pool to the first waiter, which opens a new one.
   */
  private dropBackend(id: number, fault: string | null): void {
    const b = this.backends[id]!;
    if (fault !== null) shutdownBoth(b.fd);
    close(b.fd);
    this.backends[id] = null;
    this.freeBackends.push(id);
    const next = this.pool.closed(id);
    if (fault !== null) this.backendFault(b.client, fault, b.gen);
    if (next !== undefined) this.openFor(next);
  }

  private backendFault(client: number, fault: string, gen = this.gens[client]!): void {
    reportFault(fault);
    if (this.state[client] !== FREE && this.gens[client] === gen) this.end(client);
  }

  closeAll(): void {
    for (let fd = 0; fd < this.state.length; fd++) if (this.state[fd] !== FREE) this.end(fd);
    for (const b of this.backends) if (b) close(b.fd);
    this.ring.close();
  }
}

export function start(o: ModelOptions): Promise<RunningServer> {
  const listener = listenTcp(o.host, o.port, { nonBlocking: false });
  let server: Server;
  try {
    server = new Server(listener.fd, o.protocol, o.work);
  } catch (e) {
    close(listener.fd);
    if (e instanceof UringUnavailable) printLimit({ event: 'limit', reason: e.message });
    throw e;
  }
  return runInSlices(o.host, listener, { turn: () => server.turn(), stop: () => server.closeAll() });
}
