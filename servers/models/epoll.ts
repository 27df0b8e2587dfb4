// One thread waiting in epoll_wait(2), level-triggered: the kernel keeps the interest list, so a
// wait costs the number of ready sockets, not the number of connections.
import { EINTR, SysError } from '../../sys/errno.js';
import { Epoll, EPOLLIN, EPOLLOUT } from '../../sys/readiness.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { READ, serveFds, WRITE, type Connections, type Readiness, type WatchMode } from '../machinery/fd-loop.js';

const WAIT_MS = 20;

class EpollReadiness implements Readiness {
  private readonly ep = new Epoll(1024);
  constructor(private readonly conns: Connections) {}

  add(fd: number): boolean {
    return this.ep.add(fd, EPOLLIN) === 0;
  }

  watch(fd: number, mode: WatchMode): void {
    this.ep.modify(fd, mode === READ ? EPOLLIN : mode === WRITE ? EPOLLOUT : 0);
  }

  remove(): void {
    // close() takes a descriptor out of the interest list; an EPOLL_CTL_DEL would be a wasted call.
  }

  turn(timeoutMs: number): boolean {
    const ep = this.ep;
    const n = ep.wait(timeoutMs);
    if (n <= 0) {
      if (n === 0 || n === -EINTR) return true;
      throw new SysError('epoll_wait', -n);
    }
    for (let k = 0; k < n; k++) this.conns.ready(ep.eventData(k));
    return false;
  }

  close(): void {
    this.ep.close();
  }
}

export function start(o: ModelOptions): Promise<RunningServer> {
  return serveFds(o, (conns) => new EpollReadiness(conns), WAIT_MS);
}
