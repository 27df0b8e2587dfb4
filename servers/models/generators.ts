// Coroutines built by hand, the way asyncio was built on selectors before async/await: every
// connection is a function* that yields what it waits for (readable(fd), writable(fd), sleep(ms)),
// and a small scheduler over epoll resumes it with generator.next() when that happens. No
// Promises, no async/await: what the coroutine layer costs shows beside the bare epoll loop (same
// readiness calls, no coroutines) and Node's own loop (libuv, callbacks and promises). In io-wait a
// connection's coroutine delegates to a query coroutine (yield*) that waits on its backend socket
// (and, when the pool is at its cap, parked until a connection is handed to it).
import { performance } from 'node:perf_hooks';
import { BackendPool, NEW_CONNECTION, poolCap, QUEUED } from '../machinery/backend-pool.js';
import type { Protocol } from '../../schema/catalog.js';
import { ANSWERED, FAULT, rowFor, type BackendSession } from '../../protocols/backend-session.js';
import { createSession } from '../../protocols/session.js';
import { EAGAIN, ECONNABORTED, EINTR, errnoName, SysError } from '../../sys/errno.js';
import { Epoll, EPOLLIN, EPOLLOUT } from '../../sys/readiness.js';
import { accept, close, connectTcp, listenTcp, recv, send, setNoDelay, shutdownWrite } from '../../sys/socket.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { burn, type Work } from '../../schema/work.js';
import { backendSessions } from '../machinery/backend-link.js';
import { reportFault } from '../machinery/limit-report.js';
import { runInSlices } from '../machinery/fd-loop.js';

const READABLE = 0, WRITABLE = 1, SLEEP = 2, PARKED = 3;
/** What a coroutine waits for; one object per kind and descriptor would do, but a yield is cheap. */
type Wait =
  | { kind: typeof READABLE | typeof WRITABLE; fd: number }
  | { kind: typeof SLEEP; ms: number }
  | { kind: typeof PARKED; turn: Turn };
type Task = Generator<Wait, void, void>;

const readable = (fd: number): Wait => ({ kind: READABLE, fd });
const writable = (fd: number): Wait => ({ kind: WRITABLE, fd });
export const sleep = (ms: number): Wait => ({ kind: SLEEP, ms });
/** Waits, on no descriptor, until whoever holds `turn` wakes the task (a pooled backend connection freed). */
const parked = (turn: Turn): Wait => ({ kind: PARKED, turn });

/** A coroutine's place in the queue for a backend connection: the task to wake and what it is handed. */
interface Turn {
  task: Task | null;
  /** The connection handed over, or null: open a new one (the pool counted it). */
  link: BackendLink | null;
}

/** One backend connection: its socket and its protocol state. */
interface BackendLink {
  readonly fd: number;
  readonly session: BackendSession;
}

const RECV_BYTES = 64 * 1024;
const WAIT_MS = 20;

/** The scheduler: epoll for descriptors, a sorted list for sleepers, one waiting task per descriptor. */
class Scheduler {
  private readonly ep = new Epoll(1024);
  private readonly waiting = new Map<number, { task: Task; mask: number }>();
  private readonly sleepers: { at: number; task: Task }[] = [];
  /** Tasks woken by another task (a backend connection handed over), run at the next turn. */
  private runnable: Task[] = [];
  /** The descriptor each task last waited on, so it stops being watched once the task waits elsewhere. */
  private readonly lastFd = new WeakMap<Task, number>();
  /** Every descriptor a task owns, so close() can end them all. */
  readonly owned = new Set<number>();

  spawn(task: Task): void {
    this.step(task);
  }

  /** Runs `task` until it yields, and files it under what it now waits for. */
  private step(task: Task): void {
    const r = task.next();
    if (r.done) return;
    const w = r.value;
    if (w.kind === PARKED) {
      w.turn.task = task;
      const last = this.lastFd.get(task);
      if (last !== undefined && this.waiting.get(last)?.task === task) this.park(last); // its client is not watched meanwhile
      this.lastFd.delete(task);
      return;
    }
    if (w.kind === SLEEP) {
      const at = performance.now() + w.ms;
      let i = this.sleepers.length;
      while (i > 0 && this.sleepers[i - 1]!.at > at) i--;
      this.sleepers.splice(i, 0, { at, task });
      return;
    }
    const mask = w.kind === READABLE ? EPOLLIN : EPOLLOUT;
    const last = this.lastFd.get(task);
    if (last !== w.fd) {
      // A client whose coroutine now waits on its backend is not watched meanwhile (nothing more is
      // read from it), and a pooled backend socket is not watched while idle.
      if (last !== undefined && this.waiting.get(last)?.task === task) this.park(last); // not if another task took it since
      this.lastFd.set(task, w.fd);
    }
    const prev = this.waiting.get(w.fd);
    if (prev === undefined) {
      const err = this.ep.add(w.fd, mask);
      if (err < 0) throw new SysError('epoll_ctl', -err);
    } else if (prev.mask !== mask) this.ep.modify(w.fd, mask);
    this.waiting.set(w.fd, { task, mask });
  }

