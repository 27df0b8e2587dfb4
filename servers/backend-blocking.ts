// The backend query as a blocking model makes it: the thread (or process) blocks in recv() on its
// backend socket for the whole wait, and holds its connection for that long. One socket per thread
// or process when pooled; a connect, query and close per request otherwise.
import { EAGAIN, EINTR, errnoName, SysError } from './sys/errno.js';
import { close, connectTcp, recv, send, setIoTimeout } from './sys/socket.js';
import { ANSWER_BYTES, BACKEND_TIMEOUT_MS, checkAnswer, queryBytes, type Work } from './work.js';

/** How long one blocked recv waits before the caller's stop flag is looked at, ms. */
const POLL_MS = 200;

export class BlockingBackend {
  private fd = -1;
  private id = 0;
  private readonly answer = Buffer.alloc(ANSWER_BYTES);

  constructor(
    private readonly port: number,
    private readonly perRequest: boolean,
  ) {}

  static from(work: Work): BlockingBackend | null {
    return work.kind === 'io-wait' ? new BlockingBackend(work.backendPort, work.connections === 'per-request') : null;
  }

  /**
   * One query, answered: null; otherwise what went wrong (the caller reports it and ends its
   * connection). `stopped` is looked at between timed waits, so a stopping server is not held.
   */
  query(stopped: () => boolean = () => false): string | null {
    try {
      if (this.fd < 0) {
        this.fd = connectTcp('127.0.0.1', this.port, { nonBlocking: false });
        setIoTimeout(this.fd, POLL_MS);
      }
    } catch (e) {
      return `cannot connect to the backend: ${e instanceof SysError ? e.message : String(e)}`;
    }
    const q = queryBytes(++this.id);
    const fault = this.exchange(q, stopped);
    if (fault !== null || this.perRequest) this.close();
    return fault;
  }

  private exchange(q: Buffer, stopped: () => boolean): string | null {
    const fd = this.fd;
    for (let at = 0; at < q.length; ) {
      const n = send(fd, at === 0 ? q : q.subarray(at), q.length - at);
      if (n >= 0) at += n;
      else if (n !== -EINTR && n !== -EAGAIN) return `backend send failed (${errnoName(-n)})`;
    }
    const until = Date.now() + BACKEND_TIMEOUT_MS;
    for (let at = 0; at < ANSWER_BYTES; ) {
      const n = recv(fd, at === 0 ? this.answer : this.answer.subarray(at), ANSWER_BYTES - at);
      if (n > 0) at += n;
      else if (n === 0) return 'the backend closed its connection mid-query';
      else if (n === -EAGAIN || n === -EINTR) {
        if (stopped()) return null; // stopping: the answer no longer matters, and no fault either
        if (Date.now() > until) return `the backend did not answer within ${BACKEND_TIMEOUT_MS} ms`;
      } else return `backend recv failed (${errnoName(-n)})`;
    }
    return checkAnswer(q, this.answer);
  }

  close(): void {
    if (this.fd >= 0) close(this.fd);
    this.fd = -1;
  }
}
