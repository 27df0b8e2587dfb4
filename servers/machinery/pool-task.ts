// The thread-pool task, run inside a piscina thread: the blocking part of one request (the backend
// query this thread blocks in, or the CPU it burns), or (at start-up) the barrier that proves every
// pool thread is running.
import { BlockingBackend } from './backend-blocking.js';
import { beforeReply, StopFlag, type BeforeReply } from './blocking-conn.js';
import type { PoolTask } from './blocking-messages.js';

// Pooled: one backend connection per pool thread (module state is per thread), kept across requests,
// as each ThreadPoolExecutor thread keeps its own psycopg2 connection.
let before: BeforeReply | undefined;
let stop: StopFlag | undefined;

/** A warm-up task gives up waiting for the others after this long, ms (start-up then fails). */
const BARRIER_TIMEOUT_MS = 15_000;

/** A request: null once its work is done, or the fault that ends its connection. */
export default function run(task: PoolTask): string | null {
  if (task.kind === 'request') {
    stop ??= new StopFlag(task.stop);
    if (stop.stopped) return null; // queued when the server began to stop: its connection is gone
    before ??= beforeReply(task.work, BlockingBackend.from(task.work));
    return before === null ? null : before(stop);
  }
  const arrived = new Int32Array(task.barrier);
  Atomics.add(arrived, 0, 1);
  Atomics.notify(arrived, 0);
  const until = Date.now() + BARRIER_TIMEOUT_MS;
  for (let n = Atomics.load(arrived, 0); n < task.threads; n = Atomics.load(arrived, 0)) {
    if (Date.now() >= until) throw new Error(`thread-pool: only ${n} of ${task.threads} pool threads started`);
    Atomics.wait(arrived, 0, n, 100);
  }
  return null;
}
