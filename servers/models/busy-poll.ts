// One thread spinning over non-blocking sockets: try accept, then try every connection (recv, or
// send when a reply waits), moving on at EAGAIN, forever. Nothing ever sleeps, so it burns a full
// core even when idle; every connection costs a system call on every pass whether it is ready or not.
import type { ModelOptions, RunningServer } from '../types.js';
import { fdSlots, serveFds, type Connections, type Readiness } from '../machinery/fd-loop.js';

class BusyPollReadiness implements Readiness {
  /** Every connection's descriptor, densely packed; the listener is tried separately. */
  private fds = new Int32Array(1024);
  private count = 0;
  /** Position of each descriptor in `fds`, -1 when absent. */
  private index: Int32Array = new Int32Array(1024).fill(-1);
  constructor(private readonly conns: Connections) {}

  add(fd: number): boolean {
    if (fd === this.conns.listenFd) return true;
    if (this.count === this.fds.length) {
      const next = new Int32Array(this.fds.length * 2);
      next.set(this.fds);
      this.fds = next;
    }
    this.index = fdSlots(this.index, fd);
    this.index[fd] = this.count;
    this.fds[this.count++] = fd;
    return true;
  }

  watch(): void {
    // Nothing to watch: every connection is tried on every pass anyway.
  }

  remove(fd: number): void {
    const i = this.index[fd]!;
    const moved = this.fds[--this.count]!;
    this.fds[i] = moved;
    this.index[moved] = i;
    this.index[fd] = -1;
  }

  /** One pass; never reports idle, so the driver yields on wall time only and the spin never stops. */
  turn(): boolean {
    const conns = this.conns;
    conns.ready(conns.listenFd);
    // Downwards, so a removal only moves an entry that was already tried this pass.
    for (let i = this.count - 1; i >= 0; i--) conns.ready(this.fds[i]!);
    return false;
  }

  close(): void {}
}

export function start(o: ModelOptions): Promise<RunningServer> {
  return serveFds(o, (conns) => new BusyPollReadiness(conns), 0);
}
