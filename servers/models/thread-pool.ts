// A piscina pool of N (--workers) threads; each accepted connection is one task, served with
// blocking I/O inside a pool thread (pool-task.ts) until it closes. With all N threads busy, a new
// connection waits in the pool's FIFO queue: the classic thread-pool limit. The client measures from
// its send, so that wait shows up, as it should, in the first request's latency.
import { Piscina } from 'piscina';
import { close } from '../../sys/socket.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { acceptAndHandOff } from '../machinery/acceptor.js';
import { StopFlag } from '../machinery/blocking-conn.js';
import type { PoolTask } from '../machinery/blocking-messages.js';
import { createLimitReporter, limitReason } from '../machinery/limit-report.js';

const POOL_TASK = new URL('../machinery/pool-task.js', import.meta.url).href;
/** close() waits this long for running tasks (they see the stop flag within IO_TIMEOUT_MS), ms. */
const CLOSE_TIMEOUT_MS = 2000;

export async function start(o: ModelOptions): Promise<RunningServer> {
  const flag = new StopFlag();
  const reportLimit = createLimitReporter();
  const pool = new Piscina<PoolTask, void>({
    filename: POOL_TASK,
    minThreads: o.workers,
    maxThreads: o.workers,
    idleTimeout: Infinity, // a fixed pool: threads never retire
    maxQueue: Infinity, // connections beyond N wait, however many
    concurrentTasksPerWorker: 1, // a task blocks its thread anyway
    closeTimeout: CLOSE_TIMEOUT_MS,
  });
  // Errors outside a task: a pool thread that died (out of memory) is a limit; while stopping, noise.
  pool.on('error', (e: unknown) => {
    if (!flag.stopped) reportLimit(limitReason('a pool thread failed', e));
  });
  const serve = (fd: number): void => {
    if (flag.stopped) return close(fd);
    // A rejection means the thread running the task died; the descriptor is left alone rather than
    // closed here, because the thread may have closed it already and the number been reused since.
    pool.run({ kind: 'serve', fd, protocol: o.protocol, stop: flag.buffer, work: o.work }).catch((e: unknown) => {
      if (!flag.stopped) reportLimit(limitReason('a pool thread failed', e));
    });
  };
  try {
    await warmUp(pool, o.workers);
    return await acceptAndHandOff(o, {
      connection: serve,
      limit: reportLimit,
      stop: () => flag.stop(), // running tasks return within IO_TIMEOUT_MS; queued ones close their socket at once
      drain: () => pool.close(), // not forced: queued tasks still run, see the flag and close their sockets
    });
  } catch (e) {
    await pool.destroy();
    throw e;
  }
}

/**
 * Resolves once all `threads` pool threads are up: piscina marks its first threads ready before they
 * have loaded anything, so N tasks meet at a barrier, which only N distinct threads can pass.
 */
function warmUp(pool: Piscina<PoolTask, void>, threads: number): Promise<unknown> {
  const barrier = new SharedArrayBuffer(4);
  return Promise.all(Array.from({ length: threads }, () => pool.run({ kind: 'warm', barrier, threads })));
}
