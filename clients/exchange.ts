// The exchanges on one load thread's connections, one flat handler per event (as wrk's
// socket_connected, socket_readable, response_complete): open a connection, send what the loop
// allows, read, check the bytes, time the answer. It must outrun the fastest server it drives, so
// an exchange makes one recv and one send, allocates nothing for echo and only a subarray per read
// for HTTP, and compares bytes in place. Each event is reported to the window recorder, which
// decides whether it falls inside the window.
import { EAGAIN, EINTR, errnoName } from '../sys/errno.js';
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, type Epoll } from '../sys/readiness.js';
import { close, connectTcp, recv, resetOnClose, send } from '../sys/socket.js';
import { CLOSED, CONNECTING, OPEN, type ConnectionTable } from './connections.js';
import { Phase, type Control } from './control.js';
import type { EngineOptions } from './engine.js';
import { ResponseParser, type Expected } from '../protocols/http-response.js';
import { seededBytes } from './payload.js';
import type { OpenLoopSchedule } from './schedule.js';
import type { WindowRecorder } from './window.js';

export class Exchanges {
  /** The loop's clock (ms, the control's time line): set after each wait and between the events of a batch. */
  now: number;
  phase: Phase = Phase.Connect;
  /** Connections of this thread answered at least once. */
  private servedCount = 0;
  /** The next echo message's stamp: each message differs, so a stale echo is caught. */
  private seq: number;
  private readonly isHttp: boolean;
  private readonly S: number;
  private readonly depth: number;
  /** Echo: one message buffer per slot of the table, stamped when sent. */
  private readonly messages: Buffer[];
  private readonly request: Buffer;
  /** `depth` requests back to back, for a pipelined send. */
  private readonly batch: Buffer;
  private readonly expected: Expected | null;
  private readonly rbuf: Buffer;

  constructor(
    private readonly o: EngineOptions,
    private readonly control: Control,
    private readonly ep: Epoll,
    private readonly table: ConnectionTable,
    private readonly window: WindowRecorder,
    /** Null for closed loop. */
    private readonly schedule: OpenLoopSchedule | null,
  ) {
    const S = (this.S = o.payloadBytes);
    const depth = (this.depth = o.pipeline);
    this.isHttp = o.protocol === 'http';
    this.seq = o.first;
    this.now = control.now();
    this.messages = this.isHttp ? [] : Array.from({ length: o.connections * depth }, (_, k) => seededBytes(S, o.first * depth + k + 1));
    this.request = this.isHttp ? Buffer.from(o.request!) : Buffer.alloc(0);
    this.batch = this.isHttp ? Buffer.concat(Array.from({ length: depth }, () => this.request)) : Buffer.alloc(0);
    this.expected = o.expected ? { status: o.expected.status, body: Buffer.from(o.expected.body) } : null;
    this.rbuf = Buffer.alloc(Math.max(65536, Math.min(S * depth, 1 << 20)));
  }

  open(j: number): void {
    const t = this.table;
    t.connectAt[j] = this.now;
    try {
      t.fd[j] = connectTcp(this.o.host, this.o.port, { nonBlocking: true });
    } catch (e) {
      this.window.error(this.now, (e as { code?: string }).code ?? 'connect');
      return;
    }
    t.state[j] = CONNECTING;
    t.fresh[j] = 1;
    if (this.isHttp) {
      const p: ResponseParser = new ResponseParser(this.expected, (err, closeAfter) => {
        if (t.parser[j] === p) this.onResponse(j, err, closeAfter); // bytes after a close belong to no one
      });
      t.parser[j] = p;
    }
    this.ep.add(t.fd[j]!, EPOLLOUT | EPOLLIN, j);
    t.wantOut[j] = 1;
  }

  /** Ends connection j; its unanswered operations go back to the schedule and are sent again. */
  drop(j: number): void {
    const fd = this.table.fd[j]!;
    if (fd >= 0) {
      this.ep.remove(fd);
      close(fd);
    }
    this.table.reset(j);
  }

