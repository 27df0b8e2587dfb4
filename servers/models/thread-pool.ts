// The write-ups' thread pool (waitress, Tomcat, a ThreadPoolExecutor behind a listener): the main
// thread accepts and reads every connection on Node's event loop, and each complete request goes
// to a piscina pool of N (--workers) threads through its FIFO queue; a pool thread blocks in the
// request's work (the backend query on its own connection, or the CPU) and the main thread sends
// the reply. So at most N requests are in their work at once and the rest queue: none is refused,
// each waits its turn, and that wait is in its latency. Every request goes through the queue, work
// or none, as in the Python pool (examples/servers/threadpool_server.py), so the round trip to a
// thread and back is part of what this model costs.
import { Piscina } from 'piscina';
import type { ModelOptions, RunningServer } from '../types.js';
import { serveAsync, type AsyncGate } from '../machinery/async-serve.js';
import { StopFlag } from '../machinery/blocking-conn.js';
import type { PoolTask } from '../machinery/blocking-messages.js';
import { createLimitReporter, limitReason } from '../machinery/limit-report.js';

const POOL_TASK = new URL('../machinery/pool-task.js', import.meta.url).href;
/** close() waits this long for running requests (they see the stop flag within IO_TIMEOUT_MS), ms. */
const CLOSE_TIMEOUT_MS = 2000;

export async function start(o: ModelOptions): Promise<RunningServer> {
  const flag = new StopFlag();
  const reportLimit = createLimitReporter();
  const pool = new Piscina<PoolTask, string | null>({
    filename: POOL_TASK,
    minThreads: o.workers,
    maxThreads: o.workers,
    idleTimeout: Infinity, // a fixed pool: threads never retire
    maxQueue: Infinity, // requests beyond N wait, however many (each connection has at most one queued)
    concurrentTasksPerWorker: 1, // a request blocks its thread
    closeTimeout: CLOSE_TIMEOUT_MS,
  });
  // Errors outside a task: a pool thread that died (out of memory) is a limit; while stopping, noise.
  pool.on('error', (e: unknown) => {
    if (!flag.stopped) reportLimit(limitReason('a pool thread failed', e));
  });
  const task: PoolTask = { kind: 'request', work: o.work, stop: flag.buffer };
  // Never rejects: serveAsync awaits the gate and sends the reply (or ends the connection on a fault).
  const gate: AsyncGate = () => pool.run(task).then(
    (fault) => fault,
    (e: unknown) => (flag.stopped ? null : limitReason('a pool thread failed', e)),
  );
  try {
    await warmUp(pool, o.workers);
    const server = await serveAsync(o, gate);
    return {
      ...server,
      close: async () => {
        flag.stop(); // queued requests return at once; running ones within IO_TIMEOUT_MS
        await server.close();
        await pool.close({ force: true });
      },
    };
  } catch (e) {
    await pool.destroy();
    throw e;
  }
}

/**
 * Resolves once all `threads` pool threads are up: piscina marks its first threads ready before they
 * have loaded anything, so N tasks meet at a barrier, which only N distinct threads can pass.
 */
function warmUp(pool: Piscina<PoolTask, string | null>, threads: number): Promise<unknown> {
  const barrier = new SharedArrayBuffer(4);
  return Promise.all(Array.from({ length: threads }, () => pool.run({ kind: 'warm', barrier, threads })));
}