  /** Nobody waits on fd for now: out of the interest list until someone does. */
  park(fd: number): void {
    if (this.waiting.delete(fd)) this.ep.remove(fd);
  }

  /** A task ended with its descriptor: nobody waits on it any more. */
  forget(fd: number): void {
    this.waiting.delete(fd);
    this.owned.delete(fd);
  }

  /** Runs a parked task at the next turn. */
  wake(task: Task): void {
    this.runnable.push(task);
  }

  /** One wait and the tasks it woke; true when it found nothing to do. */
  turn(): boolean {
    let woke = this.runnable.length > 0;
    if (woke) {
      const ready = this.runnable;
      this.runnable = [];
      for (const task of ready) this.step(task);
    }
    const now = performance.now();
    while (this.sleepers.length > 0 && this.sleepers[0]!.at <= now) {
      woke = true;
      this.step(this.sleepers.shift()!.task);
    }
    const timeout = this.sleepers.length > 0 ? Math.max(0, Math.ceil(this.sleepers[0]!.at - now)) : WAIT_MS;
    const n = this.ep.wait(woke || this.runnable.length > 0 ? 0 : timeout);
    if (n < 0 && n !== -EINTR) throw new SysError('epoll_wait', -n);
    for (let k = 0; k < n; k++) {
      const entry = this.waiting.get(this.ep.eventData(k));
      if (entry) this.step(entry.task);
    }
    return n <= 0 && !woke;
  }

  close(): void {
    for (const fd of this.owned) close(fd);
    this.ep.close();
  }
}

/** What a connection does before each reply, and the backend connections of this process. */
interface Before {
  work: Work;
  /** io-wait only: the pool of backend connections and a new session for each. */
  pool: BackendPool<BackendLink, Turn> | null;
  newSession: () => BackendSession;
  /** Receive buffer of every backend query; a session copies what it keeps before its coroutine yields. */
  buf: Buffer;
  queries: number;
}

function beforeOf(work: Work): Before {
  const io = work.kind === 'io-wait';
  return {
    work,
    pool: io ? new BackendPool<BackendLink, Turn>(poolCap(work)) : null,
    newSession: io ? backendSessions(work) : () => { throw new Error('no backend'); },
    buf: Buffer.alloc(io ? 16 * 1024 : 0),
    queries: 0,
  };
}

/**
 * One backend query as a coroutine: the caller's coroutine waits in it (yield*) for a connection
 * (an idle one, a new one, or its turn when the pool is at its cap), then for the answer.
 */
function* backendQuery(s: Scheduler, b: Before, address: string, port: number, pooled: boolean): Generator<Wait, string | null, void> {
  const pool = b.pool!;
  const turn: Turn = { task: null, link: null };
  let got = pool.acquire(turn);
  if (got === QUEUED) {
    yield parked(turn);
    got = turn.link ?? NEW_CONNECTION;
  }
  let link: BackendLink;
  if (got === NEW_CONNECTION) {
    let fd: number;
    try {
      fd = connectTcp(address, port, { nonBlocking: true });
    } catch (e) {
      handOn(s, pool.closed());
      return `cannot connect to the backend: ${e instanceof SysError ? e.message : String(e)}`;
    }
    s.owned.add(fd);
    link = { fd, session: b.newSession() };
  } else link = got;
  let fault: string | null = 'the query was abandoned';
  try {
    return (fault = yield* exchange(link, b));
  } finally {
    if (fault === null && pooled) {
      s.park(link.fd);
      handOn(s, pool.release(link), link);
    } else {
      s.forget(link.fd);
      close(link.fd);
      handOn(s, pool.closed(link));
    }
  }
}

