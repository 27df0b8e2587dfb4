// One thread waiting in select(2) on fd_set bitmaps copied from master sets every round. An fd_set
// holds descriptors below FD_SETSIZE (1024) only: a connection that gets a higher descriptor cannot
// be watched at all, so it is closed at once and counted, and the server reports the limit.
import { EINTR, SysError } from '../../sys/errno.js';
import { FD_SETSIZE, FdSet, select } from '../../sys/readiness.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { NONE, READ, serveFds, WRITE, type Connections, type Readiness, type WatchMode } from '../machinery/fd-loop.js';

const WAIT_MS = 20;

class SelectReadiness implements Readiness {
  private readonly readMaster = new FdSet();
  private readonly writeMaster = new FdSet();
  private readonly readSet = new FdSet();
  private readonly writeSet = new FdSet();
  /** Highest descriptor in either master set, -1 when both are empty. */
  private maxFd = -1;
  constructor(private readonly conns: Connections) {}

  add(fd: number): boolean {
    if (fd >= FD_SETSIZE) return false;
    this.readMaster.set(fd);
    if (fd > this.maxFd) this.maxFd = fd;
    return true;
  }

  watch(fd: number, mode: WatchMode): void {
    this.readMaster.clear(fd);
    this.writeMaster.clear(fd);
    if (mode === READ) this.readMaster.set(fd);
    else if (mode === WRITE) this.writeMaster.set(fd);
    // remove() may have lowered maxFd past a descriptor watched for nothing meanwhile.
    if (mode !== NONE && fd > this.maxFd) this.maxFd = fd;
  }

  remove(fd: number): void {
    this.readMaster.clear(fd);
    this.writeMaster.clear(fd);
    while (this.maxFd >= 0 && !this.readMaster.has(this.maxFd) && !this.writeMaster.has(this.maxFd)) this.maxFd--;
  }

  turn(timeoutMs: number): boolean {
    this.readSet.copyFrom(this.readMaster);
    this.writeSet.copyFrom(this.writeMaster);
    const n = select(this.maxFd + 1, this.readSet, this.writeSet, timeoutMs);
    if (n <= 0) {
      if (n === 0 || n === -EINTR) return true;
      throw new SysError('select', -n);
    }
    // Scan the returned bitmaps a byte at a time; most bytes are zero under light load.
    const r = this.readSet.buf;
    const w = this.writeSet.buf;
    const lastByte = this.maxFd >> 3;
    for (let b = 0; b <= lastByte; b++) {
      const bits = r[b]! | w[b]!;
      if (bits === 0) continue;
      for (let bit = 0; bit < 8; bit++) if ((bits & (1 << bit)) !== 0) this.conns.ready((b << 3) | bit);
    }
    return false;
  }

  close(): void {}

  refusedReason(refused: number): string {
    return `select() cannot watch descriptor ${FD_SETSIZE} or above (FD_SETSIZE); ${refused} connection${refused === 1 ? '' : 's'} refused`;
  }
}

export function start(o: ModelOptions): Promise<RunningServer> {
  return serveFds(o, (conns) => new SelectReadiness(conns), WAIT_MS);
}
