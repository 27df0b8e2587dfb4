// The thread-pool task, run inside a piscina thread: serve one connection with blocking I/O, or
// (at start-up) wait at the barrier that proves every pool thread is running.
import { BlockingBackend } from './backend-blocking.js';
import { beforeReply, serveConnection, StopFlag, type BeforeReply } from './blocking-conn.js';
import type { PoolTask } from './blocking-messages.js';

// Pooled: one backend connection per pool thread (module state is per thread), kept across tasks.
let before: BeforeReply | undefined;

/** A warm-up task gives up waiting for the others after this long, ms (start-up then fails). */
const BARRIER_TIMEOUT_MS = 15_000;

export default function run(task: PoolTask): void {
  if (task.kind === 'serve') {
    before ??= beforeReply(task.work, BlockingBackend.from(task.work));
    return serveConnection(task.fd, task.protocol, new StopFlag(task.stop), before);
  }
  const arrived = new Int32Array(task.barrier);
  Atomics.add(arrived, 0, 1);
  Atomics.notify(arrived, 0);
  const until = Date.now() + BARRIER_TIMEOUT_MS;
  for (let n = Atomics.load(arrived, 0); n < task.threads; n = Atomics.load(arrived, 0)) {
    if (Date.now() >= until) throw new Error(`thread-pool: only ${n} of ${task.threads} pool threads started`);
    Atomics.wait(arrived, 0, n, 100);
  }
}