  fail(j: number, code: string): void {
    this.window.error(this.now, code);
    this.drop(j);
  }

  /** Sends as many operations as the loop allows: closed loop fills the pipeline, open loop sends what is due. */
  trySend(j: number): void {
    const t = this.table;
    if (t.state[j] !== OPEN || t.outBuf[j] !== null) return;
    const room = this.depth - t.inflight[j]!;
    if (room <= 0) return;
    let m = room;
    if (this.phase === Phase.Connect) m = t.served[j] === 1 || t.inflight[j]! > 0 ? 0 : 1; // one first exchange, then wait
    else if (this.schedule !== null) m = Math.min(room, t.due[j]! - t.sent[j]!);
    if (m <= 0) return;
    const at = this.now;
    const schedule = this.phase !== Phase.Connect ? this.schedule : null;
    for (let q = 0; q < m; q++) {
      const dueAt = schedule !== null ? schedule.dueTime(j, t.sent[j]!) : at;
      if (schedule !== null) this.window.sent(at, dueAt);
      const idx = t.claim(j, at, dueAt);
      if (!this.isHttp) {
        const msg = this.messages[idx]!;
        if (this.S >= 4) msg.writeUInt32LE(this.seq++ >>> 0, 0);
        if (!this.push(j, msg, 0)) return;
      }
    }
    if (this.isHttp) this.push(j, m === 1 ? this.request : this.batch.subarray(0, m * this.request.length), 0);
  }

  /** Writes buf[off..]; keeps what the socket does not take for EPOLLOUT. False when j was dropped or is blocked. */
  push(j: number, buf: Buffer, off: number): boolean {
    const t = this.table;
    const r = send(t.fd[j]!, off === 0 ? buf : buf.subarray(off), buf.length - off);
    if (r < 0 && r !== -EAGAIN) {
      this.fail(j, errnoName(-r));
      return false;
    }
    const next = off + Math.max(r, 0);
    if (next === buf.length) {
      t.outBuf[j] = null;
      if (t.wantOut[j] === 1) this.ep.modify(t.fd[j]!, EPOLLIN, j);
      t.wantOut[j] = 0;
      return true;
    }
    t.outBuf[j] = buf;
    t.outOff[j] = next;
    if (t.wantOut[j] === 0) this.ep.modify(t.fd[j]!, EPOLLIN | EPOLLOUT, j);
    t.wantOut[j] = 1;
    return false;
  }

  /** Readiness of connection j. */
  onEvent(j: number, mask: number): void {
    const t = this.table;
    if (t.state[j] === CONNECTING) {
      if ((mask & (EPOLLERR | EPOLLHUP)) !== 0) return this.fail(j, connectErrorCode(t.fd[j]!));
      t.state[j] = OPEN;
      this.ep.modify(t.fd[j]!, EPOLLIN, j);
      t.wantOut[j] = 0;
      return this.trySend(j);
    }
    if ((mask & EPOLLOUT) !== 0 && t.outBuf[j] !== null) {
      if (this.push(j, t.outBuf[j]!, t.outOff[j]!)) this.trySend(j);
    }
    if (t.state[j] === OPEN && (mask & (EPOLLIN | EPOLLERR | EPOLLHUP)) !== 0) this.onReadable(j);
  }

  private onReadable(j: number): void {
    const t = this.table;
    const r = recv(t.fd[j]!, this.rbuf, this.rbuf.length);
    if (r === -EAGAIN || r === -EINTR) return;
    if (r < 0) return this.fail(j, errnoName(-r));
    if (r === 0) {
      const p = t.parser[j] ?? null;
      const err = p === null ? (t.inflight[j]! > 0 ? 'EOF' : null) : p.eof() ?? (t.inflight[j]! > 0 ? 'EOF' : null);
      if (t.state[j] === OPEN) (err === null ? this.drop(j) : this.fail(j, err));
      return;
    }
    this.window.received(this.now, r);
    if (this.isHttp) {
      const err = t.parser[j]!.feed(this.rbuf, r);
      if (err !== null && t.state[j] === OPEN) this.fail(j, err);
    } else this.echoed(j, r);
    if (t.state[j] === OPEN) this.trySend(j);
  }

