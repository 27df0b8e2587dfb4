// One thread waiting in poll(2) on an array of every descriptor: the kernel scans the whole array on
// every call, and so does the loop looking for the ready entries.
import { EINTR, SysError } from '../../sys/errno.js';
import { PollSet, POLLIN, POLLOUT } from '../../sys/readiness.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { fdSlots, READ, serveFds, WRITE, type Connections, type Readiness, type WatchMode } from '../machinery/fd-loop.js';

const WAIT_MS = 20;

class PollReadiness implements Readiness {
  private readonly set = new PollSet();
  /** Index of each descriptor's entry in `set`, -1 when it has none. */
  private index: Int32Array = new Int32Array(1024).fill(-1);
  constructor(private readonly conns: Connections) {}

  add(fd: number): boolean {
    this.index = fdSlots(this.index, fd);
    this.index[fd] = this.set.push(fd, POLLIN);
    return true;
  }

  watch(fd: number, mode: WatchMode): void {
    this.set.setEvents(this.index[fd]!, mode === READ ? POLLIN : mode === WRITE ? POLLOUT : 0);
  }

  remove(fd: number): void {
    const i = this.index[fd]!;
    const moved = this.set.fd(this.set.length - 1);
    this.set.swapRemove(i);
    this.index[moved] = i;
    this.index[fd] = -1;
  }

  turn(timeoutMs: number): boolean {
    const set = this.set;
    const n = set.wait(timeoutMs);
    if (n <= 0) {
      if (n === 0 || n === -EINTR) return true;
      throw new SysError('poll', -n);
    }
    // Downwards, so a removal (which moves the last entry into the hole) only moves an entry that was
    // already looked at; entries accepted meanwhile are appended and wait for the next call.
    let left = n;
    for (let i = set.length - 1; i >= 0 && left > 0; i--) {
      if (set.revents(i) === 0) continue;
      left--;
      this.conns.ready(set.fd(i));
    }
    return false;
  }

  close(): void {}
}

export function start(o: ModelOptions): Promise<RunningServer> {
  return serveFds(o, (conns) => new PollReadiness(conns), WAIT_MS);
}
