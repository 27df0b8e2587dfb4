// The three readiness interfaces: epoll(7), poll(2) and select(2), over preallocated buffers.
import * as L from './libc.js';
import { SysError } from './errno.js';

// struct epoll_event is packed (12 bytes) on x86-64 only; elsewhere it is naturally aligned (16).
const EV_SIZE = process.arch === 'x64' ? 12 : 16;
const EV_DATA = process.arch === 'x64' ? 4 : 8;

export class Epoll {
  readonly fd: number;
  /** Ready events of the last wait(): read them with eventData(i) / eventMask(i). */
  private readonly events: Buffer;
  private readonly ev = Buffer.alloc(EV_SIZE);
  private readonly ts = Buffer.alloc(16);
  readonly maxEvents: number;

  constructor(maxEvents = 1024) {
    this.fd = L.c.epoll_create1(L.EPOLL_CLOEXEC) as number;
    if (this.fd < 0) throw new SysError('epoll_create1', L.errno());
    this.maxEvents = maxEvents;
    this.events = Buffer.alloc(EV_SIZE * maxEvents);
  }

  /** 0 or -errno. `data` (the descriptor unless given) comes back as eventData(i). */
  ctl(op: number, fd: number, mask: number, data = fd): number {
    this.ev.writeUInt32LE(mask, 0);
    this.ev.writeInt32LE(data, EV_DATA);
    this.ev.writeInt32LE(0, EV_DATA + 4);
    return L.c.epoll_ctl(this.fd, op, fd, this.ev) < 0 ? -L.errno() : 0;
  }

  add(fd: number, mask: number, data = fd): number {
    return this.ctl(L.EPOLL_CTL_ADD, fd, mask, data);
  }

  modify(fd: number, mask: number, data = fd): number {
    return this.ctl(L.EPOLL_CTL_MOD, fd, mask, data);
  }

  remove(fd: number): number {
    return this.ctl(L.EPOLL_CTL_DEL, fd, 0);
  }

  /** Number of ready descriptors (0 on timeout) or -errno. */
  wait(timeoutMs: number): number {
    const n = L.c.epoll_wait(this.fd, this.events, this.maxEvents, timeoutMs) as number;
    return n >= 0 ? n : -L.errno();
  }

  /**
   * Like wait(), with a timeout in microseconds where the kernel and libc offer epoll_pwait2;
   * elsewhere rounded up to whole milliseconds (late wake-ups, never early ones).
   */
  waitUs(timeoutUs: number): number {
    if (L.epollPwait2 === null || timeoutUs <= 0) return this.wait(timeoutUs <= 0 ? 0 : Math.ceil(timeoutUs / 1000));
    const us = Math.ceil(timeoutUs);
    // Two 32-bit halves instead of BigInts: this runs once per loop turn of an open-loop client.
    this.ts.writeUInt32LE(Math.floor(us / 1e6), 0);
    this.ts.writeUInt32LE((us % 1e6) * 1000, 8);
    const n = L.epollPwait2(this.fd, this.events, this.maxEvents, this.ts, null) as number;
    return n >= 0 ? n : -L.errno();
  }

  /** The `data` given to add()/modify() for the i-th ready event (the descriptor by default). */
  eventData(i: number): number {
    return this.events.readInt32LE(i * EV_SIZE + EV_DATA);
  }

  eventMask(i: number): number {
    return this.events.readUInt32LE(i * EV_SIZE);
  }

  close(): void {
    L.c.close(this.fd);
  }
}

/** A growable array of struct pollfd { int fd; short events; short revents; } (8 bytes each). */
export class PollSet {
  private buf = Buffer.alloc(8 * 64);
  length = 0;

  /** Append a descriptor; returns its index. */
  push(fd: number, events: number): number {
    if ((this.length + 1) * 8 > this.buf.length) {
      const next = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(next, 0, 0, this.length * 8);
      this.buf = next;
    }
    const i = this.length++;
    this.buf.writeInt32LE(fd, i * 8);
    this.buf.writeInt16LE(events, i * 8 + 4);
    this.buf.writeInt16LE(0, i * 8 + 6);
    return i;
  }

  /** Remove entry i by moving the last entry into its place (order is not kept). */
  swapRemove(i: number): void {
    const last = --this.length;
    if (i !== last) this.buf.copy(this.buf, i * 8, last * 8, last * 8 + 8);
  }

  fd(i: number): number {
    return this.buf.readInt32LE(i * 8);
  }

  setEvents(i: number, events: number): void {
    this.buf.writeInt16LE(events, i * 8 + 4);
  }

  revents(i: number): number {
    return this.buf.readUInt16LE(i * 8 + 6);
  }

  /** Number of entries with revents set (0 on timeout) or -errno. */
  wait(timeoutMs: number): number {
    const n = L.c.poll(this.buf, this.length, timeoutMs) as number;
    return n >= 0 ? n : -L.errno();
  }
}

/** glibc's fd_set: FD_SETSIZE bits, so descriptors at or above 1024 cannot be represented at all. */
export class FdSet {
  readonly buf = Buffer.alloc(L.FD_SETSIZE / 8);

  set(fd: number): void {
    checkFdSetRange(fd);
    this.buf[fd >> 3]! |= 1 << (fd & 7);
  }

  clear(fd: number): void {
    checkFdSetRange(fd);
    this.buf[fd >> 3]! &= ~(1 << (fd & 7));
  }

  has(fd: number): boolean {
    return (this.buf[fd >> 3]! & (1 << (fd & 7))) !== 0;
  }

  copyFrom(other: FdSet): void {
    other.buf.copy(this.buf);
  }

  zero(): void {
    this.buf.fill(0);
  }
}

function checkFdSetRange(fd: number): void {
  if (fd < 0 || fd >= L.FD_SETSIZE) throw new RangeError(`fd ${fd} is outside select()'s FD_SETSIZE (${L.FD_SETSIZE})`);
}

const timeval = Buffer.alloc(16);

/** select(2) on read and write sets, modified in place; ready count (0 on timeout) or -errno. */
export function select(nfds: number, read: FdSet, write: FdSet | null, timeoutMs: number): number {
  timeval.writeBigInt64LE(BigInt(Math.floor(timeoutMs / 1000)), 0);
  timeval.writeBigInt64LE(BigInt((timeoutMs % 1000) * 1000), 8);
  const n = L.c.select(nfds, read.buf, write ? write.buf : null, null, timeval) as number;
  return n >= 0 ? n : -L.errno();
}

export { FD_SETSIZE, EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP, POLLIN, POLLOUT, POLLERR, POLLHUP, POLLNVAL } from './libc.js';
