// Node's event loop handing CPU work to a piscina pool of --workers threads and awaiting it: the
// run_in_executor pattern. The loop stays free for I/O while the pool spreads the work over cores;
// the cost is a message to a thread and back per request. Backend queries (io-wait) are awaited on
// the loop as in async: offloading is for CPU.
import { Piscina } from 'piscina';
import type { ModelOptions, RunningServer } from '../types.js';
import { loopGate, serveAsync, type AsyncGate } from '../machinery/async-serve.js';

const OFFLOAD_TASK = new URL('../machinery/offload-task.js', import.meta.url).href;

export async function start(o: ModelOptions): Promise<RunningServer> {
  if (o.work.kind !== 'cpu') {
    const { gate, close } = loopGate(o.work);
    const server = await serveAsync(o, gate);
    return { ...server, close: () => server.close().finally(close) };
  }
  const pool = new Piscina<number, number>({ filename: OFFLOAD_TASK, minThreads: o.workers, maxThreads: o.workers, idleTimeout: Infinity });
  const iterations = o.work.iterations;
  // Every thread started and the task compiled before the first client arrives.
  await Promise.all(Array.from({ length: o.workers }, () => pool.run(1)));
  const gate: AsyncGate = () => pool.run(iterations).then(
    () => null,
    (e: Error) => `the offload pool failed (${e.message})`,
  );
  const server = await serveAsync(o, gate);
  return { ...server, close: () => server.close().finally(() => pool.destroy()) };
}