  /** Checks r received bytes against the messages in flight, oldest first. */
  private echoed(j: number, r: number): void {
    const t = this.table;
    const S = this.S;
    let at = 0;
    while (at < r) {
      if (t.inflight[j] === 0) return this.fail(j, 'mismatch'); // bytes nobody asked for
      const msg = this.messages[t.oldest(j)]!;
      const off = t.got[j]!;
      const take = Math.min(S - off, r - at);
      if (this.rbuf.compare(msg, off, off + take, at, at + take) !== 0) return this.fail(j, 'mismatch');
      at += take;
      t.got[j] = off + take;
      if (t.got[j] === S) {
        t.got[j] = 0;
        this.onResponse(j, null, false);
      }
    }
  }

  /** The oldest request in flight on j was answered, correctly when err is null. */
  private onResponse(j: number, err: string | null, closeAfter: boolean): void {
    const t = this.table;
    const now = this.now;
    const idx = t.release(j);
    if (t.served[j] === 0) {
      t.served[j] = 1;
      this.servedCount++;
      this.control.served(this.o.thread, this.servedCount, now);
      this.window.connected(now, t.connectAt[j]!, true);
    } else if (t.fresh[j] === 1) this.window.connected(now, t.connectAt[j]!, false); // a reopened connection
    t.fresh[j] = 0;
    this.window.response(now, err, t.dueAt[idx]!, t.sentAt[idx]!);
    if (closeAfter || this.o.churn) {
      this.window.reconnected(now);
      // Echo churn closes first, from the client: a reset leaves no TIME_WAIT holding the client's
      // ports (without tcp_tw_reuse, 28k ports in TIME_WAIT for 60 s allow fewer than 500 connections a second).
      if (this.o.churn && !this.isHttp && t.fd[j]! >= 0) resetOnClose(t.fd[j]!);
      this.drop(j);
      this.open(j);
    }
  }

  /** Open loop: makes every operation due by `now` due on its connection, and sends it if it can. */
  advanceSchedule(): void {
    const schedule = this.schedule!;
    let j = schedule.takeDue(this.now);
    if (j < 0) return;
    for (; j >= 0; j = schedule.takeDue(this.now)) {
      this.table.due[j]!++;
      this.trySend(j);
    }
    schedule.batchSent(this.now);
  }

  // A first exchange may wait for a process or thread to start, so it gets the connect cap, not the
  // per-request timeout: replacing a slow connection would only start yet another worker. That
  // holds for every new connection, the first on its slot or not: in churn each request is one, and
  // process-per-connection at 16 took 1.8–2.0 s to answer each, against a 2 s timeout that failed
  // its default-run cell once in three runs.
  scanTimeouts(): void {
    const t = this.table;
    const now = this.now;
    for (let j = 0; j < t.count; j++) {
      if (t.state[j] === CLOSED) this.open(j);
      else if (t.state[j] === CONNECTING && now - t.connectAt[j]! > this.o.connectCapMs) this.fail(j, 'connect-timeout');
      else if (t.state[j] === OPEN && t.inflight[j]! > 0) {
        const idx = t.oldest(j);
        const limit = t.fresh[j] === 1 ? this.o.connectCapMs : this.o.timeoutMs;
        if (now - t.sentAt[idx]! > limit) {
          this.window.timedOut(now, t.dueAt[idx]!);
          this.fail(j, 'timeout');
        }
      }
    }
  }

  closeAll(): void {
    for (let j = 0; j < this.table.count; j++) if (this.table.fd[j]! >= 0) close(this.table.fd[j]!);
  }
}

// A failed non-blocking connect reports its error through the socket; recv surfaces it.
function connectErrorCode(fd: number): string {
  const r = recv(fd, Buffer.alloc(1), 1);
  return r < 0 ? errnoName(-r) : 'ECONNREFUSED';
}
