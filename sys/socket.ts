// TCP sockets on raw descriptors. Hot calls return n >= 0 or -errno; set-up calls throw SysError.
import * as L from './libc.js';
import { EINPROGRESS, EINTR, SysError } from './errno.js';

/** struct sockaddr_in for host:port (16 bytes). */
export function sockaddrIn(host: string, port: number): Buffer {
  const parts = host.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new SysError(`address ${host} (IPv4 dotted quad expected)`, 22);
  }
  const sa = Buffer.alloc(16);
  sa.writeUInt16LE(L.AF_INET, 0); // sa_family is host order
  sa.writeUInt16BE(port, 2); // sin_port is network order
  for (let i = 0; i < 4; i++) sa[4 + i] = parts[i]!;
  return sa;
}

function setIntOption(fd: number, level: number, name: number, value: number): void {
  const v = Buffer.alloc(4);
  v.writeInt32LE(value, 0);
  if (L.c.setsockopt(fd, level, name, v, 4) < 0) throw new SysError('setsockopt', L.errno());
}

export function setNoDelay(fd: number): void {
  setIntOption(fd, L.IPPROTO_TCP, L.TCP_NODELAY, 1);
}

/** Timeout for blocking recv/send on this socket, so a blocked thread can notice shutdown. */
export function setIoTimeout(fd: number, ms: number): void {
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  tv.writeBigInt64LE(BigInt((ms % 1000) * 1000), 8);
  for (const name of [L.SO_RCVTIMEO, L.SO_SNDTIMEO]) {
    if (L.c.setsockopt(fd, L.SOL_SOCKET, name, tv, 16) < 0) throw new SysError('setsockopt', L.errno());
  }
}

export interface Listener {
  fd: number;
  port: number;
}

/** socket + SO_REUSEADDR + bind + listen; port 0 asks the kernel for a free port. */
export function listenTcp(host: string, port: number, options: { nonBlocking: boolean; backlog?: number }): Listener {
  const type = L.SOCK_STREAM | L.SOCK_CLOEXEC | (options.nonBlocking ? L.SOCK_NONBLOCK : 0);
  const fd = L.c.socket(L.AF_INET, type, 0) as number;
  if (fd < 0) throw new SysError('socket', L.errno());
  try {
    setIntOption(fd, L.SOL_SOCKET, L.SO_REUSEADDR, 1);
    const sa = sockaddrIn(host, port);
    if (L.c.bind(fd, sa, 16) < 0) throw new SysError(`bind ${host}:${port}`, L.errno());
    if (L.c.listen(fd, options.backlog ?? 4096) < 0) throw new SysError('listen', L.errno());
    return { fd, port: localPort(fd) };
  } catch (e) {
    L.c.close(fd);
    throw e;
  }
}

export function localPort(fd: number): number {
  const sa = Buffer.alloc(16);
  const len = [16];
  if (L.c.getsockname(fd, sa, len) < 0) throw new SysError('getsockname', L.errno());
  return sa.readUInt16BE(2);
}

/** A connected socket (non-blocking when asked, then the connect may still be in progress). */
export function connectTcp(host: string, port: number, options: { nonBlocking: boolean }): number {
  const type = L.SOCK_STREAM | L.SOCK_CLOEXEC | (options.nonBlocking ? L.SOCK_NONBLOCK : 0);
  const fd = L.c.socket(L.AF_INET, type, 0) as number;
  if (fd < 0) throw new SysError('socket', L.errno());
  const sa = sockaddrIn(host, port);
  for (;;) {
    if (L.c.connect(fd, sa, 16) === 0) break;
    const e = L.errno();
    if (e === EINTR) continue;
    if (e === EINPROGRESS && options.nonBlocking) break;
    L.c.close(fd);
    throw new SysError(`connect ${host}:${port}`, e);
  }
  setNoDelay(fd);
  return fd;
}

const ACCEPT_FLAGS_NB = L.SOCK_NONBLOCK | L.SOCK_CLOEXEC;

/** New connection's descriptor, or -errno (-EAGAIN when none is waiting on a non-blocking listener). */
export function accept(listenFd: number, nonBlocking: boolean): number {
  const fd = L.c.accept4(listenFd, null, null, nonBlocking ? ACCEPT_FLAGS_NB : L.SOCK_CLOEXEC) as number;
  return fd >= 0 ? fd : -L.errno();
}

/** Bytes received (0 at end of stream) or -errno. */
export function recv(fd: number, buf: Buffer, len: number): number {
  const n = L.c.recv(fd, buf, len, 0) as number;
  return n >= 0 ? n : -L.errno();
}

/** Bytes sent or -errno; never raises SIGPIPE (a closed peer gives -EPIPE). */
export function send(fd: number, buf: Buffer, len: number): number {
  const n = L.c.send(fd, buf, len, L.MSG_NOSIGNAL) as number;
  return n >= 0 ? n : -L.errno();
}

const lingerZero = Buffer.alloc(8);
lingerZero.writeInt32LE(1, 0); // l_onoff = 1, l_linger = 0

/** Makes the next close() send a reset instead of a FIN: no TIME_WAIT is left on this side. */
export function resetOnClose(fd: number): void {
  L.c.setsockopt(fd, L.SOL_SOCKET, L.SO_LINGER, lingerZero, 8);
}

/** A new, unconnected TCP socket (blocking, close-on-exec), for a connect submitted elsewhere (io_uring). */
export function tcpSocket(): number {
  const fd = L.c.socket(L.AF_INET, L.SOCK_STREAM | L.SOCK_CLOEXEC, 0) as number;
  return fd >= 0 ? fd : -L.errno();
}

/** Ends both directions: any recv still waiting on the socket (an io_uring one too) completes at once. */
export function shutdownBoth(fd: number): void {
  L.c.shutdown(fd, 2); // SHUT_RDWR
}

export function shutdownWrite(fd: number): void {
  L.c.shutdown(fd, L.SHUT_WR);
}

export function close(fd: number): void {
  L.c.close(fd);
}

/** Sleep this thread (not the event loop's timers: the whole thread) for `ns` nanoseconds. */
export function sleepNs(ns: number): void {
  const ts = Buffer.alloc(16);
  ts.writeBigInt64LE(BigInt(Math.floor(ns / 1e9)), 0);
  ts.writeBigInt64LE(BigInt(ns % 1e9), 8);
  L.c.nanosleep(ts, null);
}

const cpuTs = Buffer.alloc(16);

/** CPU time the calling thread has used, seconds (CLOCK_THREAD_CPUTIME_ID): one worker's own cost. */
export function threadCpuS(): number {
  if (L.c.clock_gettime(L.CLOCK_THREAD_CPUTIME_ID, cpuTs) < 0) return NaN;
  return Number(cpuTs.readBigInt64LE(0)) + Number(cpuTs.readBigInt64LE(8)) / 1e9;
}

/**
 * How late the kernel may wake this thread from a timed wait, ns (50 µs by default, to batch
 * wake-ups). An open-loop client that must send on time sets it to 1 µs.
 */
export function setTimerSlackNs(ns: number): void {
  L.c.prctl(L.PR_SET_TIMERSLACK, ns, 0, 0, 0);
}