/** Wakes the coroutine whose turn came, with the connection it is handed (none: it opens one). */
function handOn(s: Scheduler, next: Turn | undefined, link: BackendLink | null = null): void {
  if (next === undefined) return;
  next.link = link;
  s.wake(next.task!);
}

/** The session's loop on one connection: send what it has, feed it what arrives, until the answer or a fault. */
function* exchange(link: BackendLink, b: Before): Generator<Wait, string | null, void> {
  const { fd, session } = link;
  session.query(rowFor(++b.queries));
  for (;;) {
    for (let out = session.take(); out !== null; ) {
      const n = send(fd, out, out.length);
      if (n === out.length) break;
      if (n === -EAGAIN || n === -EINTR) yield writable(fd); // a connect still in progress, or no room
      else if (n >= 0) out = out.subarray(n);
      else return `backend send failed (${errnoName(-n)})`;
    }
    const n = recv(fd, b.buf, b.buf.length);
    if (n === -EAGAIN || n === -EINTR) {
      yield readable(fd);
      continue;
    }
    if (n <= 0) return n === 0 ? 'the backend closed its connection mid-query' : `backend recv failed (${errnoName(-n)})`;
    const step = session.feed(b.buf, 0, n);
    if (step === ANSWERED) return null;
    if (step === FAULT) return session.fault ?? 'backend fault';
  }
}

/** Accepts forever, starting one connection coroutine per client. */
function* acceptor(s: Scheduler, listenFd: number, protocol: Protocol, buf: Buffer, before: Before): Task {
  for (;;) {
    const fd = accept(listenFd, true);
    if (fd === -EAGAIN) {
      yield readable(listenFd);
      continue;
    }
    if (fd < 0) {
      if (fd === -ECONNABORTED || fd === -EINTR) continue;
      yield sleep(10); // EMFILE and the like: try again a moment later
      continue;
    }
    s.owned.add(fd);
    s.spawn(connection(s, fd, protocol, buf, before));
  }
}

/** One connection: read, answer through the shared protocol code, until it ends. */
function* connection(s: Scheduler, fd: number, protocol: Protocol, buf: Buffer, before: Before): Task {
  const work = before.work;
  try {
    setNoDelay(fd);
    const session = createSession(protocol);
    for (;;) {
      const n = recv(fd, buf, RECV_BYTES);
      if (n === -EAGAIN || n === -EINTR) {
        yield readable(fd);
        continue;
      }
      if (n <= 0) return;
      let out = session.feed(buf.subarray(0, n));
      if (out !== null && work.kind === 'cpu') burn(work.iterations);
      if (out !== null && work.kind === 'io-wait') {
        if (out.buffer === buf.buffer) out = Buffer.from(out); // other coroutines read into buf meanwhile
        const fault = yield* backendQuery(s, before, work.backendHost, work.backendPort, work.connections === 'pooled');
        if (fault !== null) {
          reportFault(fault);
          return;
        }
      }
      let off = 0;
      while (out !== null && off < out.length) {
        const sent = send(fd, off === 0 ? out : out.subarray(off), out.length - off);
        if (sent === -EAGAIN || sent === -EINTR) {
          // Every coroutine reads into the same buffer: an echo waiting to be sent must own its bytes.
          if (out.buffer === buf.buffer) {
            out = Buffer.from(out.subarray(off));
            off = 0;
          }
          yield writable(fd);
          continue;
        }
        if (sent < 0) return;
        off += sent;
      }
      if (session.closeAfterReply) {
        // The last reply is out: shut the write side and read until the peer closes (fd-loop.ts finish).
        shutdownWrite(fd);
        for (;;) {
          const d = recv(fd, buf, RECV_BYTES);
          if (d === -EAGAIN || d === -EINTR) yield readable(fd);
          else if (d <= 0) return;
        }
      }
    }
  } catch {
    // the peer went away while we set it up: the connection ends
  } finally {
    s.forget(fd);
    close(fd);
  }
}

export function start(o: ModelOptions): Promise<RunningServer> {
  const listener = listenTcp(o.host, o.port, { nonBlocking: true });
  const s = new Scheduler();
  const buf = Buffer.alloc(RECV_BYTES);
  s.spawn(acceptor(s, listener.fd, o.protocol, buf, beforeOf(o.work)));
  // Slices on Node's loop, as the raw-descriptor models run, so a SIGTERM handler can run between them.
  return runInSlices(o.host, listener, { turn: () => s.turn(), stop: () => s.close() });
}
