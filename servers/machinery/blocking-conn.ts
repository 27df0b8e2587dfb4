// Blocking I/O on one connection, shared by process-per-connection, prefork and thread-per-connection:
// recv, feed the shared protocol session, send everything back, until the peer closes or the server
// stops. Also the blocking accept those models' acceptors wait in, and the work before a reply that
// thread-pool's threads block in.
//
// Stopping: a thread blocked in recv() cannot see a flag, so threads pass a StopFlag and the socket
// gets SO_RCVTIMEO/SO_SNDTIMEO; a call that times out returns -EAGAIN, and the loop looks at the
// flag and blocks again. Child processes pass no flag: they install no SIGTERM handler, so the
// signal's default action ends them at once, even inside recv(), and they never wake up for nothing.
import type { Protocol } from '../../schema/catalog.js';
import { createSession } from '../../protocols/session.js';
import { EAGAIN, EBADF, ECONNABORTED, EINTR, EINVAL, EMFILE, ENFILE, ENOMEM, errnoName, SysError } from '../../sys/errno.js';
import { accept, close, recv, send, setIoTimeout, setNoDelay, shutdownWrite, sleepNs } from '../../sys/socket.js';
import type { BlockingBackend } from './backend-blocking.js';
import { burn, type Work } from '../../schema/work.js';
import { reportFault } from './limit-report.js';

/** How long a blocked recv/send/accept waits before it looks at the stop flag again, ms. */
export const IO_TIMEOUT_MS = 200;
/** Receive buffer per thread, bytes. */
const RECV_BYTES = 64 * 1024;
/** After the last reply of a closing HTTP connection, how long unread request bytes are drained, ms. */
const LINGER_MS = 1000;
/** Back-off after accept() fails for want of descriptors or memory, ns. */
const EXHAUSTED_BACKOFF_NS = 10_000_000;

/** A stop flag that any thread can set and every thread sees: one Int32 in a SharedArrayBuffer. */
export class StopFlag {
  readonly buffer: SharedArrayBuffer;
  private readonly cell: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.buffer = buffer;
    this.cell = new Int32Array(buffer, 0, 1);
  }

  get stopped(): boolean {
    return Atomics.load(this.cell, 0) !== 0;
  }

  stop(): void {
    Atomics.store(this.cell, 0, 1);
  }
}

// One receive buffer per thread (module state is per thread), reused by every connection it serves.
let recvBuffer: Buffer | undefined;

/**
 * What runs before each reply: nothing, the CPU loop, or a backend query this thread blocks on.
 * Returns a fault (the connection then ends) or null.
 */
export type BeforeReply = ((stop: StopFlag | null) => string | null) | null;

export function beforeReply(work: Work, backend: BlockingBackend | null): BeforeReply {
  if (work.kind === 'cpu') {
    const n = work.iterations;
    return () => (burn(n), null);
  }
  if (work.kind === 'io-wait' && backend !== null) return (stop) => backend.query(() => stop?.stopped === true);
  return null;
}

/**
 * Serves the connection `fd` with blocking recv/send until the peer closes, an error, the protocol
 * asks to close, or `stop` is set; then closes `fd`. Never throws.
 */
export function serveConnection(fd: number, protocol: Protocol, stop: StopFlag | null, before: BeforeReply = null): void {
  try {
    setNoDelay(fd); // the same on the wire as every other model
    if (stop) setIoTimeout(fd, IO_TIMEOUT_MS);
  } catch {
    close(fd); // the peer is already gone (setsockopt on a dead socket)
    return;
  }
  const session = createSession(protocol);
  const buf = (recvBuffer ??= Buffer.allocUnsafe(RECV_BYTES));
  for (;;) {
    if (stop?.stopped) break;
    const n = recv(fd, buf, buf.length);
    if (n > 0) {
      // Echo hands back `buf` itself: it is sent in full before the next recv overwrites it.
      const out = session.feed(buf.subarray(0, n));
      if (out !== null && before !== null) {
        const fault = before(stop);
        if (fault !== null) {
          reportFault(fault);
          break;
        }
      }
      if (out !== null && !sendAll(fd, out, stop)) break;
      if (session.closeAfterReply) return lingerClose(fd);
    } else if (n === 0) {
      break; // end of stream
    } else if (n !== -EINTR && n !== -EAGAIN) {
      break; // ECONNRESET and the like: the peer is gone. -EAGAIN is the timeout: loop, look at the flag.
    }
  }
  close(fd);
}

/** Sends all of `data`, across partial sends and timeouts; false when the peer is gone or we stop. */
function sendAll(fd: number, data: Buffer, stop: StopFlag | null): boolean {
  for (let at = 0; at < data.length; ) {
    const n = send(fd, at === 0 ? data : data.subarray(at), data.length - at);
    if (n >= 0) at += n;
    else if (n === -EAGAIN) {
      if (stop?.stopped) return false; // the peer is not reading and we are stopping
    } else if (n !== -EINTR) return false;
  }
  return true;
}

/**
 * Ends a connection the protocol closes (HTTP `Connection: close`, a 400): FIN first, then read and
 * drop what the client still sends for a moment, because close() with unread bytes sends RST, which
 * can destroy the reply still in flight. node:net's socket.end() gives the same FIN-first close.
 */
function lingerClose(fd: number): void {
  shutdownWrite(fd);
  try {
    setIoTimeout(fd, IO_TIMEOUT_MS); // children have no timeout yet; the drain must end
  } catch {
    close(fd);
    return;
  }
  const buf = (recvBuffer ??= Buffer.allocUnsafe(RECV_BYTES));
  const until = Date.now() + LINGER_MS;
  while (Date.now() < until) {
    const n = recv(fd, buf, buf.length);
    if (n === 0 || (n < 0 && n !== -EINTR)) break;
  }
  close(fd);
}

/**
 * Blocks in accept() on `listenFd` until a client arrives and returns its descriptor (blocking, with
 * FD_CLOEXEC, so a spawned child gets only the descriptor handed to it). With a `stop` flag the
 * listener must have an IO timeout (accept honours SO_RCVTIMEO); returns -1 once the flag is set.
 * Running out of descriptors or memory is a limit of the model: reported, then retried after a pause.
 */
export function acceptNext(listenFd: number, stop: StopFlag | null, reportLimit: (reason: string) => void): number {
  for (;;) {
    if (stop?.stopped) return -1;
    const fd = accept(listenFd, false);
    if (fd >= 0) return fd;
    const e = -fd;
    if (e === EAGAIN || e === EINTR || e === ECONNABORTED) continue;
    if (e === EBADF || e === EINVAL) throw new SysError('accept', e); // not a listening socket: a bug
    if (e === EMFILE || e === ENFILE || e === ENOMEM) reportLimit(`accept: ${errnoName(e)}`);
    // Out of resources, or a transient error (ENOBUFS, EPROTO, EPERM): pause rather than spin.
    sleepNs(EXHAUSTED_BACKOFF_NS);
  }
}
