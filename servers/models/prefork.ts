// N (--workers) child processes started up front, each blocking in accept() on the inherited
// listening socket and serving that one connection with blocking I/O before it accepts again
// (prefork-child.ts). The kernel wakes one waiting child per connection; with all N busy, the next
// connection waits in the accept backlog. A child that dies while the server runs is replaced.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { close, listenTcp } from '../../sys/socket.js';
import type { ModelOptions, RunningServer } from '../types.js';
import { workArg } from '../../schema/work.js';
import { reportFault } from '../machinery/limit-report.js';
import type { PreforkChildMessage } from '../machinery/blocking-messages.js';
import { ChildSet, howExited } from '../machinery/child-set.js';
import { createLimitReporter, limitReason } from '../machinery/limit-report.js';

const PREFORK_CHILD = fileURLToPath(new URL('../machinery/prefork-child.js', import.meta.url));

export async function start(o: ModelOptions): Promise<RunningServer> {
  const listener = listenTcp(o.host, o.port, { nonBlocking: false });
  const children = new ChildSet();
  const reportLimit = createLimitReporter();
  let stopping = false;
  const stop = async (): Promise<void> => {
    stopping = true;
    await children.endAll();
    close(listener.fd);
  };

  /** Starts one child; resolves when it says it is ready to accept, rejects if it dies first. */
  const startChild = (): Promise<void> =>
    new Promise((resolve, reject) => {
      // The listener becomes the child's fd 3 (libuv dup2()s it there, clearing FD_CLOEXEC);
      // stdout is a pipe for the child's messages.
      const child = spawn(process.execPath, [PREFORK_CHILD, o.protocol, workArg(o.work)], { stdio: ['ignore', 'pipe', 'inherit', listener.fd] });
      let ready = false;
      children.add(child, reject);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = parseChildLine(line);
        if (m?.event === 'limit') reportLimit(m.reason);
        else if (m?.event === 'fault') reportFault(m.reason); // the child's stdout is ours to read: passed on
        else if (m?.event === 'ready') {
          ready = true;
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        const how = howExited(code, signal);
        if (!ready) return reject(new Error(`prefork: child exited (${how}) before it was ready`));
        // SIGTERM means the group is being stopped. Anything else (the OOM killer, a crash) cut a
        // connection and shrank the pool: reported, and the child replaced.
        if (stopping || signal === 'SIGTERM') return;
        reportLimit(`a prefork child died (${how})`);
        startChild().catch((e: unknown) => reportLimit(limitReason('cannot start a replacement child process', e)));
      });
    });

  try {
    await Promise.all(Array.from({ length: o.workers }, startChild));
  } catch (e) {
    await stop();
    throw e;
  }
  return { host: o.host, port: listener.port, close: stop };
}

/** A child's stdout line as a message, or null for anything else (a stray line is not worth a crash). */
function parseChildLine(line: string): PreforkChildMessage | null {
  try {
    const m = JSON.parse(line) as PreforkChildMessage | null;
    return m !== null && typeof m === 'object' ? m : null;
  } catch {
    return null;
  }
}
