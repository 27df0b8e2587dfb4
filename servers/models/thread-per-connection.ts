// One new worker thread per connection: the acceptor thread hands each accepted descriptor to the
// main thread, which starts a worker (connection-thread.ts) with the descriptor number in its
// workerData (descriptors are process-wide); the worker serves it with blocking recv/send and ends
// when it closes. The price is a V8 isolate (MiBs, tens of ms to start) per client.
import { Worker } from 'node:worker_threads';
import type { Protocol } from '../../schema/catalog.js';
import type { Work } from '../../schema/work.js';
import { close } from '../../sys/socket.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { acceptAndHandOff } from '../machinery/acceptor.js';
import { StopFlag } from '../machinery/blocking-conn.js';
import type { ConnectionThreadData } from '../machinery/blocking-messages.js';
import { createLimitReporter, limitReason, type LimitReporter } from '../machinery/limit-report.js';

const CONNECTION_THREAD = new URL('../machinery/connection-thread.js', import.meta.url);
/** Threads see the stop flag within IO_TIMEOUT_MS; the rest are terminated after this, ms. */
const STOP_GRACE_MS = 1500;

export function start(o: ModelOptions): Promise<RunningServer> {
  const flag = new StopFlag();
  const threads = new Map<Worker, Promise<void>>();
  const reportLimit = createLimitReporter();
  return acceptAndHandOff(o, {
    connection: (fd) => (flag.stopped ? close(fd) : startThread(fd, o.protocol, o.work, flag, threads, reportLimit)),
    limit: reportLimit,
    stop: () => flag.stop(), // every thread returns from recv/send within IO_TIMEOUT_MS and closes its socket
    drain: () => endThreads(threads),
  });
}

/**
 * Starts a thread serving `fd`. A thread that cannot be started (ERR_WORKER_INIT_FAILED,
 * ERR_WORKER_OUT_OF_MEMORY: thrown, or an 'error' before the thread ran any code) is a limit of the
 * model: the connection is closed and the reason reported once.
 */
function startThread(fd: number, protocol: Protocol, work: Work, flag: StopFlag, threads: Map<Worker, Promise<void>>, reportLimit: LimitReporter): void {
  const failed = (e: unknown): void => {
    close(fd); // the thread never ran, so the descriptor is still ours
    reportLimit(limitReason('cannot start a worker thread', e));
  };
  const data: ConnectionThreadData = { fd, protocol, stop: flag.buffer, work };
  let thread: Worker;
  try {
    thread = new Worker(CONNECTION_THREAD, { workerData: data });
  } catch (e) {
    return failed(e);
  }
  let online = false;
  thread.once('online', () => (online = true));
  thread.on('error', (e) => {
    if (!online) return failed(e);
    // The thread ran out of heap (ERR_WORKER_OUT_OF_MEMORY) while it served. Its descriptor is left
    // alone: the thread may have closed it already and the number been reused since.
    reportLimit(limitReason('a connection thread failed', e));
  });
  const gone = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  threads.set(thread, gone);
  void gone.then(() => threads.delete(thread));
}

async function endThreads(threads: Map<Worker, Promise<void>>): Promise<void> {
  const all = Promise.all(threads.values());
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), STOP_GRACE_MS)));
  if ((await Promise.race([all, late])) === 'late') await Promise.all([...threads.keys()].map((t) => t.terminate()));
  clearTimeout(timer);
}
