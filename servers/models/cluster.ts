// node:cluster with N (--workers) worker processes, each running the async model (cluster-worker.ts):
// the multi-process setup Node users deploy. On Linux the primary accepts every connection and
// hands it round-robin to a worker over IPC (cluster.SCHED_RR, Node's default there). A worker that
// dies while the server runs is replaced, as deployments do with cluster.on('exit').
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { ModelOptions, RunningServer } from '../types.js';
import { workArg } from '../../schema/work.js';
import { ChildSet, howExited } from '../machinery/child-set.js';
import { createLimitReporter, limitReason } from '../machinery/limit-report.js';

const CLUSTER_WORKER = fileURLToPath(new URL('../machinery/cluster-worker.js', import.meta.url));

export async function start(o: ModelOptions): Promise<RunningServer> {
  // Workers are started from compiled JS; they get the protocol, host and port as arguments.
  cluster.setupPrimary({ exec: CLUSTER_WORKER, args: [o.protocol, o.host, String(o.port), workArg(o.work)] });
  const children = new ChildSet();
  const reportLimit = createLimitReporter();
  let stopping = false;
  const stop = (): Promise<void> => {
    stopping = true;
    return children.endAll();
  };

  /** Forks one worker; resolves with its port once it listens, rejects if it exits first. */
  const forkWorker = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      let listening = false;
      children.add(worker.process, reject);
      worker.on('error', reject); // re-emitted from the process; after 'listening' this is a no-op
      worker.once('listening', (address) => {
        listening = true;
        resolve(address.port);
      });
      worker.once('exit', (code, signal) => {
        const how = howExited(code, signal);
        if (!listening) return reject(new Error(`cluster: worker exited (${how}) before listening`));
        // SIGTERM means the group is being stopped; anything else (the OOM killer, a crash) is reported and replaced.
        if (stopping || signal === 'SIGTERM') return;
        reportLimit(`a cluster worker died (${how})`);
        forkWorker().catch((e: unknown) => reportLimit(limitReason('cannot start a replacement cluster worker', e)));
      });
    });

  let ports: number[];
  try {
    ports = await Promise.all(Array.from({ length: o.workers }, forkWorker));
  } catch (e) {
    await stop();
    throw e;
  }
  // listen(0) in every worker shares one port chosen by the primary; anything else is a bug.
  if (new Set(ports).size !== 1) {
    await stop();
    throw new Error(`cluster: workers listen on different ports: ${ports.join(', ')}`);
  }
  return { host: o.host, port: ports[0]!, close: stop };
}
